// What both HTTP services share: one JSON error shape from the catalogue,
// health and readiness probes, and Prometheus metrics.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { ActorlogError } from './errors.js';
import type { Component, Metrics } from './metrics.js';
import { redactUrl } from './redact.js';

declare module 'fastify' {
  interface FastifyRequest {
    // The caller's own X-Request-Id, bounded, kept beside actorlog's id.
    callerRequestId?: string;
    // Refused at the connection (a body timeout) and recorded as such: the
    // framework's later answer to the dead socket is no answer to record.
    refusedAtConnection?: boolean;
  }
}

// A caller's request id is kept only when it is a short printable token.
const CALLER_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
// Path ids may be as long as the API's identifier schema allows (256) and are
// validated there with the one error shape; the router only stops the absurd.
export const MAX_PARAM_LENGTH = 1024;

export interface ServiceOptions {
  // The `name` of the service's log lines.
  name: string;
  // Whose actorlog_component_errors_total counts the service's error answers.
  component: Component;
  logLevel: string;
  bodyLimit?: number;
  // A request not received whole (headers and body) in this time is cut off
  // with 408, so slow senders cannot hold connections (default 30 s).
  bodyTimeoutMs?: number;
  metrics: Metrics;
  // Readiness: resolves when the service's dependencies answer.
  ready: () => Promise<void>;
  // Records every answer before it is sent (an onSend hook), refusals by the
  // framework included; may replace the answer (the query API's access log).
  record?: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
  // Records a refusal at the connection (408, 431, malformed HTTP) before it
  // is answered; false when it could not be recorded (then 503 is answered).
  recordRefusal?: (refusal: ConnectionRefusal) => Promise<boolean>;
}

// A request refused at the connection, before (or instead of) any route.
export interface ConnectionRefusal {
  // actorlog's own: the request's when the framework had begun it, else a new one.
  requestId: string;
  // The framework's request, when its headers had arrived (a body timeout).
  request?: FastifyRequest;
  reply?: FastifyReply;
  // From the request line when it could be read, else ''.
  method: string;
  url: string;
  callerRequestId?: string;
  status: number;
  clientIp: string;
}

// The request line of a refused request's first bytes, when they hold one.
const REQUEST_LINE = /^([A-Z]{1,16}) ([\x21-\x7e]{1,8192}) HTTP\/1\.[01]\r?\n/;

