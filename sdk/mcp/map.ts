// MCP request + answer -> actorlog events. Pure: everything it needs comes in
// the exchange (what was seen on the wire and the verified token claims), so the
// in-process middleware and the proxy map the same exchange to the same event.
// Every part can be replaced by a hook.
import { createHash, randomBytes } from 'node:crypto';
import {
  tokenClaimsSchema,
  type ActClaim,
  type EventInput,
  type SENSITIVITIES,
  type TOOL_INTENTS,
} from '../schema/event.js';

export const AUDITED_METHODS = ['tools/call', 'resources/read', 'prompts/get'] as const;
export type AuditedMethod = (typeof AUDITED_METHODS)[number];
export const isAuditedMethod = (method: unknown): method is AuditedMethod =>
  typeof method === 'string' && (AUDITED_METHODS as readonly string[]).includes(method);

export type ToolIntent = (typeof TOOL_INTENTS)[number];
export type Sensitivity = (typeof SENSITIVITIES)[number];

// MCP ToolAnnotations (2025-06-18): hints only, as the server states them.
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ClientInfo {
  name: string;
  version?: string;
  title?: string;
}

// What a deployment states per tool, over what the annotations suggest.
export interface ToolOverride {
  intent?: ToolIntent;
  sensitivity?: Sensitivity;
  required_scopes?: string[];
}

export interface Decision {
  outcome: 'allow' | 'deny' | 'allow_with_obligations';
  reason?: string;
  obligations?: string[];
  policy?: { id: string; version: string };
}

// One audited request as seen by an enforcement point.
export interface McpExchange {
  // An audited method, or any other one when a request is refused before it is read (authz.decision).
  method: AuditedMethod | (string & {});
  params: Record<string, unknown>;
  requestId: string | number;
  sessionId: string;
  // Verified claims of the access token (never the token itself).
  claims?: Record<string, unknown>;
  client?: ClientInfo;
  annotations?: ToolAnnotations;
  // HTTP request headers, lower-case names, when the request came over HTTP.
  headers?: Record<string, string | string[] | undefined>;
  clientIp?: string;
  startedAt: number;
  // Set once the answer is known.
  response?: { result?: unknown; error?: { code: number; message?: string } };
  durationMs?: number;
  // The W3C span this exchange got, shared by its call and result events.
  spanId?: string;
}

type Hook<T> = (exchange: McpExchange, mapped: T) => T;

export interface MapHooks {
  human?: Hook<EventInput['human']>;
  agent?: Hook<NonNullable<EventInput['agent']>>;
  actors?: Hook<EventInput['actors']>;
  token?: Hook<EventInput['token']>;
  delegation?: Hook<EventInput['delegation']>;
  tool?: Hook<NonNullable<NonNullable<EventInput['target']>['tool']>>;
  context?: Hook<NonNullable<EventInput['context']>>;
  // Last word on the whole event; return null to send nothing.
  event?: (exchange: McpExchange, event: EventInput) => EventInput | null;
}

export interface MapOptions {
  tenant: string;
  server: { id: string; audience: string };
  // The policy a decision is recorded under (default `mcp-audit`/`1`).
  policy?: { id: string; version: string };
  decidedBy: 'gateway' | 'server';
  tools?: Record<string, ToolOverride>;
  hooks?: MapHooks;
}

const DEFAULT_POLICY = { id: 'mcp-audit', version: '1' };

// The schema bounds every string; an over-long value from the wire is cut, not refused.
const clip = (value: string, max: number) => (value.length > max ? value.slice(0, max) : value);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

// Digest of a JSON value that does not depend on key order, so the middleware
// and the proxy (which sees the bytes another serializer wrote) agree.
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

// What the annotations say, in actorlog's terms. Only explicit hints count:
// a server that says nothing gets `other`, not the spec's pessimistic default.
export function intentOf(method: string, annotations: ToolAnnotations | undefined): ToolIntent {
  if (method !== 'tools/call') return isAuditedMethod(method) ? 'read' : 'other';
  if (!annotations) return 'other';
  if (annotations.readOnlyHint === true) return 'read';
  if (annotations.destructiveHint === true) return 'delete';
  if (annotations.readOnlyHint === false || annotations.destructiveHint === false) return 'write';
  return 'other';
}

// Destructive tools are restricted; tools that reach the open world may carry
// data out of the boundary (confidential); closed-world reads stay internal.
export function sensitivityOf(method: string, annotations: ToolAnnotations | undefined): Sensitivity | undefined {
  if (method !== 'tools/call' || !annotations) return undefined;
  if (annotations.destructiveHint === true && annotations.readOnlyHint !== true) return 'restricted';
  if (annotations.openWorldHint === true) return 'confidential';
  if (annotations.readOnlyHint === true) return 'internal';
  return undefined;
}

