// Rotation, revocation and listing of emitter keys (`actorlog keys ...`).
import { ActorlogError } from '../lib/errors.js';
import { generateAndRegister, type GeneratedKey, type SigningAlg } from './generate.js';
import { readRegistry, updateEmitterKeys, type RegisteredKey } from './registry.js';

// A new active key; every key that was active becomes retired now, so events
// it signed before stay verifiable and nothing new verifies with it.
export async function rotateKey(file: string, emitter: string, alg: SigningAlg = 'EdDSA', now = new Date()): Promise<GeneratedKey> {
  const retiredAt = now.toISOString();
  updateEmitterKeys(file, emitter, (keys) =>
    keys.map((k) => (k.state === 'active' ? { ...k, state: 'retired', retired_at: retiredAt } : k)),
  );
  return generateAndRegister(file, emitter, alg);
}

export function revokeKey(file: string, emitter: string, kid: string, at = new Date()): RegisteredKey {
  let revoked: RegisteredKey | undefined;
  updateEmitterKeys(file, emitter, (keys) =>
    keys.map((k) => {
      if (k.kid !== kid) return k;
      revoked = { ...k, state: 'revoked', revoked_at: at.toISOString() };
      return revoked;
    }),
  );
  if (!revoked) throw new ActorlogError('BAD_REQUEST', `no key ${kid} is registered for ${emitter}`);
  return revoked;
}

export interface KeyListing extends Omit<RegisteredKey, 'public_jwk'> {
  emitter: string;
}

export function listKeys(file: string, emitter?: string): KeyListing[] {
  const registry = readRegistry(file);
  return Object.entries(registry.emitters)
    .filter(([name]) => emitter === undefined || name === emitter)
    .flatMap(([name, entry]) => entry.keys.map(({ public_jwk: _publicJwk, ...key }) => ({ emitter: name, ...key })));
}
