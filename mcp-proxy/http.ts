// `actorlog mcp-proxy --listen HOST:PORT --upstream URL`: a Streamable HTTP
// MCP endpoint in front of another one. Requests with a valid bearer token for
// this resource are relayed as they are (body, method, MCP headers, status,
// SSE streams), except that the client's token stays here: the upstream gets
// the proxy's own credentials, if any. The observer sees every JSON-RPC
// message both ways and records the audited ones; refusals are recorded too.
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { McpObserver, RequestContext } from '@actorlog/sdk/mcp';
import type { BearerAuth } from './auth.js';
import { messagesOf } from './lines.js';
import { originGuard, type OriginGuard } from './origin.js';
import { RefusalLimit, type RefusalStats } from './refusal-limit.js';
import { SseTap } from './sse.js';
import type { ToolPolicy } from './tool-policy.js';

export interface HttpProxyOptions {
  host: string;
  port: number;
  upstream: string;
  observer: McpObserver;
  // None: no authentication (only when asked for explicitly).
  auth?: BearerAuth;
  // Sent upstream as the Authorization header instead of the client's token.
  upstreamAuthorization?: string;
  // Largest request body relayed (JSON-RPC messages are small; default 4 MiB).
  maxBodyBytes?: number;
  // The canonical URI clients use (the auth's resource when authenticating).
  resource?: string;
  // Host and Origin headers accepted beyond the listen address and the resource's origin.
  allowedHosts?: string[];
  allowedOrigins?: string[];
  // Tool calls it denies are answered here and never reach the upstream.
  policy?: ToolPolicy;
  // Refusals recorded per client address and window; beyond, 429 and counted
  // (default 20 a minute; limit 0: every refusal recorded).
  refusalLimit?: { limit: number; windowMs: number };
  // Told when an address's window ends with refusals counted beyond the limit.
  log?: (line: string) => void;
}

export interface RunningHttpProxy {
  url: string;
  // What the DNS rebinding check accepts, defaults included.
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  // Refused requests: all, recorded as events, and answered 429 beyond the limit.
  stats: RefusalStats;
  close(): Promise<void>;
}

// RFC 9110 section 7.6.1 and the ones only this hop may see.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'host', 'content-length']);

