// The v1 actorlog event (DESIGN.md, "The event"). Every other type in the
// project that describes an event is inferred from these schemas, and the JSON
// Schema for emitters in other languages is generated from them.
import { z } from 'zod';

// Bounded strings keep one hostile event from inflating every column it lands in.
const id = z.string().min(1).max(256);
const text = z.string().max(1024);
const shortList = (item: z.ZodString) => z.array(item).max(64);

export const EVENT_TYPES = [
  'mcp.tool.call',
  'mcp.tool.result',
  'authz.decision',
  'delegation.granted',
  'delegation.revoked',
  'consent.granted',
  'consent.revoked',
  'token.exchanged',
  'session.started',
  'session.ended',
  'identity.lifecycle',
  'downstream.response',
  'emitter.heartbeat',
] as const;

// RFC 3339 with milliseconds and an explicit offset: `2026-11-22T10:00:00.000Z`.
const timestamp = z.iso.datetime({ offset: true, precision: 3 });

export const humanSchema = z.strictObject({
  sub: id,
  iss: text,
  email: z.string().max(320).optional(),
  name: text.optional(),
});

export const agentSchema = z.strictObject({
  id,
  name: text.optional(),
  runtime: z.strictObject({
    kind: z.enum(['spiffe', 'workload', 'cert', 'token', 'other']),
    id,
  }),
});

// An actor may state the scopes it held, so a chain that widens what was
// delegated is visible (flag scope_widening).
export const actorSchema = z.strictObject({
  id,
  kind: z.enum(['human', 'agent', 'service', 'other']).optional(),
  name: text.optional(),
  scopes: shortList(id).optional(),
});

export const delegationSchema = z.strictObject({
  mode: z.enum(['oauth', 'obo_exchange', 'impersonation', 'ambient', 'jit_approval', 'none']),
  grant_id: id.optional(),
  consent_id: id.optional(),
  scopes: shortList(id),
  expires_at: timestamp.optional(),
});

// RFC 8693 section 4.1: `act` names the current actor and may nest the prior
// actor in its own `act`. Depth is bounded so a crafted chain cannot exhaust the stack.
export interface ActClaim {
  sub: string;
  iss?: string | undefined;
  act?: ActClaim | undefined;
}
const MAX_ACT_DEPTH = 16;
const actClaimSchema: z.ZodType<ActClaim> = z.lazy(() =>
  z.object({ sub: id, iss: text.optional(), act: actClaimSchema.optional() }),
);
function actDepth(act: ActClaim | undefined): number {
  let depth = 0;
  for (let a = act; a; a = a.act) depth++;
  return depth;
}

const epochSeconds = z.number().int().nonnegative();

// One value or a list, as identity providers send `aud` (RFC 7519 4.1.3); the
// validated event always holds the list.
const oneOrList = (item: z.ZodString) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (typeof v === 'string' ? [v] : v))
    .pipe(shortList(item));

// OAuth scope (RFC 6749 3.3, RFC 8693 4.2, RFC 9068 2.2.3): a space-delimited
// string, or a list as some providers send it; always a list once validated.
const scopeClaim = z
  .union([z.string().max(16_384), z.array(z.string())])
  .transform((v) => (typeof v === 'string' ? v.split(' ').filter((s) => s !== '') : v))
  .pipe(shortList(id));

// RFC 8693 4.4: who may act for the subject.
const mayActSchema = z.object({ sub: id.optional(), iss: text.optional() });

// Claims beyond the known ones are kept as sent, bounded: at most this many,
// each at most this much JSON, and never anything shaped like a token.
export const MAX_OTHER_CLAIMS = 32;
const MAX_OTHER_CLAIM_BYTES = 1024;
const LOOKS_LIKE_JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const tokenClaimsShape = {
  iss: text,
  sub: id,
  aud: oneOrList(text),
  scope: scopeClaim.default([]),
  exp: epochSeconds,
  iat: epochSeconds.optional(),
  nbf: epochSeconds.optional(),
  auth_time: epochSeconds.optional(),
  jti: id.optional(),
  azp: id.optional(),
  client_id: id.optional(),
  // OIDC Core 2: authentication context class and methods (RFC 8176 values).
  acr: text.optional(),
  amr: shortList(id).optional(),
  // RFC 7800 confirmation (e.g. { jkt } for DPoP, { "x5t#S256" } for mTLS).
  cnf: z.record(z.string().max(64), z.unknown()).refine((c) => Object.keys(c).length <= 8, 'cnf has at most 8 members').optional(),
  may_act: mayActSchema.optional(),
  act: actClaimSchema
    .refine((act) => actDepth(act) <= MAX_ACT_DEPTH, `act nests deeper than ${MAX_ACT_DEPTH}`)
    .optional(),
};
const KNOWN_CLAIMS = new Set(Object.keys(tokenClaimsShape));

