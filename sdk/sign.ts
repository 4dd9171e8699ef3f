// Signs one event as a compact JWS (RFC 7515) with the actorlog event header.
// node:crypto signs synchronously in a few tens of microseconds, which keeps
// an emit's cost on the event loop small and predictable (WebCrypto would
// queue each signature on the thread pool and back).
import { createPrivateKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ALLOWED_ALGS, BATCH_JWS_TYP, JWS_TYP, type ActorlogEvent } from './schema/event.js';
import { leafHash, treeWithPaths } from './merkle/index.js';

export type SigningAlg = (typeof ALLOWED_ALGS)[number];

// A private JWK as `actorlog keys generate` prints it (with kid and alg).
export type PrivateJwk = JsonWebKey & { kid?: string; alg?: string };

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  key: KeyObject;
  // base64url of the protected header, the same for every event.
  header: string;
}

function defaultAlg(jwk: PrivateJwk): string | undefined {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  return undefined;
}

// `alg` overrides the JWK's: an Ed25519 key may sign as `EdDSA` or as the
// fully specified `Ed25519` (RFC 9864).
export function importSigningKey(privateJwk: PrivateJwk, alg?: SigningAlg): SigningKey {
  const chosen = alg ?? privateJwk.alg ?? defaultAlg(privateJwk);
  if (!privateJwk.d) throw new TypeError('the signing JWK has no private part (d)');
  if (!privateJwk.kid) throw new TypeError('the signing JWK has no kid; use the JWK printed by `actorlog keys generate`');
  if (!(ALLOWED_ALGS as readonly (string | undefined)[]).includes(chosen)) {
    throw new TypeError(`the signing alg must be one of ${ALLOWED_ALGS.join(', ')}`);
  }
  const okp = privateJwk.kty === 'OKP' && privateJwk.crv === 'Ed25519';
  const ec = privateJwk.kty === 'EC' && privateJwk.crv === 'P-256';
  if (chosen === 'ES256' ? !ec : !okp) throw new TypeError(`a ${privateJwk.kty}/${privateJwk.crv} key cannot sign ${chosen}`);
  const header = Buffer.from(JSON.stringify({ alg: chosen, kid: privateJwk.kid, typ: JWS_TYP })).toString('base64url');
  return {
    kid: privateJwk.kid,
    alg: chosen as SigningAlg,
    key: createPrivateKey({ key: privateJwk, format: 'jwk' }),
    header,
  };
}

// The signing input is ASCII (base64url and '.'), so latin1 is its exact
// byte form and the cheapest encoding of it.
function signatureOf(input: string, signer: SigningKey): string {
  const data = Buffer.from(input, 'latin1');
  const signature = signer.alg === 'ES256' ? sign('sha256', data, { key: signer.key, dsaEncoding: 'ieee-p1363' }) : sign(null, data, signer.key);
  return signature.toString('base64url');
}

// The event is serialised once and its bytes encoded once; the signing input
// is then one ASCII copy of header and payload.
export function signEvent(event: ActorlogEvent, signer: SigningKey): string {
  const input = `${signer.header}.${Buffer.from(JSON.stringify(event), 'utf8').toString('base64url')}`;
  return `${input}.${signatureOf(input, signer)}`;
}

// A batch signed once (docs/event.md, "Signed batches"): the leaves are the
// events' JSON bytes, one JWS (typ actorlog-batch+jws) signs the RFC 9162
// root of that list and its size, and each event travels as
//   <batch JWS>~<event, base64url>~<leaf index>~<path hash, base64url>...
// so it can be verified alone, later, with the emitter's public key and
// SHA-256. One signature however many events: the cost of signing moves off
// each emit.
export const MAX_BATCH_EVENTS = 65_536;
export function signBatch(events: readonly ActorlogEvent[], signer: SigningKey): string[] {
  return signBatchOfBytes(events.map((e) => Buffer.from(JSON.stringify(e))), signer);
}

// The same from each event's JSON bytes as they will travel (what an
// EmitterClient with `signing: 'batch'` keeps in its outbox), so nothing is
// serialised twice.
export function signBatchOfBytes(events: readonly Buffer[], signer: SigningKey): string[] {
  if (events.length === 0) return [];
  if (events.length > MAX_BATCH_EVENTS) throw new RangeError(`a signed batch holds at most ${MAX_BATCH_EVENTS} events`);
  const { root, paths } = treeWithPaths(events.map((b) => leafHash(b)));
  const header = Buffer.from(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: BATCH_JWS_TYP })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ root: Buffer.from(root).toString('base64url'), size: events.length })).toString('base64url');
  const input = `${header}.${payload}`;
  const batch = `${input}.${signatureOf(input, signer)}`;
  return events.map((b, i) => [batch, b.toString('base64url'), String(i), ...paths[i]!.map((p) => Buffer.from(p).toString('base64url'))].join('~'));
}
