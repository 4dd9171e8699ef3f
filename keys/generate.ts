// A new signing key for an emitter: the private JWK goes to the emitter (and
// nowhere else), the public half into the registry the processor verifies with.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { registerKey, type RegisteredKey } from './registry.js';

// `Ed25519` is RFC 9864's fully specified name for EdDSA over Ed25519; the key is the same.
export type SigningAlg = 'EdDSA' | 'Ed25519' | 'ES256';

export interface GeneratedKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function generateEmitterKey(alg: SigningAlg = 'EdDSA'): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg === 'ES256' ? 'ES256' : 'EdDSA', { crv: alg === 'ES256' ? undefined : 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  // RFC 7638 thumbprint: a kid derived from the key itself cannot collide by accident.
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' },
  };
}

export async function generateAndRegister(registryFile: string, emitter: string, alg: SigningAlg = 'EdDSA'): Promise<GeneratedKey> {
  const key = await generateEmitterKey(alg);
  registerKey(registryFile, emitter, {
    kid: key.kid,
    alg,
    state: 'active',
    created_at: new Date().toISOString(),
    public_jwk: key.publicJwk as RegisteredKey['public_jwk'],
  });
  return key;
}
