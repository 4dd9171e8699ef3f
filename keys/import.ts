// Registers an existing public JWK for an emitter: for keys held in a KMS or
// HSM, whose private half never leaves it. Refuses private material, key
// types actorlog does not verify, and JWKs that are not a usable key.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { ALLOWED_ALGS, type SignatureAlg } from '../schemas/event.js';
import { ActorlogError } from '../lib/errors.js';
import { registerKey, setEmitterTenants, type RegisteredKey } from './registry.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export interface ImportedKey {
  emitter: string;
  kid: string;
  alg: SignatureAlg;
}

// The public signing key a JWK describes, as the registry keeps it, or why
// it is not one: private members, key types actorlog does not verify, an alg
// that does not fit the key, or material that is not a usable key.
export function publicSigningJwk(jwk: Record<string, unknown>, algOption?: string): { publicJwk: JsonWebKey; alg: SignatureAlg } | { refused: string } {
  const secret = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (secret.length > 0) return { refused: `the JWK carries private members (${secret.join(', ')}); import the public half only` };
  const okp = jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string';
  const ec = jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string';
  if (!okp && !ec) return { refused: 'the JWK must be an Ed25519 (kty OKP) or P-256 (kty EC) public key' };
  const alg = algOption ?? (typeof jwk.alg === 'string' ? jwk.alg : okp ? 'EdDSA' : 'ES256');
  if (!(ALLOWED_ALGS as readonly string[]).includes(alg) || (alg === 'ES256') !== ec) {
    return { refused: `alg ${alg} does not fit a ${String(jwk.kty)}/${String(jwk.crv)} key (Ed25519: EdDSA or Ed25519; P-256: ES256)` };
  }
  const publicJwk: JsonWebKey = okp ? { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string } : { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string };
  try {
    createPublicKey({ key: publicJwk, format: 'jwk' });
  } catch (err) {
    return { refused: `not a usable public key: ${(err as Error).message}` };
  }
  return { publicJwk, alg: alg as SignatureAlg };
}

export async function importPublicJwk(
  file: string,
  emitter: string,
  jwk: Record<string, unknown>,
  options: { alg?: string; tenants?: string[] } = {},
): Promise<ImportedKey> {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw new ActorlogError('BAD_REQUEST', 'the key must be one JWK object');
  const usable = publicSigningJwk(jwk, options.alg);
  if ('refused' in usable) throw new ActorlogError('BAD_REQUEST', usable.refused);
  const { publicJwk, alg } = usable;
  // RFC 7638 thumbprint unless the KMS named the key itself.
  const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid.slice(0, 256) : await calculateJwkThumbprint(publicJwk as JWK);
  registerKey(file, emitter, {
    kid,
    alg,
    state: 'active',
    created_at: new Date().toISOString(),
    public_jwk: { ...publicJwk, kid, alg, use: 'sig' } as RegisteredKey['public_jwk'],
  });
  if (options.tenants && options.tenants.length > 0) setEmitterTenants(file, emitter, options.tenants);
  return { emitter, kid, alg };
}
