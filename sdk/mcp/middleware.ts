// Audit for servers built on the official MCP TypeScript SDK:
//
//   const server = new McpServer({ name: 'files', version: '1.0.0' });
//   auditMcpServer(server, { emitter, tenant: 'acme' });
//   await server.connect(transport);
//
// It wraps every transport the server connects to, so each tools/call,
// resources/read and prompts/get (and its answer) is seen exactly as the
// client sent it, with the verified token (`AuthInfo`) the transport carries.
// Only types come from @modelcontextprotocol/sdk (a peer dependency).
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { uuidv7 } from '../uuidv7.js';
import type { ToolAnnotations } from './map.js';
import { McpObserver, type JsonRpcMessage, type ObserverOptions, type RequestContext } from './observer.js';

export interface AuditOptions extends Omit<ObserverOptions, 'decidedBy' | 'server' | 'annotationsFor'> {
  // The server as events name it; defaults to the name it gives in `initialize`,
  // and the audience to that name (set it to the canonical resource URI).
  server?: { id?: string; audience?: string };
  // The decoded claims of the verified token. Default: `authInfo.extra.claims`
  // when the token verifier put them there, else what AuthInfo itself says.
  claimsOf?: (authInfo: AuthInfo) => Record<string, unknown> | undefined;
  // Session id when the transport has none (stdio): one per connection by default.
  sessionId?: () => string;
}

// What AuthInfo carries when the verifier kept nothing else. Never the token.
export function claimsFromAuthInfo(authInfo: AuthInfo): Record<string, unknown> {
  const extra = authInfo.extra ?? {};
  if (extra.claims && typeof extra.claims === 'object') return extra.claims as Record<string, unknown>;
  const claims: Record<string, unknown> = { ...extra, client_id: authInfo.clientId, scope: authInfo.scopes };
  if (authInfo.expiresAt !== undefined) claims.exp = authInfo.expiresAt;
  if (authInfo.resource) claims.aud = [authInfo.resource.href];
  delete claims.token;
  return claims;
}

type Audited = McpServer | Server;
const lowLevel = (server: Audited): Server => ('server' in server && typeof server.server?.connect === 'function' ? server.server : (server as Server));

export function auditMcpServer(server: Audited, options: AuditOptions): McpObserver {
  const target = lowLevel(server);
  // Private in the SDK's types; read defensively so a future SDK without them only loses defaults.
  const internals = target as unknown as { _serverInfo?: { name?: string } };
  const tools = (server as unknown as { _registeredTools?: Record<string, { annotations?: ToolAnnotations }> })._registeredTools;
  const id = options.server?.id ?? internals._serverInfo?.name ?? 'mcp-server';
  const observer = new McpObserver({
    ...options,
    decidedBy: 'server',
    server: { id, audience: options.server?.audience ?? id },
    annotationsFor: (name) => tools?.[name]?.annotations,
  });
  const claimsOf = options.claimsOf ?? claimsFromAuthInfo;
  const newSession = options.sessionId ?? uuidv7;
  const connect = target.connect.bind(target);
  target.connect = (transport: Transport) => connect(new AuditedTransport(transport, observer, newSession(), claimsOf));
  return observer;
}

// Delegates everything to the wrapped transport and shows the observer each message.
class AuditedTransport implements Transport {
  private handler?: Transport['onmessage'];
  private closeHandler?: () => void;

  constructor(
    private readonly inner: Transport,
    private readonly observer: McpObserver,
    private readonly fallbackSession: string,
    private readonly claimsOf: (authInfo: AuthInfo) => Record<string, unknown> | undefined,
  ) {}

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }
  private get session(): string {
    return this.inner.sessionId ?? this.fallbackSession;
  }

  get onclose(): (() => void) | undefined {
    return this.closeHandler;
  }
  set onclose(handler: (() => void) | undefined) {
    this.closeHandler = handler;
    this.inner.onclose = () => {
      this.observer.endSession(this.session);
      this.closeHandler?.();
    };
  }
  get onerror(): ((error: Error) => void) | undefined {
    return this.inner.onerror;
  }
  set onerror(handler: ((error: Error) => void) | undefined) {
    this.inner.onerror = handler;
  }
  get onmessage(): Transport['onmessage'] {
    return this.handler;
  }
  set onmessage(handler: Transport['onmessage']) {
    this.handler = handler;
    this.inner.onmessage = handler ? (message, extra) => this.receive(message, extra) : undefined;
  }
  get setProtocolVersion(): Transport['setProtocolVersion'] {
    return this.inner.setProtocolVersion?.bind(this.inner);
  }

  start(): Promise<void> {
    return this.inner.start();
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.watch(() => this.observer.fromServer(message as JsonRpcMessage, this.session));
    return this.inner.send(message, options);
  }

  private receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const deliver = () => this.handler?.(message, extra);
    const ctx: RequestContext = { sessionId: this.session };
    let verdict: ReturnType<McpObserver['fromClient']>;
    try {
      if (extra?.authInfo) {
        const claims = this.claimsOf(extra.authInfo);
        if (claims) ctx.claims = claims;
      }
      if (extra?.requestInfo?.headers) ctx.headers = extra.requestInfo.headers;
      verdict = this.observer.fromClient(message as JsonRpcMessage, ctx);
    } catch {
      // Auditing must never stand between a client and its tool.
      verdict = undefined;
    }
    const answer = (denial: Awaited<typeof verdict>) => {
      if (!denial) return deliver();
      this.inner.send(denial, { relatedRequestId: denial.id }).catch((err: Error) => this.inner.onerror?.(err));
    };
    if (verdict instanceof Promise) verdict.then(answer, () => deliver());
    else answer(verdict);
  }

  private watch(observe: () => void): void {
    try {
      observe();
    } catch {
      /* never let auditing fail a send */
    }
  }
}
