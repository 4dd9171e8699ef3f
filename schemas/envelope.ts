// Structural reading of one event envelope (a compact JWS) without verifying it.
// Ingest uses it to refuse what can never verify before anything is
// acknowledged; the processor uses it before it looks a key up. Nothing read
// here is trusted: it only says what the bytes claim.
import { Buffer } from 'node:buffer';
import { ALLOWED_ALGS, BATCH_JWS_TYP, JWS_TYP } from './event.js';
import type { QuarantineReason } from '../lib/errors.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { inclusionRanges, leafHash } from '../lib/merkle/index.js';

// Deep enough for any valid event (act chains are bounded at 16); far below
// what could hurt the parser.
const MAX_JSON_DEPTH = 40;

export interface ProtectedHeader {
  alg: (typeof ALLOWED_ALGS)[number];
  kid: string;
  typ: string;
  [param: string]: unknown;
}

export interface Claimed {
  source?: string;
  id?: string;
  tenant?: string;
  kid?: string;
}

// What a batch-signed event (docs/event.md, "Signed batches") adds: the
// batch JWS whose signature is checked (once for all its events), the root
// and size it signs, and this event's leaf (RFC 9162: SHA-256 of 0x00 and
// the event's bytes), index and inclusion path.
export interface BatchProof {
  jws: string;
  root: Buffer;
  size: number;
  index: number;
  path: Buffer[];
  leaf: Buffer;
}

export type Inspection =
  | { ok: true; compact: string; header: ProtectedHeader; payload: Record<string, unknown>; claimed: Claimed & { source: string }; batch?: BatchProof }
  | { ok: false; reason: QuarantineReason; detail: string; claimed: Claimed };

// Header parameters that would let the token choose its own key or change how
// the payload is read; an audit trail verifies only against registered keys.
const FORBIDDEN_HEADER_PARAMS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit', 'b64'];
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// <batch JWS>~<event>~<leaf index>~<path hash>... (at most 16 hashes: a
// batch holds at most 65,536 events).
const BATCH_EVENT = /^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)~([A-Za-z0-9_-]+)~(0|[1-9][0-9]{0,4})((?:~[A-Za-z0-9_-]{43}){0,16})$/;
const MAX_BATCH_SIZE = 65_536;
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Decoded = { ok: true; value: Record<string, unknown> } | { ok: false; reason: QuarantineReason; detail: string };

// A base64url segment -> a JSON object, strictly: valid UTF-8, no duplicate
// keys, bounded nesting. `notObject` names the reason for anything else.
function decodeJsonObject(segment: string, notObject: QuarantineReason): Decoded {
  let text: string;
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'));
  } catch {
    return { ok: false, reason: 'not_utf8', detail: 'a decoded segment is not valid UTF-8' };
  }
  const parsed = parseStrictJson(text, MAX_JSON_DEPTH);
  if (!parsed.ok) {
    if (parsed.fault === 'duplicate_key') return { ok: false, reason: 'json_duplicate_key', detail: parsed.detail };
    if (parsed.fault === 'too_deep') return { ok: false, reason: 'json_too_deep', detail: parsed.detail };
    return { ok: false, reason: notObject, detail: `not JSON: ${parsed.detail}` };
  }
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: notObject, detail: 'not a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

// RFC 7515 section 4.1.9: `typ` is a media type, compared case-insensitively,
// and `application/` may be left out.
export function typMatches(typ: unknown, expected: string = JWS_TYP): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === expected || lower === `application/${expected}`;
}

const stringOrUndefined = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, 256) : undefined);

