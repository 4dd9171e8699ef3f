// POST /v1/events: structural checks, then the sink. The answer lists each
// event by its index in the request: accepted with its id, or refused with a
// reason code from the quarantine catalogue (the refused bytes are kept in
// quarantine either way).
import type { FastifyInstance } from 'fastify';
import { ActorlogError, QUARANTINE_REASONS } from '../lib/errors.js';
import { createService } from '../lib/http.js';
import { countReasons, type Metrics } from '../lib/metrics.js';
import { inspectEnvelope } from '../schemas/envelope.js';
import { eventJsonSchema } from '../schemas/event.js';
import { registerEventParsers } from './parse-body.js';
import type { IngestItem, IngestSink } from './sink.js';

export interface IngestOptions {
  sink: IngestSink;
  metrics: Metrics;
  logLevel: string;
  bodyLimit: number;
  maxEvents: number;
  eventMaxBytes: number;
}

export interface IngestResponse {
  accepted: { index: number; id: string }[];
  rejected: { index: number; code: string; message: string }[];
}

export function buildIngestServer(opts: IngestOptions): FastifyInstance {
  const app = createService({ name: 'ingest', logLevel: opts.logLevel, bodyLimit: opts.bodyLimit, metrics: opts.metrics, ready: () => opts.sink.ready() });

  // Emitters in other languages validate against the same contract ingest applies.
  const schemaText = eventJsonSchema();
  app.get('/v1/schema/event', async (_request, reply) => reply.type('application/schema+json').send(schemaText));

  app.register(async (scope) => {
    registerEventParsers(scope, opts.bodyLimit);
    scope.post('/v1/events', async (request, reply) => {
      const raws = request.body as Buffer[];
      if (raws.length === 0) throw new ActorlogError('NO_EVENTS');
      if (raws.length > opts.maxEvents) throw new ActorlogError('TOO_MANY_EVENTS', `${raws.length} > ${opts.maxEvents}`);

      const started = performance.now();
      const receivedAt = Date.now();
      const items: IngestItem[] = raws.map((raw) => ({ raw, inspection: inspectEnvelope(raw, opts.eventMaxBytes), receivedAt }));
      let outcomes;
      try {
        outcomes = await opts.sink.accept(items);
      } catch (err) {
        opts.metrics.error('ingest', err instanceof ActorlogError ? err.code : 'INTERNAL');
        throw err;
      }

      const body: IngestResponse = { accepted: [], rejected: [] };
      outcomes.forEach((o, index) => {
        if (o.ok) body.accepted.push({ index, id: o.id });
        else body.rejected.push({ index, code: o.reason, message: `${QUARANTINE_REASONS[o.reason]}: ${o.detail}` });
      });
      opts.metrics.batch('ingest', {
        received: items.length,
        accepted: body.accepted.length,
        quarantined: countReasons(body.rejected.map((r) => ({ reason: r.code }))),
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
