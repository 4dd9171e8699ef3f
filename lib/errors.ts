// One catalogue of every error actorlog reports: a stable `code`, the HTTP
// status an API answers with, and whether retrying can help (`retriable`),
// so a bad message and a passing failure are handled differently.

export const ERRORS = {
  // Request-level errors of the HTTP APIs.
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false, message: 'use application/jose, application/json or application/x-ndjson' },
  BODY_TOO_LARGE: { status: 413, retriable: false, message: 'request body exceeds the configured limit' },
  BAD_REQUEST: { status: 400, retriable: false, message: 'the request is malformed' },
  NO_EVENTS: { status: 400, retriable: false, message: 'the request carries no event' },
  TOO_MANY_EVENTS: { status: 413, retriable: false, message: 'the request carries more events than one batch may hold' },
  ALL_EVENTS_REJECTED: { status: 400, retriable: false, message: 'no event in the request was accepted' },
  UNAUTHORIZED: { status: 401, retriable: false, message: 'a valid bearer token is required' },
  FORBIDDEN: { status: 403, retriable: false, message: 'the caller may not do this' },
  RATE_LIMITED: { status: 429, retriable: true, message: 'too many requests; retry later' },
  TOO_MANY_EXPORTS: { status: 429, retriable: true, message: 'as many exports and report runs as allowed per tenant are running; retry when one ends' },
  EXPORTS_BUSY: { status: 503, retriable: true, message: 'as many exports and report runs as allowed in all are running; retry when one ends' },
  TOO_MANY_DEFINITIONS: { status: 409, retriable: false, message: 'the tenant has as many report definitions as allowed; delete one first' },
  NOT_FOUND: { status: 404, retriable: false, message: 'no such resource' },
  REQUEST_TIMEOUT: { status: 408, retriable: true, message: 'the request was not received whole in time (BODY_TIMEOUT_MS)' },
  HEADERS_TOO_LARGE: { status: 431, retriable: false, message: 'the request headers are larger than the server accepts' },
  URI_TOO_LONG: { status: 414, retriable: false, message: 'a path segment is longer than any identifier' },
  INVALID_CURSOR: { status: 400, retriable: false, message: 'the cursor is not one this API issued' },
  BUS_UNAVAILABLE: { status: 503, retriable: true, message: 'the event bus cannot take events now; nothing was accepted' },
  STORAGE_UNAVAILABLE: { status: 503, retriable: true, message: 'storage cannot take events now; nothing was accepted' },
  // Storage refused the statement itself (bad SQL, a parameter or a value of
  // the wrong type): a bug in actorlog, which retrying cannot fix.
  STORAGE_REJECTED: { status: 500, retriable: false, message: 'storage refused the statement' },
  QUERY_TIMEOUT: { status: 504, retriable: false, message: 'the query ran longer than QUERY_TIMEOUT_MS; narrow the time window or the filters' },
  STREAM_TIMEOUT: { status: 504, retriable: false, message: 'the streamed read ran past its bound and was stopped' },
  INTERNAL: { status: 500, retriable: true, message: 'internal error' },
  NOT_YET_CHECKPOINTED: { status: 409, retriable: true, message: 'the event is logged but no checkpoint covers it yet; retry after the next checkpoint' },
  HOLD_RELEASED: { status: 409, retriable: false, message: 'the legal hold was released already; a release is final' },

  // Configuration and setup.
  CONFIG_INVALID: { status: 500, retriable: false, message: 'configuration is invalid' },
  KEY_REGISTRY_INVALID: { status: 500, retriable: false, message: 'the emitter key registry cannot be read' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

// Whether trying again may succeed: only an error from the catalogue that says
// so. Anything else (a TypeError, a failed assertion) is a bug and must fail
// loudly rather than be retried for ever; the layers that talk to storage and
// the bus turn their passing failures into retriable catalogue errors.
export function isRetriable(err: unknown): boolean {
  return err instanceof ActorlogError && err.retriable;
}

export class ActorlogError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retriable: boolean;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const entry = ERRORS[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message, options);
    this.name = 'ActorlogError';
    this.code = code;
    this.statusCode = entry.status;
    this.retriable = entry.retriable;
  }

  toJSON(): { error: { code: ErrorCode; message: string; retriable: boolean } } {
    return { error: { code: this.code, message: this.message, retriable: this.retriable } };
  }
}

// Why an event was refused. Each value is stored in the quarantine table's
// `reason` column and counted in /metrics; the meaning of each is in
// docs/quarantine-reasons.md. Never rename one: dashboards and audits key on them.
export const QUARANTINE_REASONS = {
  event_too_large: 'the event exceeds EVENT_MAX_BYTES',
  not_utf8: 'the event bytes are not valid UTF-8',
  jws_malformed: 'not a JWS in compact serialization (three base64url parts)',
  jws_header_invalid: 'the protected header is not a JSON object',
  json_duplicate_key: 'the header or payload JSON has a key twice, so it could be read two ways',
  json_too_deep: 'the payload JSON nests deeper than any valid event',
  alg_not_allowed: 'the header alg is not in the allowlist (EdDSA, Ed25519, ES256)',
  typ_invalid: 'the header typ is not actorlog-event+jws',
  kid_missing: 'the header has no kid',
  header_forbidden_param: 'the header carries jwk, jku, x5u, x5c, crit or b64, which actorlog refuses',
  payload_not_json: 'the payload is not a JSON object',
  source_missing: 'the payload has no source to look the key up by',
  unknown_emitter_key: 'no registered key of the payload source has this kid',
  signature_invalid: 'the signature does not verify against the registered key',
  key_revoked: 'the key was revoked before the event was dated or received',
  key_retired: 'the key was retired (rotated out) before the event was dated',
  key_not_valid: 'the event is dated outside the key validity (not_before, not_after)',
  schema_invalid: 'the verified payload is not a valid v1 event',
  replayed_id: 'an event with this id is already stored with different content',
  tenant_not_allowed: 'the emitter is registered for other tenants than the event names',
  batch_malformed: 'a batch-signed event whose batch payload, leaf index or inclusion path does not parse',
  batch_proof_invalid: 'the event and its inclusion path do not lead to the root the batch signature signs',
} as const;

export type QuarantineReason = keyof typeof QUARANTINE_REASONS;
