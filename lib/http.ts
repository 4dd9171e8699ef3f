// What both HTTP services share: one JSON error shape from the catalogue,
// health and readiness probes, and Prometheus metrics.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ActorlogError } from './errors.js';
import type { Metrics } from './metrics.js';

export interface ServiceOptions {
  logLevel: string;
  bodyLimit?: number;
  metrics: Metrics;
  // Readiness: resolves when the service's dependencies answer.
  ready: () => Promise<void>;
}

export function createService(opts: ServiceOptions): FastifyInstance {
  const fastifyOptions: FastifyServerOptions = {
    logger: opts.logLevel === 'silent' ? false : { level: opts.logLevel, redact: ['req.headers.authorization'] },
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // The request id is the caller's when it sends one, for end-to-end tracing.
    requestIdHeader: 'x-request-id',
  };
  const app = Fastify(fastifyOptions);

  app.setErrorHandler((err, request, reply) => {
    const error = toActorlogError(err);
    if (error.statusCode >= 500) request.log.error({ err }, 'request failed');
    void reply.status(error.statusCode).send(error.toJSON());
  });
  app.setNotFoundHandler((_request, reply) => {
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