// RFC 8693 4.1: the outermost `act` is the current actor.
function actChain(act: unknown): string[] {
  const chain: string[] = [];
  for (let a = act as ActClaim | undefined; a && typeof a === 'object' && chain.length < 16; a = a.act) {
    if (typeof a.sub !== 'string') break;
    chain.push(a.sub);
  }
  return chain;
}

const TOKEN_KEYS = Object.keys(tokenClaimsSchema.shape);

// The claims the event schema knows, as it wants them; claims it would refuse
// are left out rather than lose the event. The schema itself takes a single
// audience and a space-delimited scope (the shapes identity providers send),
// so a valid token parses once, a token with a bad claim twice.
export function tokenOf(claims: Record<string, unknown> | undefined): EventInput['token'] {
  if (!claims) return undefined;
  const picked: Record<string, unknown> = {};
  for (const key of TOKEN_KEYS) if (claims[key] !== undefined) picked[key] = claims[key];
  const parsed = tokenClaimsSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const key = issue.path[0];
    if (typeof key === 'string' && !['iss', 'sub'].includes(key)) delete picked[key];
  }
  const retry = tokenClaimsSchema.safeParse(picked);
  return retry.success ? retry.data : undefined;
}

export function scopesOf(claims: Record<string, unknown> | undefined): string[] {
  const scope = claims?.scope ?? claims?.scp;
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  return Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : [];
}

export function humanOf(claims: Record<string, unknown> | undefined): EventInput['human'] {
  const sub = str(claims?.sub);
  const iss = str(claims?.iss);
  if (!claims || !sub || !iss) return null;
  // A client-credentials token names the client, not a person.
  if (!claims?.act && (sub === claims?.client_id || sub === claims?.azp)) return null;
  const email = str(claims.email);
  const name = str(claims.name);
  return { sub: clip(sub, 256), iss: clip(iss, 1024), ...(email ? { email: clip(email, 320) } : {}), ...(name ? { name: clip(name, 1024) } : {}) };
}

// The agent is the token's current actor, else the OAuth client, else what the
// client said in `initialize`.
export function agentOf(claims: Record<string, unknown> | undefined, client: ClientInfo | undefined): NonNullable<EventInput['agent']> {
  const current = actChain(claims?.act)[0];
  const clientId = str(claims?.client_id) ?? str(claims?.azp);
  const clientName = client ? (client.version ? `${client.name}/${client.version}` : client.name) : undefined;
  const id = current ?? clientId ?? clientName ?? 'unknown';
  const name = client?.title ?? client?.name;
  return {
    id: clip(id, 256),
    ...(name ? { name: clip(name, 1024) } : {}),
    runtime: clientId ? { kind: 'token', id: clip(clientId, 256) } : { kind: 'other', id: clip(clientName ?? 'unknown', 256) },
  };
}

