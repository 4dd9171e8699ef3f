// Signs one event as a compact JWS with the actorlog event header.
import { CompactSign, importJWK, type CryptoKey, type JWK } from 'jose';
import { ALLOWED_ALGS, JWS_TYP, type ActorlogEvent } from './schema/event.js';

export interface SigningKey {
  kid: string;
  alg: (typeof ALLOWED_ALGS)[number];
  key: CryptoKey | Uint8Array;
}

export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  const alg = privateJwk.alg ?? (privateJwk.crv === 'Ed25519' ? 'EdDSA' : undefined);
  if (!privateJwk.d) throw new TypeError('the signing JWK has no private part (d)');
  if (!privateJwk.kid) throw new TypeError('the signing JWK has no kid; use the JWK printed by `actorlog keys generate`');
  if (!(ALLOWED_ALGS as readonly (string | undefined)[]).includes(alg)) {
    throw new TypeError(`the signing JWK's alg must be one of ${ALLOWED_ALGS.join(', ')}`);
  }
  return { kid: privateJwk.kid, alg: alg as SigningKey['alg'], key: await importJWK(privateJwk, alg) };
}

const encoder = new TextEncoder();

export function signEvent(event: ActorlogEvent, signer: SigningKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(event)))
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: JWS_TYP })
    .sign(signer.key);
}