function forwardedHeaders(headers: http.IncomingHttpHeaders, drop: Set<string>): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const named = new Set((headers.connection ?? '').split(',').map((h) => h.trim().toLowerCase()));
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function answer(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export async function startHttpProxy(options: HttpProxyOptions): Promise<RunningHttpProxy> {
  const upstream = new URL(options.upstream);
  const client = upstream.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true });
  const { observer, auth } = options;
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const mcpPath = auth ? new URL(auth.resource).pathname : upstream.pathname;
  const metadataPath = auth ? new URL(auth.metadataUrl).pathname : undefined;
  const dropUpstream = new Set(['authorization', 'cookie']);
  const refusalOptions = options.refusalLimit ?? { limit: 20, windowMs: 60_000 };
  const refusals = new RefusalLimit({
    ...refusalOptions,
    onLimited: (address, counted) => options.log?.(`${counted} refused requests from ${address} answered 429 and counted, not recorded (over ${refusalOptions.limit} in ${refusalOptions.windowMs / 1000} s)`),
  });
  const sweeper = setInterval(() => refusals.sweep(), Math.max(1_000, refusalOptions.windowMs)).unref();

  // Set once the port is known (it may be 0 until then), before any request.
  let guard: OriginGuard;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) answer(res, 502, { error: 'bad_gateway', error_description: err.message });
      else res.destroy(err);
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const badHost = guard.checkHost(req.headers.host);
    const forbidden = (reason: string) => answer(res, 403, { jsonrpc: '2.0', id: null, error: { code: -32000, message: reason } });
    if (metadataPath && auth && req.method === 'GET' && (url.pathname === metadataPath || url.pathname === '/.well-known/oauth-protected-resource')) {
      // Public, and read by browser clients of other origins: only the Host is checked.
      if (badHost) return forbidden(badHost);
      return answer(res, 200, auth.metadata(), { 'access-control-allow-origin': '*' });
    }
    if (url.pathname !== mcpPath) return answer(res, 404, { error: 'not_found' });

    const body = req.method === 'POST' ? await readBody(req, limit) : Buffer.alloc(0);
    if (!body) return answer(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32600, message: `request body over ${limit} bytes` } });
    const messages = body.length ? messagesOf(body.toString('utf8')) : [];
    const requestSession = one(req.headers['mcp-session-id']);
    const ctx: RequestContext = {
      sessionId: requestSession ?? `http:${randomUUID()}`,
      headers: req.headers,
      ...(req.socket.remoteAddress ? { clientIp: req.socket.remoteAddress } : {}),
    };

    // A refusal is recorded as denied events and answered, unless its address
    // is over its limit: then it is answered 429 and counted.
    const refuse = (reason: string, refused: RequestContext, reply: () => void) => {
      const taken = refusals.take(req.socket.remoteAddress);
      if (!taken.recorded) {
        return answer(res, 429, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'too many refused requests from this address' } }, { 'retry-after': String(taken.retryAfterSeconds) });
      }
      for (const message of messages) observer.refuse(message, refused, { outcome: 'deny', reason });
      if (messages.length === 0) observer.refuse({ id: 'http', method: `http/${req.method ?? 'GET'}` }, refused, { outcome: 'deny', reason });
      reply();
    };
    // MCP transports: an invalid Origin MUST get 403, whatever the token says.
    const rebinding = badHost ?? guard.checkOrigin(one(req.headers.origin));
    if (rebinding) return refuse(rebinding, ctx, () => forbidden(rebinding));

    if (auth) {
      const verdict = await auth.verify(one(req.headers.authorization));
      if (!verdict.ok) {
        const status = verdict.error === 'invalid_request' && verdict.reason !== 'no bearer token' ? 400 : 401;
        return refuse(verdict.reason, verdict.claims ? { ...ctx, claims: verdict.claims } : ctx, () =>
          answer(res, status, { error: verdict.error, error_description: verdict.reason }, { 'www-authenticate': auth.challenge(verdict) }),
        );
      }
      ctx.claims = verdict.claims;
    }

    const denial = body.length ? options.policy?.screen(body) : undefined;
    if (denial) {
      for (const { message, reason } of denial.refused) observer.refuse(message, ctx, { outcome: 'deny', reason });
      // Only notifications refused: accepted with no body, as Streamable HTTP answers them.
      if (denial.answer === undefined) {
        res.writeHead(202, { 'cache-control': 'no-store' });
        res.end();
        return;
      }
      return answer(res, denial.refused.length ? 200 : 400, denial.answer);
    }

    const headers = forwardedHeaders(req.headers, dropUpstream);
    if (options.upstreamAuthorization) headers.authorization = options.upstreamAuthorization;
    if (body.length) headers['content-length'] = body.length;
    // Messages of a request that has no session yet (initialize, or a stateless
    // server) are seen once the upstream has named the session.
    let seen = false;
    const see = (sessionId: string) => {
      if (seen) return;
      seen = true;
      ctx.sessionId = sessionId;
      for (const message of messages) observer.fromClient(message, ctx);
    };
    if (requestSession) see(requestSession);

    const upstreamRes = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const upstreamReq = client.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, path: `${upstream.pathname}${url.search}`, method: req.method, headers, agent },
        resolve,
      );
      upstreamReq.once('error', reject);
      // The client went away before its answer was complete: so does the
      // relayed request (and its stream). A finished one keeps its pooled connection.
      res.once('close', () => {
        if (!res.writableFinished) upstreamReq.destroy();
      });
      upstreamReq.end(body.length ? body : undefined);
    });
    const sessionId = requestSession ?? one(upstreamRes.headers['mcp-session-id']) ?? ctx.sessionId;
    see(sessionId);
    if (req.method === 'DELETE' && upstreamRes.statusCode && upstreamRes.statusCode < 300) observer.endSession(sessionId);

    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, forwardedHeaders(upstreamRes.headers, new Set()) as http.OutgoingHttpHeaders);
    const type = (upstreamRes.headers['content-type'] ?? '').toLowerCase();
    const fromServer = (text: string) => {
      for (const message of messagesOf(text)) observer.fromServer(message, sessionId);
    };
    if (type.startsWith('text/event-stream')) {
      upstreamRes.pipe(new SseTap(fromServer)).pipe(res);
    } else if (type.startsWith('application/json')) {
      const chunks: Buffer[] = [];
      let size = 0;
      upstreamRes.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
      });
      upstreamRes.once('end', () => {
        if (size <= limit) fromServer(Buffer.concat(chunks).toString('utf8'));
      });
      upstreamRes.pipe(res);
    } else {
      upstreamRes.pipe(res);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  guard = originGuard({
    listenHost: options.host,
    port: address.port,
    ...(options.resource || auth ? { resource: options.resource ?? auth!.resource } : {}),
    allowedHosts: options.allowedHosts ?? [],
    allowedOrigins: options.allowedOrigins ?? [],
  });
  return {
    url: `http://${host}:${address.port}${mcpPath}`,
    allowedHosts: guard.allowedHosts,
    allowedOrigins: guard.allowedOrigins,
    stats: refusals.stats,
    close: async () => {
      clearInterval(sweeper);
      refusals.sweep(true);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