export function createService(opts: ServiceOptions): FastifyInstance {
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? 30_000;
  const fastifyOptions: FastifyServerOptions & { http?: ServerOptions } = {
    logger:
      opts.logLevel === 'silent'
        ? false
        : {
            level: opts.logLevel,
            // The same line shape as lib/logger.ts, on the same stream (stderr):
            // level by name, ISO time, the service's name; fastify adds reqId.
            stream: process.stderr,
            base: { name: opts.name },
            timestamp: () => `,"time":"${new Date().toISOString()}"`,
            formatters: { level: (label: string) => ({ level: label }) },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            serializers: {
              // Secrets a caller put in the query string never reach the log.
              req: (request: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
                method: request.method,
                url: redactUrl(request.url),
                remoteAddress: request.ip ?? request.socket?.remoteAddress,
              }),
            },
          },
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    requestTimeout: bodyTimeoutMs,
    // Node 20 enforces the timeout only when it is given at creation, and checks
    // on this period (30 s by default, which would let a slow sender hold its
    // connection up to twice the timeout).
    http: { requestTimeout: bodyTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(bodyTimeoutMs / 4))) },
    // Refusals at the connection, before any request exists (body timeout,
    // headers too large, malformed HTTP): answered in the error shape,
    // counted, and logged, since no route or access log sees them.
    clientErrorHandler(err, socket) {
      if ((err as { code?: string }).code === 'ECONNRESET' || socket.destroyed) return;
      const code = (err as { code?: string }).code;
      const error = new ActorlogError(code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST', code);
      opts.metrics.add('actorlog_connection_errors_total', { service: opts.name, code: error.code });
      (this as FastifyInstance).log.warn({ code: error.code, cause: code, remoteAddress: socket.remoteAddress }, 'request refused at the connection');
      // As Node does: answer only when no answer of this request has begun.
      const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (!socket.writable || inFlight?.headersSent) {
        socket.destroy(err);
        return;
      }
      const refusal = connectionRefusal(err, socket, error.statusCode);
      const answer = (answered: ActorlogError) => {
        if (socket.destroyed) return;
        const body = JSON.stringify(answered.toJSON());
        socket.write(
          `HTTP/1.1 ${answered.statusCode} ${STATUS_CODES[answered.statusCode]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nX-Request-Id: ${refusal.requestId}\r\nConnection: close\r\n\r\n${body}`,
        );
        socket.destroy(err);
      };
      if (!opts.recordRefusal) return answer(error);
      // Recorded before the answer, like every other answer: the socket is
      // held (it reads nothing more) until the row is stored; no record, no answer.
      socket.pause();
      const unrecorded = () => {
        (this as FastifyInstance).log.error({ requestId: refusal.requestId }, 'access log write failed');
        answer(new ActorlogError('STORAGE_UNAVAILABLE', 'the access log cannot be written'));
      };
      void opts.recordRefusal(refusal).then((recorded) => (recorded ? answer(error) : unrecorded()), unrecorded);
    },
    // actorlog names each request itself: a caller-chosen id could collide
    // with another request's or carry anything. The caller's id is kept apart.
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // While stopping, requests already on a connection are answered (and
    // recorded) rather than refused by the framework unrecorded.
    return503OnClosing: false,
    frameworkErrors: (err, request, reply) => {
      const error =
        (err as { code?: string }).code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ActorlogError('URI_TOO_LONG')
          : new ActorlogError('BAD_REQUEST', (err as { code?: string }).code === 'FST_ERR_BAD_URL' ? 'the URL is not valid' : undefined);
      void answerRefusal(request, reply, error);
    },
  };
  const app = Fastify(fastifyOptions);

  // The framework's request of each raw request whose headers arrived, so a
  // body timeout is recorded under the request's own id and caller.
  const begun = new WeakMap<object, { request: FastifyRequest; reply: FastifyReply }>();

  function connectionRefusal(err: unknown, socket: Duplex, status: number): ConnectionRefusal {
    const incoming = (socket as { parser?: { incoming?: { method?: string; url?: string; headers?: Record<string, unknown> } | null } }).parser?.incoming ?? undefined;
    const known = incoming ? begun.get(incoming) : undefined;
    if (known) known.request.refusedAtConnection = true;
    let method = incoming?.method ?? '';
    let url = incoming?.url ?? '';
    if (!incoming) {
      // Before the headers were whole: only the first bytes, if they hold a request line.
      const raw = (err as { rawPacket?: Buffer }).rawPacket;
      const line = raw ? REQUEST_LINE.exec(raw.subarray(0, 8300).toString('latin1')) : null;
      if (line) [, method = '', url = ''] = line;
    }
    const callerHeader = incoming?.headers?.['x-request-id'];
    return {
      requestId: known?.request.id ?? randomUUID(),
      ...(known ? known : {}),
      method,
      url: redactUrl(url),
      ...(typeof callerHeader === 'string' && CALLER_REQUEST_ID.test(callerHeader) ? { callerRequestId: callerHeader } : {}),
      status,
      clientIp: (socket as { remoteAddress?: string }).remoteAddress ?? '',
    };
  }

  async function answerRefusal(request: FastifyRequest, reply: FastifyReply, error: ActorlogError): Promise<void> {
    opts.metrics.error(opts.component, error);
    readCallerRequestId(request);
    reply.code(error.statusCode).header('content-type', 'application/json; charset=utf-8').header('x-request-id', request.id);
    let body: unknown = JSON.stringify(error.toJSON());
    // No route context: the onSend hooks do not run, so record here.
    if (opts.record) body = await opts.record(request, reply, body);
    void reply.send(body);
  }

  function readCallerRequestId(request: FastifyRequest): void {
    const header = request.headers['x-request-id'];
    if (typeof header === 'string' && CALLER_REQUEST_ID.test(header)) request.callerRequestId = header;
  }

  app.addHook('onRequest', async (request, reply) => {
    begun.set(request.raw, { request, reply });
    readCallerRequestId(request);
    void reply.header('x-request-id', request.id);
  });
  if (opts.record) app.addHook('onSend', opts.record);

  app.setErrorHandler((err, request, reply) => {
    const error = toActorlogError(err);
    opts.metrics.error(opts.component, error);
    if (error.statusCode >= 500) request.log.error({ err }, 'request failed');
    // RFC 6750: a 401 names the scheme; with a token presented, why it failed.
    if (error.code === 'UNAUTHORIZED')
      void reply.header('www-authenticate', request.headers.authorization ? 'Bearer realm="actorlog", error="invalid_token"' : 'Bearer realm="actorlog"');
    void reply.status(error.statusCode).send(error.toJSON());
  });
  app.setNotFoundHandler((_request, reply) => {
    opts.metrics.error(opts.component, 'NOT_FOUND');
    void reply.status(404).send(new ActorlogError('NOT_FOUND').toJSON());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await opts.ready();
      return { status: 'ready' };
    } catch (err) {
      return reply.status(503).send({ status: 'not_ready', reason: (err as Error).message });
    }
  });
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(opts.metrics.render()));
  return app;
}

function toActorlogError(err: unknown): ActorlogError {
  if (err instanceof ActorlogError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ActorlogError('BODY_TOO_LARGE');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ActorlogError('UNSUPPORTED_MEDIA_TYPE');
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new ActorlogError('BAD_REQUEST', e.message);
  return new ActorlogError('INTERNAL', undefined, { cause: err });
}