export function toolOf(exchange: McpExchange, overrides: Record<string, ToolOverride> = {}): NonNullable<NonNullable<EventInput['target']>['tool']> {
  const { method, params, annotations } = exchange;
  const named = str(params.name);
  const name = method === 'tools/call' ? (named ?? '') : method;
  const resource = method === 'resources/read' ? str(params.uri) : method === 'prompts/get' ? named : undefined;
  const override = overrides[method === 'tools/call' ? name : `${method} ${resource ?? ''}`] ?? {};
  const sensitivity = override.sensitivity ?? sensitivityOf(method, annotations);
  return {
    name: clip(name || 'unnamed', 256),
    intent: override.intent ?? intentOf(method, annotations),
    ...(resource ? { resource: clip(resource, 1024) } : {}),
    ...(sensitivity ? { sensitivity } : {}),
    ...(override.required_scopes ? { required_scopes: override.required_scopes } : {}),
  };
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

// W3C trace context from `params._meta.traceparent`, else the HTTP header.
// A malformed or all-zero value is ignored rather than recorded.
export function traceOf(exchange: McpExchange): { trace_id: string; parent_id: string } | undefined {
  const meta = exchange.params._meta as Record<string, unknown> | undefined;
  const header = exchange.headers?.traceparent;
  const raw = str(meta?.traceparent) ?? (Array.isArray(header) ? header[0] : header);
  const match = raw ? TRACEPARENT.exec(raw.trim().toLowerCase()) : null;
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { trace_id: match[1]!, parent_id: match[2]! };
}

export function contextOf(exchange: McpExchange): NonNullable<EventInput['context']> {
  const trace = traceOf(exchange);
  exchange.spanId ??= randomBytes(8).toString('hex');
  const agentHeader = exchange.headers?.['user-agent'];
  const userAgent = Array.isArray(agentHeader) ? agentHeader[0] : agentHeader;
  return {
    session_id: clip(exchange.sessionId, 256),
    ...(trace ? { trace_id: trace.trace_id, span_id: exchange.spanId, parent_id: trace.parent_id } : { span_id: exchange.spanId }),
    request_id: clip(String(exchange.requestId), 256),
    ...(exchange.clientIp ? { client_ip: clip(exchange.clientIp, 64) } : {}),
    ...(userAgent ? { user_agent: clip(userAgent, 1024) } : {}),
  };
}

// What the request asked for, without the protocol's own metadata.
function requestPayload(exchange: McpExchange): unknown {
  if (exchange.method === 'tools/call') return exchange.params.arguments ?? {};
  const { _meta, ...rest } = exchange.params;
  void _meta;
  return rest;
}

function delegationOf(claims: Record<string, unknown> | undefined): EventInput['delegation'] {
  if (!claims) return { mode: 'none', scopes: [] };
  const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined;
  return {
    mode: claims.act ? 'obo_exchange' : 'oauth',
    scopes: scopesOf(claims).slice(0, 64).map((s) => clip(s, 256)),
    ...(exp ? { expires_at: exp } : {}),
  };
}

function common(exchange: McpExchange, options: MapOptions): EventInput {
  const hooks = options.hooks ?? {};
  const apply = <T>(hook: Hook<T> | undefined, value: T): T => (hook ? hook(exchange, value) : value);
  const { claims } = exchange;
  const chain = actChain(claims?.act);
  const attrs: Record<string, string> = { 'mcp.method': exchange.method };
  if (exchange.client?.name) attrs['mcp.client'] = clip(agentOf(undefined, exchange.client).runtime.id, 1024);
  if (exchange.annotations?.openWorldHint !== undefined) attrs['mcp.open_world'] = String(exchange.annotations.openWorldHint);
  const token = apply(hooks.token, tokenOf(claims));
  const actors = apply(hooks.actors, chain.length ? chain.map((id) => ({ id: clip(id, 256) })) : undefined);
  return {
    type: 'mcp.tool.call',
    tenant: options.tenant,
    human: apply(hooks.human, humanOf(claims)),
    agent: apply(hooks.agent, agentOf(claims, exchange.client)),
    ...(actors ? { actors } : {}),
    delegation: apply(hooks.delegation, delegationOf(claims)),
    ...(token ? { token } : {}),
    target: { server: options.server, tool: apply(hooks.tool, toolOf(exchange, options.tools)) },
    context: apply(hooks.context, contextOf(exchange)),
    attrs,
  };
}

function finish(exchange: McpExchange, options: MapOptions, event: EventInput): EventInput | null {
  return options.hooks?.event ? options.hooks.event(exchange, event) : event;
}

// The request, with what the enforcement point decided about it. A request
// other than a tool call, resource read or prompt (e.g. an initialize refused
// for its token) is an authz.decision.
export function callEvent(exchange: McpExchange, options: MapOptions, decision: Decision = { outcome: 'allow' }): EventInput | null {
  const args = canonicalJson(requestPayload(exchange));
  const event: EventInput = {
    ...common(exchange, options),
    type: isAuditedMethod(exchange.method) ? 'mcp.tool.call' : 'authz.decision',
    time: new Date(exchange.startedAt).toISOString(),
    decision: {
      outcome: decision.outcome,
      policy: decision.policy ?? options.policy ?? DEFAULT_POLICY,
      ...(decision.reason ? { reason: clip(decision.reason, 1024) } : {}),
      ...(decision.obligations ? { obligations: decision.obligations } : {}),
      decided_by: options.decidedBy,
    },
    payload: { args_sha256: sha256Hex(args), bytes: Buffer.byteLength(args) },
  };
  return finish(exchange, options, event);
}

// What came back: the tool's own `isError`, or the JSON-RPC error.
export function resultEvent(exchange: McpExchange, options: MapOptions): EventInput | null {
  const { response } = exchange;
  const error = response?.error;
  const result = response?.result as { isError?: unknown; _meta?: unknown } | undefined;
  const body = error ? canonicalJson(error) : canonicalJson(result ?? null);
  const event: EventInput = {
    ...common(exchange, options),
    type: 'mcp.tool.result',
    time: new Date(exchange.startedAt + (exchange.durationMs ?? 0)).toISOString(),
    payload: { result_sha256: sha256Hex(body), bytes: Buffer.byteLength(body) },
    result: {
      is_error: Boolean(error) || result?.isError === true,
      ...(error && Number.isInteger(error.code) ? { error_code: error.code } : {}),
      ...(exchange.durationMs !== undefined ? { duration_ms: Math.round(exchange.durationMs * 1000) / 1000 } : {}),
    },
  };
  return finish(exchange, options, event);
}
