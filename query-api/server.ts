// The analysts' and auditors' read API: authenticated, confined to the
// caller's tenants, rate limited per caller, every call recorded, inputs
// validated by zod, described by an OpenAPI document at /openapi.json and a
// browsable reference at /docs.
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyRateLimit from '@fastify/rate-limit';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ActorlogError } from '../lib/errors.js';
import { TokenBuckets } from '../lib/token-bucket.js';
import { createService } from '../lib/http.js';
import type { Metrics } from '../lib/metrics.js';
import type { Config } from '../lib/config.js';
import type { ConcurrencyGate } from '../lib/concurrency.js';
import { ping, type Storage, type Tables } from '../store/client.js';
import type { Authenticate } from './auth.js';
import { createAccessLog } from './access-log.js';
import type { RouteDeps } from './context.js';
import { eventRoutes } from './routes/events.js';
import { activityRoutes } from './routes/activity.js';
import { graphRoutes } from './routes/graph.js';
import { findingRoutes } from './routes/findings.js';
import { adminRoutes } from './routes/admin.js';
import { retentionRoutes } from './routes/retention.js';
import { completeDocument } from './openapi.js';
import { consoleRoutes, type ConsoleOptions } from './console.js';

export interface QueryApiOptions {
  storage: Storage;
  tables: Tables;
  metrics: Metrics;
  authenticate: Authenticate;
  keysFile: string;
  rateLimit: number;
  // Exports and report runs at once (lib/concurrency.ts), shared with the report service.
  exportGate: ConcurrencyGate;
  // Bounds of streamed exports (config.streams); without them exports are unbounded.
  streams?: Config['streams'];
  logLevel: string;
  bodyTimeoutMs?: number;
  // More route modules (reports) registered by whoever owns them.
  extraRoutes?: ((app: Parameters<typeof eventRoutes>[0], deps: RouteDeps) => void)[];
  // The web console at `/` (console.ts).
  console?: ConsoleOptions;
}

export function buildQueryApi(opts: QueryApiOptions): FastifyInstance {
  const { storage, tables, metrics } = opts;
  const accessLog = createAccessLog(storage, tables, metrics);
  const app = createService({
    name: 'query-api',
    component: 'query',
    logLevel: opts.logLevel,
    bodyTimeoutMs: opts.bodyTimeoutMs,
    metrics,
    record: accessLog.record,
    recordRefusal: accessLog.recordRefusal,
    ready: () => ping(storage),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  void app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'actorlog query API',
        version: '1',
        description: 'Who acted, on whose behalf, through which agent, on which server and tool. Errors: `{ "error": { "code", "message", "retriable" } }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // operationIds and the error answers of every operation (openapi.ts).
    transformObject: (documents) => completeDocument(('openapiObject' in documents ? documents.openapiObject : documents.swaggerObject) as Parameters<typeof completeDocument>[0]) as never,
  });
  void app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  consoleRoutes(app, opts.console);

  void app.register(async (scope) => {
    // Each answer of the API is one batch of the query component: the rows it carried.
    scope.addHook('onResponse', async (request, reply) => {
      const rows = request.rowsReturned ?? 0;
      metrics.batch('query', { received: rows, sent: rows, durationMs: reply.elapsedTime });
    });
    // Calls that fail authentication share a bucket per address with the same
    // rate, so guessing tokens or flooding without one is limited too.
    const unauthenticated = new TokenBuckets(opts.rateLimit / 60, opts.rateLimit);
    scope.addHook('onRequest', async (request, reply) => {
      try {
        request.principal = await opts.authenticate(request);
      } catch (err) {
        const take = unauthenticated.take(request.ip);
        if (!take.ok) {
          metrics.add('actorlog_rate_limited_total', { stage: 'query', by: 'address' });
          void reply.header('retry-after', String(take.retryAfterSeconds));
          throw new ActorlogError('RATE_LIMITED', 'too many calls without a valid token from this address');
        }
        throw err;
      }
    });
    await scope.register(fastifyRateLimit, {
      max: opts.rateLimit,
      timeWindow: 60_000,
      hook: 'preHandler',
      keyGenerator: (request) => request.principal?.sub ?? request.ip,
      errorResponseBuilder: () => new ActorlogError('RATE_LIMITED'),
    });
    const routes = scope.withTypeProvider<ZodTypeProvider>();
    const deps: RouteDeps = { storage, tables, keysFile: opts.keysFile, exportGate: opts.exportGate, streams: opts.streams, metrics };
    for (const register of [eventRoutes, activityRoutes, graphRoutes, findingRoutes, adminRoutes, retentionRoutes, ...(opts.extraRoutes ?? [])]) {
      register(routes, deps);
    }
  });
  // Streams that ended while stopping finish their access-log rows before storage closes.
  app.addHook('onClose', () => accessLog.drain());
  return app;
}
