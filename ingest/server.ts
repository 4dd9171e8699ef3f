// POST /v1/events: structural checks, then the sink. The answer lists each
// event by its index in the request: accepted with its id, or refused with a
// reason code from the quarantine catalogue (the refused bytes are kept in
// quarantine either way).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ActorlogError, QUARANTINE_REASONS } from '../lib/errors.js';
import { createService } from '../lib/http.js';
import { countReasons, type Metrics } from '../lib/metrics.js';
import { TokenBuckets } from '../lib/token-bucket.js';
import type { KeyResolver } from '../processor/key-resolver.js';
import { inspectEnvelope } from '../schemas/envelope.js';
import { eventJsonSchema } from '../schemas/event.js';
import { authenticateEmitter } from './emitter-auth.js';
import { registerEventParsers } from './parse-body.js';
import type { IngestItem, IngestSink } from './sink.js';

export interface IngestOptions {
  sink: IngestSink;
  metrics: Metrics;
  logLevel: string;
  bodyLimit: number;
  maxEvents: number;
  eventMaxBytes: number;
  bodyTimeoutMs?: number;
  // 'required': every request carries an emitter token (emitter-auth.ts).
  auth: 'required' | 'off';
  maxTokenSeconds: number;
  // The emitter key registry the tokens are checked against.
  keys: KeyResolver;
  rateLimitEmitter: number;
  rateLimitAddress: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    // The emitter the caller proved to be; unset with INGEST_AUTH=off.
    emitter?: string;
  }
}

export interface IngestResponse {
  accepted: { index: number; id: string }[];
  rejected: { index: number; code: string; message: string }[];
}

export function buildIngestServer(opts: IngestOptions): FastifyInstance {
  const app = createService({
    name: 'ingest',
    component: 'ingest',
    logLevel: opts.logLevel,
    bodyLimit: opts.bodyLimit,
    bodyTimeoutMs: opts.bodyTimeoutMs,
    metrics: opts.metrics,
    ready: () => opts.sink.ready(),
  });
  // Per minute, bursts of up to a minute's worth.
  const byAddress = new TokenBuckets(opts.rateLimitAddress / 60, opts.rateLimitAddress);
  const byEmitter = new TokenBuckets(opts.rateLimitEmitter / 60, opts.rateLimitEmitter);

  // A whole request refused before any of its events is read: nothing of it
  // is stored (counted in actorlog_component_errors_total by lib/http.ts).
  function refuse(error: ActorlogError): never {
    throw error;
  }
  function limit(buckets: TokenBuckets, key: string, by: 'address' | 'emitter', reply: FastifyReply): void {
    const take = buckets.take(key);
    if (take.ok) return;
    opts.metrics.add('actorlog_rate_limited_total', { stage: 'ingest', by });
    void reply.header('retry-after', String(take.retryAfterSeconds));
    refuse(new ActorlogError('RATE_LIMITED', `${by} over ${by === 'address' ? opts.rateLimitAddress : opts.rateLimitEmitter} requests a minute`));
  }

  // Emitters in other languages validate against the same contract ingest applies.
  const schemaText = eventJsonSchema();
  app.get('/v1/schema/event', async (_request, reply) => reply.type('application/schema+json').send(schemaText));

  app.register(async (scope) => {
    registerEventParsers(scope, opts.bodyLimit);
    // Before the body is read: the address's bucket first (refusing a flood
    // costs no signature check), then who is calling, then that emitter's bucket.
    scope.addHook('onRequest', async (request, reply) => {
      limit(byAddress, request.ip, 'address', reply);
      if (opts.auth === 'off') return;
      try {
        request.emitter = await authenticateEmitter(request.headers.authorization, { keys: opts.keys, maxTokenSeconds: opts.maxTokenSeconds });
      } catch (err) {
        refuse(err as ActorlogError);
      }
      limit(byEmitter, request.emitter!, 'emitter', reply);
    });
    scope.post('/v1/events', async (request, reply) => {
      const raws = request.body as Buffer[];
      if (raws.length === 0) throw new ActorlogError('NO_EVENTS');
      if (raws.length > opts.maxEvents) throw new ActorlogError('TOO_MANY_EVENTS', `${raws.length} > ${opts.maxEvents}`);

      const started = performance.now();
      const receivedAt = Date.now();
      const origin = { emitter: request.emitter, address: request.ip };
      const items: IngestItem[] = raws.map((raw) => ({ raw, inspection: inspectEnvelope(raw, opts.eventMaxBytes), receivedAt, origin }));
      // An emitter sends its own events only; an event claiming another
      // source refuses the whole request (events that name no readable
      // source are the caller's, and quarantined under its caps).
      if (request.emitter) {
        const foreign = items.findIndex((item) => item.inspection.claimed.source !== undefined && item.inspection.claimed.source !== request.emitter);
        if (foreign >= 0) {
          refuse(new ActorlogError('FORBIDDEN', `event ${foreign} claims source ${JSON.stringify(items[foreign]!.inspection.claimed.source)}; the caller is ${JSON.stringify(request.emitter)}`));
        }
      }
      const outcomes = await opts.sink.accept(items);

      const body: IngestResponse = { accepted: [], rejected: [] };
      outcomes.forEach((o, index) => {
        if (o.ok) body.accepted.push({ index, id: o.id });
        else body.rejected.push({ index, code: o.reason, message: `${QUARANTINE_REASONS[o.reason]}: ${o.detail}` });
      });
      opts.metrics.batch('ingest', {
        received: items.length,
        sent: body.accepted.length,
        discarded: countReasons(body.rejected.map((r) => ({ reason: r.code }))),
        durationMs: performance.now() - started,
      });
      if (body.accepted.length === 0) {
        const error = new ActorlogError('ALL_EVENTS_REJECTED').toJSON();
        return reply.status(400).send({ ...error, ...body });
      }
      return reply.status(202).send(body);
    });
  });
  return app;
}