// The claims of the token presented, never the token itself, as identity
// providers send them (docs/event.md, "Token claims").
export const tokenClaimsSchema = z
  .object(tokenClaimsShape)
  .catchall(z.unknown())
  .superRefine((claims, ctx) => {
    const others = Object.keys(claims).filter((k) => !KNOWN_CLAIMS.has(k));
    if (others.length > MAX_OTHER_CLAIMS) {
      ctx.addIssue({ code: 'custom', path: [], message: `at most ${MAX_OTHER_CLAIMS} claims beyond the known ones (got ${others.length})` });
    }
    for (const key of others) {
      const value = claims[key];
      const json = JSON.stringify(value) ?? '';
      if (key.length > 128 || json.length > MAX_OTHER_CLAIM_BYTES) {
        ctx.addIssue({ code: 'custom', path: [key.slice(0, 128)], message: `claim larger than ${MAX_OTHER_CLAIM_BYTES} bytes of JSON (or its name than 128)` });
      } else if (typeof value === 'string' && LOOKS_LIKE_JWT.test(value)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'looks like a token; events carry claims, never tokens' });
      }
    }
  });

export const TOOL_INTENTS = ['read', 'search', 'summarize', 'export', 'write', 'delete', 'admin', 'other'] as const;
export const SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;

export const targetSchema = z.strictObject({
  server: z.strictObject({ id, audience: text }),
  tool: z
    .strictObject({
      name: id,
      intent: z.enum(TOOL_INTENTS),
      resource: text.optional(),
      sensitivity: z.enum(SENSITIVITIES).optional(),
      // The scopes the tool needs; the token must hold each (flag scope_exceeded).
      required_scopes: shortList(id).optional(),
    })
    .optional(),
});

export const decisionSchema = z.strictObject({
  outcome: z.enum(['allow', 'deny', 'allow_with_obligations']),
  policy: z.strictObject({ id, version: id }),
  reason: text.optional(),
  obligations: shortList(text).optional(),
  decided_by: z.enum(['gateway', 'server', 'downstream']),
});

export const downstreamSchema = z.strictObject({
  system: id,
  status: text,
  permission: z.enum(['granted', 'denied', 'error']),
});

