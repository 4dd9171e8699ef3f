// Event search, its streaming export, and one event in full.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { readRegistry } from '../../keys/registry.js';
import { EXPORT_EXTENSIONS, EXPORT_FORMATS, EXPORT_MEDIA_TYPES, exportEncoder, needsStoredEvent } from '../../schemas/export-formats.js';
import { eventSearchSchema } from '../../schemas/search.js';
import { searchHistogram, searchPage, storedAfter, streamSearch } from '../../store/search.js';
import { streamBoundOf, streamBounds } from '../../store/client.js';
import { toClickHouseTime } from '../../lib/time.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventById } from '../../store/events.js';
import { identifier, access, present, type App, type RouteDeps } from '../context.js';

const EXPORT_MAX_ROWS = 1_000_000;
const TAIL_POLL_MS = 1_000;
const TAIL_MAX_MS = 3_600_000;

export function eventRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/v1/events',
    { schema: { summary: 'Search events, newest first', tags: ['incident'], querystring: eventSearchSchema } },
    async (request) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const { page, next } = await searchPage(deps.storage, deps.tables.events, request.query, scope);
      request.rowsReturned = page.length;
      return { events: page.map(present), next_cursor: next };
    },
  );

  app.get(
    '/v1/events/histogram',
    {
      schema: {
        summary: 'The same search counted over its window in equal buckets (events, denied, flagged); default window the last 24 hours',
        tags: ['incident'],
        querystring: eventSearchSchema.omit({ limit: true, cursor: true }).extend({ buckets: z.coerce.number().int().min(1).max(500).default(60) }),
      },
    },
    async (request) => {
      const { buckets, ...filters } = request.query;
      const scope = access(request, 'analyst', filters.tenant);
      const histogram = await searchHistogram(deps.storage, deps.tables.events, filters, scope, buckets);
      request.rowsReturned = histogram.buckets.length;
      return histogram;
    },
  );

  app.get(
    '/v1/events/tail',
    {
      schema: {
        summary: 'Live tail: events matching the filters as they are stored, as Server-Sent Events (`event: event`, one JSON row each); from now on, for up to an hour',
        tags: ['incident'],
        querystring: eventSearchSchema.omit({ limit: true, cursor: true, since: true, from: true, to: true }),
      },
    },
    async (request, reply) => {
      const scope = access(request, 'analyst', request.query.tenant);
      let open = true;
      request.raw.on('close', () => {
        open = false;
      });
      const started = Date.now();
      let after = { time: toClickHouseTime(started), id: '' };
      let sent = 0;
      let idle = 0;
      const stream = async function* () {
        yield `retry: ${TAIL_POLL_MS}\n: tail of stored events from ${new Date(started).toISOString()}\n\n`;
        while (open && Date.now() - started < TAIL_MAX_MS) {
          const rows = await storedAfter(deps.storage, deps.tables.events, request.query, scope, after, 500);
          const last = rows[rows.length - 1];
          if (last) after = { time: String(last.ingested_at), id: last.id };
          for (const row of rows) yield `event: event\nid: ${row.id}\ndata: ${JSON.stringify(present(row))}\n\n`;
          sent += rows.length;
          request.rowsReturned = sent;
          // A comment now and then keeps proxies from closing an idle stream.
          if (rows.length === 0 && ++idle % 15 === 0) yield ': idle\n\n';
          if (rows.length < 500) await sleep(TAIL_POLL_MS);
        }
      };
      return reply.type('text/event-stream; charset=utf-8').header('cache-control', 'no-store').header('x-accel-buffering', 'no').send(Readable.from(stream()));
    },
  );

  app.get(
    '/v1/events/export',
    {
      schema: {
        summary: 'Stream the same search (up to 1,000,000 rows, newest first) as CSV or NDJSON rows, OCSF events or CloudEvents (NDJSON, docs/ocsf.md); 429/503 when as many exports and report runs as allowed are running',
        tags: ['incident'],
        querystring: eventSearchSchema.omit({ limit: true, cursor: true }).extend({ format: z.enum(EXPORT_FORMATS).default('ndjson') }),
      },
    },
    async (request, reply) => {
      const { format, ...filters } = request.query;
      const scope = access(request, 'analyst', filters.tenant);
      // At most EXPORT_CONCURRENCY_* exports and report runs at once; the
      // place is given back when the stream ends, completed or aborted.
      const leave = deps.exportGate.enter(scope.tenants);
      const encode = exportEncoder(format);
      const bounds = deps.streams && streamBounds(deps.streams);
      const rows = streamSearch(deps.storage, deps.tables.events, filters, scope, EXPORT_MAX_ROWS, { withStoredEvent: needsStoredEvent(format), bounds });
      // Past a stream bound the export ends cut short (its access-log row
      // `stream_aborted`), counted; the caller sees the answer end early.
      let stop: unknown;
      const stopped = (err: unknown) => {
        if (stop) return;
        stop = err;
        const bound = streamBoundOf(err);
        if (bound) deps.metrics.add('actorlog_stream_timeouts_total', { work: 'export', bound });
        request.log.warn({ err }, 'export stopped');
      };
      let sent = 0;
      const lines = async function* () {
        try {
          for await (const chunk of rows) {
            // Counted as handed to the response, so an aborted export is
            // logged with what the caller may have received.
            sent += chunk.length;
            request.rowsReturned = sent;
            yield chunk.map((row) => encode(present(row))).join('');
          }
        } catch (err) {
          stopped(err);
          throw err;
        } finally {
          leave();
        }
      };
      const body = Readable.from(lines());
      // A caller that stops reading holds no export past the deadline.
      const deadline =
        bounds &&
        setTimeout(() => {
          const err = new ActorlogError('STREAM_TIMEOUT', 'it ran longer than STREAM_TIMEOUT_MS');
          stopped(err);
          body.destroy(err);
        }, bounds.deadline - Date.now());
      // A stream destroyed before it was read never runs the generator's finally.
      body.once('close', () => {
        clearTimeout(deadline);
        void rows.return(undefined);
        leave();
      });
      return reply
        .type(EXPORT_MEDIA_TYPES[format])
        .header('content-disposition', `attachment; filename="actorlog-events.${EXPORT_EXTENSIONS[format]}"`)
        .send(body);
    },
  );

  app.get(
    '/v1/events/:id',
    {
      schema: {
        summary: 'One event in full: the stored row, the signed event, the key that verified it, its flags',
        tags: ['incident'],
        params: z.object({ id: identifier }),
      },
    },
    async (request) => {
      const scope = access(request, 'analyst');
      const row = await eventById(deps.storage, deps.tables, scope, request.params.id);
      if (!row) throw new ActorlogError('NOT_FOUND', `no event ${request.params.id}`);
      const { event_json, raw_jws, ...columns } = row;
      const key = readRegistry(deps.keysFile).emitters[row.source]?.keys.find((k) => k.kid === row.kid);
      request.rowsReturned = 1;
      return {
        event: present(columns),
        flags: row.flags,
        signed: { jws: raw_jws, payload: JSON.parse(event_json) as unknown },
        verified_by: {
          emitter: row.source,
          kid: row.kid,
          alg: key?.alg ?? null,
          // The key's state now; it was valid for this event when it was stored.
          state_now: key?.state ?? 'removed from registry',
          public_jwk: key?.public_jwk ?? null,
        },
      };
    },
  );
}
