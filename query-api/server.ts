// The analysts' read API over the events table.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ActorlogError } from '../lib/errors.js';
import { createService } from '../lib/http.js';
import type { Metrics } from '../lib/metrics.js';
import type { Storage, Tables } from '../lib/storage.js';
import { fromClickHouseTime } from '../lib/time.js';
import { bearerGuard } from './auth.js';
import { encodeCursor } from './cursor.js';
import { buildEventSearch, eventSearchSchema } from './events-query.js';

export interface QueryApiOptions {
  storage: Storage;
  tables: Tables;
  metrics: Metrics;
  analystToken: string;
  logLevel: string;
}

type StoredRow = Record<string, unknown> & { id: string; time: string };

const TIME_COLUMNS = ['time', 'ingested_at', 'delegation_expires_at'];

// Stored times go out as RFC 3339, like the events that carried them.
function present(row: StoredRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const column of TIME_COLUMNS) {
    if (typeof out[column] === 'string') out[column] = fromClickHouseTime(out[column] as string);
  }
  return out;
}

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ActorlogError('BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

export function buildQueryApi(opts: QueryApiOptions): FastifyInstance {
  const { storage, tables, metrics } = opts;
  const app = createService({
    logLevel: opts.logLevel,
    metrics,
    ready: async () => {
      await (await storage.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
    },
  });

  app.register(async (scope) => {
    scope.addHook('onRequest', bearerGuard(opts.analystToken));

    scope.get('/v1/events', async (request) => {
      const search = parseOrThrow(eventSearchSchema, request.query);
      const { query, params, limit } = buildEventSearch(tables.events, search);
      const rows = await (await storage.query({ query, query_params: params, format: 'JSONEachRow' })).json<StoredRow>();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      metrics.batch('query', { received: 1, sent: page.length });
      return {
        events: page.map(present),
        next_cursor: rows.length > limit && last ? encodeCursor({ time: last.time, id: last.id }) : null,
      };
    });

    scope.get('/v1/events/:id', async (request) => {
      const { id } = parseOrThrow(z.object({ id: z.string().min(1).max(256) }), request.params);
      const result = await storage.query({
        query: `SELECT * FROM ${tables.events} FINAL WHERE id = {id:String} ORDER BY ingested_at LIMIT 1`,
        query_params: { id },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<StoredRow & { event_json: string; raw_jws: string }>();
      if (!row) throw new ActorlogError('NOT_FOUND', `no event ${id}`);
      const { event_json, raw_jws, ...columns } = row;
      metrics.batch('query', { received: 1, sent: 1 });
      return { event: present(columns as StoredRow), signed: { jws: raw_jws, payload: JSON.parse(event_json) as unknown } };
    });
  });
  return app;
}
