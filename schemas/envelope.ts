// Structural reading of one event envelope (a compact JWS) without verifying it.
// Ingest uses it to refuse what can never verify before anything is
// acknowledged; the processor uses it before it looks a key up. Nothing read
// here is trusted: it only says what the bytes claim.
import { Buffer } from 'node:buffer';
import { ALLOWED_ALGS, JWS_TYP } from './event.js';
import type { QuarantineReason } from '../lib/errors.js';

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

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
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

  const header = decodeJsonObject(headerPart);
  if (!header) return fail('jws_header_invalid', 'the protected header does not decode to a JSON object');
  if (typeof header.kid === 'string') claimed.kid = header.kid.slice(0, 256);

  // Read the payload's claims early so that even a refused envelope is filed
  // under the emitter, event and tenant it claims to come from.
  const payload = decodeJsonObject(payloadPart);
  if (payload) {
    claimed.source = stringOrUndefined(payload.source);
    claimed.id = stringOrUndefined(payload.id);
    claimed.tenant = stringOrUndefined(payload.tenant);
  }

  const forbidden = FORBIDDEN_HEADER_PARAMS.filter((p) => p in header);
  if (forbidden.length > 0) return fail('header_forbidden_param', `header carries ${forbidden.join(', ')}`);
  if (!(ALLOWED_ALGS as readonly unknown[]).includes(header.alg)) {
    return fail('alg_not_allowed', `alg ${JSON.stringify(header.alg)} is not one of ${ALLOWED_ALGS.join(', ')}`);
  }
  if (header.typ !== JWS_TYP) return fail('typ_invalid', `typ must be ${JWS_TYP}`);
  if (typeof header.kid !== 'string' || header.kid === '') return fail('kid_missing', 'the header names no kid');
  if (!payload) return fail('payload_not_json', 'the payload does not decode to a JSON object');
  if (!claimed.source) return fail('source_missing', 'the payload has no source');

  return {
    ok: true,
    compact: text,
    header: header as ProtectedHeader,
    payload,
    claimed: { ...claimed, source: claimed.source },
  };
}