export function inspectEnvelope(raw: Uint8Array, maxBytes: number): Inspection {
  const claimed: Claimed = {};
  const fail = (reason: QuarantineReason, detail: string): Inspection => ({ ok: false, reason, detail, claimed });

  if (raw.byteLength > maxBytes) return fail('event_too_large', `${raw.byteLength} bytes, limit ${maxBytes}`);
  let text: string;
  try {
    text = utf8.decode(raw).trim();
  } catch {
    return fail('not_utf8', 'the bytes are not valid UTF-8');
  }
  let headerPart: string;
  let payloadPart: string;
  let batch: BatchProof | undefined;
  if (text.includes('~')) {
    const parts = BATCH_EVENT.exec(text);
    if (!parts) return fail('batch_malformed', 'expected <batch JWS>~<event>~<leaf index>~<path hash>... (docs/event.md)');
    const jws = parts[1]!;
    [headerPart] = jws.split('.') as [string];
    payloadPart = parts[2]!;
    const proof = batchProof(jws, payloadPart, Number(parts[3]), parts[4]!.split('~').slice(1));
    if (typeof proof === 'string') return fail('batch_malformed', proof);
    batch = proof;
  } else {
    if (!COMPACT_JWS.test(text)) return fail('jws_malformed', 'expected three non-empty base64url parts separated by dots');
    [headerPart, payloadPart] = text.split('.') as [string, string, string];
  }

  const decodedHeader = decodeJsonObject(headerPart, 'jws_header_invalid');
  if (!decodedHeader.ok) return fail(decodedHeader.reason, `header: ${decodedHeader.detail}`);
  const header = decodedHeader.value;
  if (typeof header.kid === 'string') claimed.kid = header.kid.slice(0, 256);

  // Read the payload's claims early so that even a refused envelope is filed
  // under the emitter, event and tenant it claims to come from.
  const decodedPayload = decodeJsonObject(payloadPart, 'payload_not_json');
  if (decodedPayload.ok) {
    const { source, id, tenant } = decodedPayload.value;
    claimed.source = stringOrUndefined(source);
    claimed.id = stringOrUndefined(id);
    claimed.tenant = stringOrUndefined(tenant);
  }

  const forbidden = FORBIDDEN_HEADER_PARAMS.filter((p) => p in header);
  if (forbidden.length > 0) return fail('header_forbidden_param', `header carries ${forbidden.join(', ')}`);
  if (!(ALLOWED_ALGS as readonly unknown[]).includes(header.alg)) {
    return fail('alg_not_allowed', `alg ${JSON.stringify(header.alg)} is not one of ${ALLOWED_ALGS.join(', ')}`);
  }
  if (batch) {
    if (!typMatches(header.typ, BATCH_JWS_TYP)) return fail('batch_malformed', `a batch signature's typ must be ${BATCH_JWS_TYP}`);
  } else if (!typMatches(header.typ)) return fail('typ_invalid', `typ must be ${JWS_TYP} (case-insensitive, application/ prefix optional)`);
  if (typeof header.kid !== 'string' || header.kid === '') return fail('kid_missing', 'the header names no kid');
  if (!decodedPayload.ok) return fail(decodedPayload.reason, `payload: ${decodedPayload.detail}`);
  if (!claimed.source) return fail('source_missing', 'the payload has no source');

  return {
    ok: true,
    compact: text,
    header: header as ProtectedHeader,
    payload: decodedPayload.value,
    claimed: { ...claimed, source: claimed.source },
    ...(batch ? { batch } : {}),
  };
}

// The parts of a batch-signed event checked for shape: the batch payload is
// {"root": 32 bytes base64url, "size": 1..65536}, the index below the size,
// the path exactly as long as RFC 9162 makes it for (index, size). Returns
// the refusal's detail when a part is wrong.
function batchProof(jws: string, eventPart: string, index: number, pathParts: string[]): BatchProof | string {
  const decoded = decodeJsonObject(jws.split('.')[1]!, 'batch_malformed');
  if (!decoded.ok) return `batch payload: ${decoded.detail}`;
  const { root, size } = decoded.value;
  if (typeof root !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(root)) return 'the batch payload has no 32-byte root';
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > MAX_BATCH_SIZE) return `the batch size must be 1 to ${MAX_BATCH_SIZE}`;
  if (index >= (size as number)) return `leaf ${index} is not in a batch of ${size}`;
  if (pathParts.length !== inclusionRanges(index, size as number).length) return `leaf ${index} of ${size} needs a path of ${inclusionRanges(index, size as number).length} hashes, not ${pathParts.length}`;
  return {
    jws,
    root: Buffer.from(root, 'base64url'),
    size: size as number,
    index,
    path: pathParts.map((p) => Buffer.from(p, 'base64url')),
    leaf: leafHash(Buffer.from(eventPart, 'base64url')),
  };
}
