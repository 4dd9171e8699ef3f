// JWS signature checks with node:crypto, the fastest correct primitive here
// (about twice jose's compactVerify per core): the signing input and the
// signature of a compact JWS whose structure inspectEnvelope already checked,
// against a key imported once. Used on the main thread for small batches and
// in each verification worker (verify-pool.ts) for large ones.
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export type SignatureAlg = 'EdDSA' | 'ES256';

export function importPublicKey(jwk: JsonWebKey): KeyObject {
  return createPublicKey({ key: jwk, format: 'jwk' });
}

// True only when the signature verifies for `alg`; a malformed signature is
// false, never an exception.
export function signatureValid(alg: SignatureAlg, key: KeyObject, compact: string): boolean {
  const dot = compact.lastIndexOf('.');
  const data = Buffer.from(compact.slice(0, dot), 'ascii');
  const signature = Buffer.from(compact.slice(dot + 1), 'base64url');
  try {
    if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519' && signature.length === 64 && verify(null, data, key, signature);
    // JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 3.4).
    return key.asymmetricKeyType === 'ec' && signature.length === 64 && verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
