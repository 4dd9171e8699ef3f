// Structural reading of one event envelope (a compact JWS) without verifying it.
// Ingest uses it to refuse what can never verify before anything is
// acknowledged; the processor uses it before it looks a key up. Nothing read
// here is trusted: it only says what the bytes claim.
import { Buffer } from 'node:buffer';
import { ALLOWED_ALGS, JWS_TYP } from './event.js';
import type { QuarantineReason } from '../lib/errors.js';
import { parseStrictJson } from '../lib/strict-json.js';

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

export type Inspection =
  | { ok: true; compact: string; header: ProtectedHeader; payload: Record<string, unknown>; claimed: Claimed & { source: string } }
  | { ok: false; reason: QuarantineReason; detail: string; claimed: Claimed };

// Header parameters that would let the token choose its own key or change how
// the payload is read; an audit trail verifies only against registered keys.
const FORBIDDEN_HEADER_PARAMS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit', 'b64'];
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
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
export function typMatches(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === JWS_TYP || lower === `application/${JWS_TYP}`;
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
  if (!COMPACT_JWS.test(text)) return fail('jws_malformed', 'expected three non-empty base64url parts separated by dots');
  const [headerPart, payloadPart] = text.split('.') as [string, string, string];

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
  if (!typMatches(header.typ)) return fail('typ_invalid', `typ must be ${JWS_TYP} (case-insensitive, application/ prefix optional)`);
  if (typeof header.kid !== 'string' || header.kid === '') return fail('kid_missing', 'the header names no kid');
  if (!decodedPayload.ok) return fail(decodedPayload.reason, `payload: ${decodedPayload.detail}`);
  if (!claimed.source) return fail('source_missing', 'the payload has no source');

  return {
    ok: true,
    compact: text,
    header: header as ProtectedHeader,
    payload: decodedPayload.value,
    claimed: { ...claimed, source: claimed.source },
  };
}