// W3C Trace Context ids: lowercase hex of a fixed length, not all zero. Any
// other value is refused with this message rather than stored where trace
// queries would never match it; other correlation ids belong in request_id or attrs.
const w3cId = (hexDigits: number, name: string) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-f]{${hexDigits}}$`), `a W3C ${name}: ${hexDigits} lowercase hex digits (put other correlation ids in request_id or attrs)`)
    .refine((v) => !/^0+$/.test(v), `an all-zero W3C ${name} is invalid`);

export const contextSchema = z.strictObject({
  session_id: id,
  trace_id: w3cId(32, 'trace-id').optional(),
  span_id: w3cId(16, 'span-id').optional(),
  parent_id: id.optional(),
  request_id: id.optional(),
  client_ip: z.string().max(64).optional(),
  user_agent: text.optional(),
});

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');
export const payloadDigestSchema = z.strictObject({
  args_sha256: sha256Hex.optional(),
  result_sha256: sha256Hex.optional(),
  bytes: z.number().int().nonnegative().optional(),
});

// What a tool call came back with (mcp.tool.result): the MCP result's
// `isError` (the tool ran and failed) or the JSON-RPC error code (the call
// itself failed), and how long it took. The design had no field for it.
export const resultSchema = z.strictObject({
  is_error: z.boolean(),
  error_code: z.number().int().optional(),
  duration_ms: z.number().nonnegative().optional(),
});

// identity.lifecycle events (joiner / mover / leaver) from an identity provider.
export const lifecycleSchema = z.strictObject({
  change: z.enum(['joiner', 'mover', 'leaver']),
  roles: shortList(id).optional(),
});

export const MAX_ATTRS = 32;
export const attrsSchema = z
  .record(z.string().min(1).max(128), z.string().max(1024))
  .refine((attrs) => Object.keys(attrs).length <= MAX_ATTRS, `at most ${MAX_ATTRS} attrs`);

const eventObjectSchema = z.strictObject({
  specversion: z.literal('1.0'),
  id,
  source: id,
  type: z.enum(EVENT_TYPES),
  time: timestamp,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  // The emitter's hash chain: lowercase hex SHA-256 of the compact JWS of the
  // same emitter's previous event (seq - 1), as sent. Absent on its first.
  prev: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256').optional(),
  tenant: id,
  human: humanSchema.nullable(),
  agent: agentSchema.optional(),
  actors: z.array(actorSchema).max(MAX_ACT_DEPTH).optional(),
  delegation: delegationSchema.optional(),
  token: tokenClaimsSchema.optional(),
  target: targetSchema.optional(),
  decision: decisionSchema.optional(),
  downstream: downstreamSchema.optional(),
  context: contextSchema.optional(),
  payload: payloadDigestSchema.optional(),
  result: resultSchema.optional(),
  lifecycle: lifecycleSchema.optional(),
  attrs: attrsSchema.optional(),
});

// Events about an agent's action must say which agent and in which session;
// lifecycle, consent and heartbeat events may come from an identity provider
// or the emitter itself, where there is no agent.
export const AGENT_ACTIONS: ReadonlySet<string> = new Set([
  'mcp.tool.call',
  'mcp.tool.result',
  'authz.decision',
  'token.exchanged',
  'downstream.response',
]);

// What each type needs beyond the common envelope.
const REQUIRED_BY_TYPE: Record<string, string[]> = {
  'delegation.granted': ['delegation'],
  'delegation.revoked': ['delegation'],
  'consent.granted': ['delegation'],
  'consent.revoked': ['delegation'],
  'identity.lifecycle': ['human', 'lifecycle'],
};

function requireActionFields(
  event: { type: string; agent?: unknown; context?: unknown; target?: { tool?: unknown } } & Record<string, unknown>,
  ctx: z.RefinementCtx,
): void {
  for (const field of REQUIRED_BY_TYPE[event.type] ?? []) {
    if (event[field] === undefined || event[field] === null) {
      ctx.addIssue({ code: 'custom', path: [field], message: `${event.type} requires ${field}` });
    }
  }
  const delegation = event.delegation as { grant_id?: string; consent_id?: string } | undefined;
  if (event.type === 'delegation.revoked' && delegation && !delegation.grant_id) {
    ctx.addIssue({ code: 'custom', path: ['delegation', 'grant_id'], message: 'delegation.revoked requires delegation.grant_id' });
  }
  if (event.type === 'consent.revoked' && delegation && !delegation.consent_id) {
    ctx.addIssue({ code: 'custom', path: ['delegation', 'consent_id'], message: 'consent.revoked requires delegation.consent_id' });
  }
  if (!AGENT_ACTIONS.has(event.type)) return;
  if (!event.agent) ctx.addIssue({ code: 'custom', path: ['agent'], message: `${event.type} requires agent` });
  if (!event.context) ctx.addIssue({ code: 'custom', path: ['context'], message: `${event.type} requires context` });
  if (event.type.startsWith('mcp.tool.') && !event.target?.tool) {
    ctx.addIssue({ code: 'custom', path: ['target', 'tool'], message: `${event.type} requires target.tool` });
  }
}

export const eventSchema = eventObjectSchema.superRefine(requireActionFields);

export type ActorlogEvent = z.infer<typeof eventSchema>;
export type EventType = (typeof EVENT_TYPES)[number];
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

// What an emitter hands the SDK: the SDK fills the envelope fields it owns.
export const eventInputSchema = eventObjectSchema
  .omit({ specversion: true, id: true, source: true, time: true, seq: true, prev: true })
  .extend({ id: id.optional(), time: timestamp.optional() })
  .superRefine(requireActionFields);
export type EventInput = z.input<typeof eventInputSchema>;

// Protected header of the compact JWS that carries an event.
export const JWS_TYP = 'actorlog-event+jws';
// The `typ` of a batch signature (docs/event.md, "Signed batches"): its
// payload is a Merkle root, never an event, and the two typ values keep
// either signature from being passed off as the other.
export const BATCH_JWS_TYP = 'actorlog-batch+jws';
// `Ed25519` is the fully specified name RFC 9864 gives what `EdDSA` means with
// an Ed25519 key (and deprecates `EdDSA` for); both are accepted.
export const ALLOWED_ALGS = ['EdDSA', 'Ed25519', 'ES256'] as const;
export type SignatureAlg = (typeof ALLOWED_ALGS)[number];

// The header algs a key registered for `alg` verifies: the two names of the
// Ed25519 signature are one algorithm, so a key registered under either takes both.
export function algsForKey(alg: SignatureAlg): SignatureAlg[] {
  return alg === 'ES256' ? ['ES256'] : ['EdDSA', 'Ed25519'];
}
