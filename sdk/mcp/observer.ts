// Watches the JSON-RPC messages of MCP connections go by and turns the audited
// ones into events. Shared by the middleware (wrapping an SDK transport) and
// the proxy (between two byte streams): both hand it each message, it never
// changes one, and it only answers a request itself when the policy denies it.
// Emitting never blocks or fails the call: mapping, validating and signing an
// event wait until the message has gone on (the next turn of the event loop),
// events go to the emitter's outbox without being awaited, and a failure is
// counted, not thrown.
import type { EventInput } from '../schema/event.js';
import {
  callEvent,
  isAuditedMethod,
  resultEvent,
  type AuditedMethod,
  type ClientInfo,
  type Decision,
  type MapOptions,
  type McpExchange,
  type ToolAnnotations,
} from './map.js';

export interface EventSink {
  emit(input: EventInput): Promise<unknown>;
}

export type JsonRpcId = string | number;
export interface JsonRpcMessage {
  jsonrpc?: unknown;
  id?: JsonRpcId | null;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message?: string; data?: unknown };
}
export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  error: { code: number; message: string };
}

// Where a message came from, beyond the message itself.
export interface RequestContext {
  sessionId: string;
  claims?: Record<string, unknown>;
  headers?: Record<string, string | string[] | undefined>;
  clientIp?: string;
}

export interface PolicyRequest {
  method: AuditedMethod;
  params: Record<string, unknown>;
  claims?: Record<string, unknown>;
  client?: ClientInfo;
  annotations?: ToolAnnotations;
  sessionId: string;
}
export type Policy = (request: PolicyRequest) => Decision | Promise<Decision>;

export interface ObserverOptions extends MapOptions {
  emitter: EventSink;
  // Decides each audited request before it reaches the server; none: all allowed.
  authorize?: Policy;
  // Annotations the observer has not seen in a tools/list answer (the middleware knows them).
  annotationsFor?: (tool: string) => ToolAnnotations | undefined;
  onEmitError?: (err: Error) => void;
}

// JSON-RPC server-defined error code answered for a request the policy denies.
export const DENIED_ERROR_CODE = -32003;
// Requests waiting for their answer, over every session; past this the oldest
// is forgotten (and counted) so a client that never reads cannot grow memory.
const MAX_PENDING = 10_000;
// Events mapped and signed per turn of the event loop, so a burst of messages
// does not hold the loop for one long stretch; and events waiting at most,
// past which new ones are dropped and counted (an emitter that cannot keep up
// must not grow memory without bound).
const EVENTS_PER_TURN = 64;
const MAX_QUEUED_EVENTS = 50_000;

