// Event search, its streaming export, and one event in full.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { readRegistry } from '../../keys/registry.js';
import { encodeCursor } from '../cursor.js';
import { csvLine } from '../csv.js';
import { buildEventSearch, eventSearchSchema, type EventSearch } from '../events-query.js';
import { tenantCondition, type TenantScope } from '../tenancy.js';
import { access, present, select, type App, type RouteDeps } from '../context.js';

type Row = Record<string, unknown> & { id: string; time: string };

const EXPORT_PAGE = 5_000;
const EXPORT_MAX_ROWS = 1_000_000;

async function searchPage(deps: RouteDeps, search: EventSearch, scope: TenantScope) {
  const { query, params, limit } = buildEventSearch(deps.tables.events, search, scope);
  const rows = await select<Row>(deps.storage, query, params);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last ? encodeCursor({ time: last.time, id: last.id }) : null };
}

export function eventRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/v1/events',
    { schema: { summary: 'Search events, newest first', tags: ['incident'], querystring: eventSearchSchema } },
    async (request) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const { page, next } = await searchPage(deps, request.query, scope);
      request.rowsReturned = page.length;
      return { events: page.map(present), next_cursor: next };
    },
  );

  app.get(
    '/v1/events/export',
    {
      schema: {
        summary: 'Stream the same search as CSV or NDJSON (every page, up to 1,000,000 rows)',
        tags: ['incident'],
        querystring: eventSearchSchema.omit({ limit: true, cursor: true }).extend({ format: z.enum(['csv', 'ndjson']).default('ndjson') }),
      },
    },
    async (request, reply) => {
      const { format, ...filters } = request.query;
      const scope = access(request, 'analyst', filters.tenant);
      let header: string[] | undefined;
      let cursor: string | undefined;
      let sent = 0;
      // Page through with the same stable cursor the API hands out, so memory
      // stays bounded whatever the transport buffers.
      const lines = async function* () {
        do {
          const { page, next } = await searchPage(deps, { ...filters, limit: EXPORT_PAGE, cursor } as EventSearch, scope);
          for (const raw of page) {
            const row = present(raw);
            if (format === 'ndjson') yield `${JSON.stringify(row)}\n`;
            else {
              if (!header) {
                header = Object.keys(row);
                yield csvLine(header);
              }
              yield csvLine(header.map((k) => row[k]));
            }
          }
          sent += page.length;
          request.rowsReturned = sent;
          cursor = next ?? undefined;
        } while (cursor && sent < EXPORT_MAX_ROWS);
      };
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="actorlog-events.${format === 'csv' ? 'csv' : 'ndjson'}"`)
        .send(Readable.from(lines()));
    },
  );

  app.get(
    '/v1/events/:id',
    {
      schema: {
        summary: 'One event in full: the stored row, the signed event, the key that verified it, its flags',
        tags: ['incident'],
        params: z.object({ id: z.string().min(1).max(256) }),
      },
    },
    async (request) => {
      const scope = access(request, 'analyst');
      const params: Record<string, unknown> = { id: request.params.id };
      const [row] = await select<Row & { event_json: string; raw_jws: string; source: string; kid: string; flags: string[] }>(
        deps.storage,
        `SELECT * FROM ${deps.tables.events} FINAL WHERE id = {id:String} AND ${tenantCondition(scope, 'tenant', params)} LIMIT 1`,
        params,
      );
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
