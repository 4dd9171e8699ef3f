// Event search, its streaming export, and one event in full.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { readRegistry } from '../../keys/registry.js';
import { EXPORT_EXTENSIONS, EXPORT_FORMATS, EXPORT_MEDIA_TYPES, exportEncoder, needsStoredEvent } from '../../schemas/export-formats.js';
import { eventSearchSchema } from '../../schemas/search.js';
import { searchAll, searchPage } from '../../store/search.js';
import { eventById } from '../../store/events.js';
import { identifier, access, present, type App, type RouteDeps } from '../context.js';

const EXPORT_MAX_ROWS = 1_000_000;

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
    '/v1/events/export',
    {
      schema: {
        summary: 'Stream the same search (every page, up to 1,000,000 rows) as CSV or NDJSON rows, OCSF events or CloudEvents (NDJSON, docs/ocsf.md)',
        tags: ['incident'],
        querystring: eventSearchSchema.omit({ limit: true, cursor: true }).extend({ format: z.enum(EXPORT_FORMATS).default('ndjson') }),
      },
    },
    async (request, reply) => {
      const { format, ...filters } = request.query;
      const scope = access(request, 'analyst', filters.tenant);
      const encode = exportEncoder(format);
      const options = { withStoredEvent: needsStoredEvent(format) };
      let sent = 0;
      const lines = async function* () {
        for await (const page of searchAll(deps.storage, deps.tables.events, filters, scope, EXPORT_MAX_ROWS, options)) {
          // Counted as handed to the response, so an aborted export is logged
          // with what the caller may have received.
          sent += page.length;
          request.rowsReturned = sent;
          yield page.map((row) => encode(present(row))).join('');
        }
      };
      return reply
        .type(EXPORT_MEDIA_TYPES[format])
        .header('content-disposition', `attachment; filename="actorlog-events.${EXPORT_EXTENSIONS[format]}"`)
        .send(Readable.from(lines()));
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