const isRequest = (m: JsonRpcMessage) => typeof m.method === 'string' && m.id !== undefined && m.id !== null;
const isResponse = (m: JsonRpcMessage) => m.method === undefined && m.id !== undefined && m.id !== null && ('result' in m || 'error' in m);
const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export class McpObserver {
  readonly stats = { calls: 0, results: 0, denied: 0, emitted: 0, emitFailed: 0, forgotten: 0, dropped: 0 };
  private readonly pending = new Map<string, McpExchange | 'tools/list'>();
  // Events to map and emit once the messages that made them have gone on, in order.
  private readonly queued: (() => EventInput | null)[] = [];
  private queueHead = 0;
  private draining = false;
  private readonly clients = new Map<string, ClientInfo>();
  private readonly annotations = new Map<string, ToolAnnotations>();

  constructor(private readonly options: ObserverOptions) {}

  // A message from the client. Undefined: pass it on. An error response: answer
  // the client with it instead (the policy denied the request).
  fromClient(message: JsonRpcMessage, ctx: RequestContext): undefined | JsonRpcErrorResponse | Promise<undefined | JsonRpcErrorResponse> {
    if (!isRequest(message)) return undefined;
    const key = keyOf(ctx.sessionId, message.id!);
    const params = asRecord(message.params);
    if (message.method === 'initialize') {
      const info = asRecord(params.clientInfo);
      if (typeof info.name === 'string') {
        this.clients.set(ctx.sessionId, {
          name: info.name,
          ...(typeof info.version === 'string' ? { version: info.version } : {}),
          ...(typeof info.title === 'string' ? { title: info.title } : {}),
        });
      }
      return undefined;
    }
    if (message.method === 'tools/list') {
      this.remember(key, 'tools/list');
      return undefined;
    }
    if (!isAuditedMethod(message.method)) return undefined;
    const method = message.method;
    const exchange = this.exchangeOf(message, ctx);
    this.stats.calls++;
    if (!this.options.authorize) {
      this.admit(key, exchange, { outcome: 'allow' });
      return undefined;
    }
    const request: PolicyRequest = { method, params, sessionId: ctx.sessionId };
    if (exchange.claims) request.claims = exchange.claims;
    if (exchange.client) request.client = exchange.client;
    if (exchange.annotations) request.annotations = exchange.annotations;
    let decision: Decision | Promise<Decision>;
    try {
      decision = this.options.authorize(request);
    } catch (err) {
      decision = { outcome: 'deny', reason: `policy failed: ${(err as Error).message}` };
    }
    const settle = (d: Decision) => (d.outcome === 'deny' ? this.deny(exchange, d) : this.admit(key, exchange, d));
    if (decision instanceof Promise) {
      // A policy that fails closes the door: an audit point does not let through what it could not decide.
      return decision.then(settle, (err: Error) => this.deny(exchange, { outcome: 'deny', reason: `policy failed: ${err.message}` }));
    }
    return settle(decision);
  }

  // A message from the server: the answer to an audited request is recorded.
  fromServer(message: JsonRpcMessage, sessionId: string): void {
    if (!isResponse(message)) return;
    const key = keyOf(sessionId, message.id!);
    const pending = this.pending.get(key);
    if (!pending) return;
    this.pending.delete(key);
    if (pending === 'tools/list') {
      this.learnTools(message.result);
      return;
    }
    const exchange = pending;
    exchange.durationMs = Date.now() - exchange.startedAt;
    exchange.response = message.error ? { error: message.error } : { result: message.result };
    this.stats.results++;
    this.send(() => resultEvent(exchange, this.options));
  }

  // A request refused before it reached the observer (e.g. the proxy's token
  // check): recorded as a denied call, or a denied authz.decision when it was
  // not a tool call. Responses and notifications are not requests: nothing to record.
  refuse(message: JsonRpcMessage, ctx: RequestContext, decision: Decision): void {
    if (isRequest(message)) this.recordDenied(this.exchangeOf(message, ctx), decision);
  }

  private recordDenied(exchange: McpExchange, decision: Decision): void {
    this.stats.denied++;
    this.send(() => callEvent(exchange, this.options, decision));
  }

  private exchangeOf(message: JsonRpcMessage, ctx: RequestContext): McpExchange {
    const params = asRecord(message.params);
    const method = String(message.method);
    const exchange: McpExchange = { method, params, requestId: message.id!, sessionId: ctx.sessionId, startedAt: Date.now() };
    if (ctx.claims) exchange.claims = ctx.claims;
    if (ctx.headers) exchange.headers = withoutCredentials(ctx.headers);
    if (ctx.clientIp) exchange.clientIp = ctx.clientIp;
    const client = this.clients.get(ctx.sessionId);
    if (client) exchange.client = client;
    const toolName = method === 'tools/call' && typeof params.name === 'string' ? params.name : undefined;
    const annotations = toolName ? (this.annotations.get(toolName) ?? this.options.annotationsFor?.(toolName)) : undefined;
    if (annotations) exchange.annotations = annotations;
    return exchange;
  }

  // The connection is gone: what was still waiting will never be answered.
  endSession(sessionId: string): void {
    // Its events go to the emitter now, so a flush or close right after the
    // connection ends includes them.
    this.emitQueued();
    this.clients.delete(sessionId);
    const prefix = `${sessionId}\u0000`;
    for (const key of this.pending.keys()) if (key.startsWith(prefix)) this.pending.delete(key);
  }

  clientOf(sessionId: string): ClientInfo | undefined {
    return this.clients.get(sessionId);
  }

  private learnTools(result: unknown): void {
    const tools = asRecord(result).tools;
    if (!Array.isArray(tools)) return;
    for (const tool of tools) {
      const { name, annotations } = asRecord(tool);
      if (typeof name === 'string' && annotations && typeof annotations === 'object') this.annotations.set(name, annotations as ToolAnnotations);
    }
  }

  private admit(key: string, exchange: McpExchange, decision: Decision): undefined {
    this.remember(key, exchange);
    this.send(() => callEvent(exchange, this.options, decision));
    return undefined;
  }

  private deny(exchange: McpExchange, decision: Decision): JsonRpcErrorResponse {
    this.recordDenied(exchange, decision);
    return {
      jsonrpc: '2.0',
      id: exchange.requestId,
      error: { code: DENIED_ERROR_CODE, message: `denied by policy${decision.reason ? `: ${decision.reason}` : ''}` },
    };
  }

  private remember(key: string, value: McpExchange | 'tools/list'): void {
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
      this.stats.forgotten++;
    }
    this.pending.set(key, value);
  }

  private send(event: () => EventInput | null): void {
    if (this.queued.length - this.queueHead >= MAX_QUEUED_EVENTS) {
      this.stats.dropped++;
      if (this.stats.dropped === 1) this.failed(new Error(`more than ${MAX_QUEUED_EVENTS} events waiting to be emitted; dropping (counted in stats.dropped)`), false);
      return;
    }
    this.queued.push(event);
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  // Maps and emits every event still waiting, now (e.g. before closing the emitter).
  emitQueued(): void {
    this.drain(Infinity);
  }

  private drain(limit = EVENTS_PER_TURN): void {
    const end = Math.min(this.queued.length, this.queueHead + limit);
    for (; this.queueHead < end; this.queueHead++) {
      const make = this.queued[this.queueHead]!;
      try {
        const event = make();
        if (event) this.options.emitter.emit(event).then(() => this.stats.emitted++, (err: unknown) => this.failed(err));
      } catch (err) {
        this.failed(err);
      }
    }
    if (this.queueHead < this.queued.length) {
      setImmediate(() => this.drain());
      return;
    }
    // Emptied here or by emitQueued: the scheduled drain (if any) finds nothing.
    this.queued.length = 0;
    this.queueHead = 0;
    this.draining = false;
  }

  private failed(err: unknown, count = true): void {
    if (count) this.stats.emitFailed++;
    try {
      this.options.onEmitError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      /* a failing error callback must not reach the tool call either */
    }
  }
}

// Hooks see the request's headers; credentials are not theirs to see.
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
function withoutCredentials(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  const kept: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) kept[name] = value;
  return kept;
}

const keyOf = (sessionId: string, id: JsonRpcId) => `${sessionId}\u0000${typeof id}:${id}`;
