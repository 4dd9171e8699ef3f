// Checks one signed event alone, with nothing but the emitter's public key:
// an event signed on its own (a compact JWS) or one event of a signed batch
// (docs/event.md, "Signed batches": the batch signature, then the event's
// bytes and inclusion path up to the signed root). For auditors and tools
// outside actorlog; the processor applies the same rules to every event.
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { ALLOWED_ALGS, BATCH_JWS_TYP, JWS_TYP } from './schema/event.js';
import { leafHash, verifyInclusion } from './merkle/index.js';

export type SignedEventCheck = { ok: true; event: Record<string, unknown>; batch?: { index: number; size: number } } | { ok: false; problem: string };

const json = (part: string): Record<string, unknown> | undefined => {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

function signatureValid(jws: string, jwk: JsonWebKey, typ: string): string | undefined {
  const [h, p, s] = jws.split('.');
  if (!h || !p || !s) return 'not a compact JWS';
  const header = json(h);
  if (!header || typeof header.alg !== 'string' || !(ALLOWED_ALGS as readonly string[]).includes(header.alg)) return 'the header alg is not EdDSA, Ed25519 or ES256';
  if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== typ) return `the header typ is not ${typ}`;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`, 'ascii');
  const signature = Buffer.from(s, 'base64url');
  const es256 = header.alg === 'ES256';
  if (es256 ? key.asymmetricKeyType !== 'ec' : key.asymmetricKeyType !== 'ed25519') return `the key cannot verify ${header.alg}`;
  const ok = es256 ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature) : verify(null, data, key, signature);
  return ok ? undefined : 'the signature does not verify with this key';
}

export function verifySignedEvent(signed: string, publicJwk: JsonWebKey): SignedEventCheck {
  const text = signed.trim();
  if (!text.includes('~')) {
    const problem = signatureValid(text, publicJwk, JWS_TYP);
    const event = json(text.split('.')[1] ?? '');
    if (problem) return { ok: false, problem };
    return event ? { ok: true, event } : { ok: false, problem: 'the payload is not a JSON object' };
  }
  const [jws = '', eventPart = '', indexPart = '', ...path] = text.split('~');
  const problem = signatureValid(jws, publicJwk, BATCH_JWS_TYP);
  if (problem) return { ok: false, problem: `batch signature: ${problem}` };
  const batch = json(jws.split('.')[1]!);
  const index = Number(indexPart);
  if (!batch || typeof batch.root !== 'string' || !Number.isSafeInteger(batch.size) || !/^\d+$/.test(indexPart)) return { ok: false, problem: 'the batch payload or leaf index does not parse' };
  const bytes = Buffer.from(eventPart, 'base64url');
  const size = batch.size as number;
  if (!verifyInclusion(index, size, leafHash(bytes), path.map((p) => Buffer.from(p, 'base64url')), Buffer.from(batch.root, 'base64url'))) {
    return { ok: false, problem: `leaf ${index} of ${size}: the event and its path do not lead to the signed root` };
  }
  const event = json(eventPart);
  return event ? { ok: true, event, batch: { index, size } } : { ok: false, problem: 'the event is not a JSON object' };
}
