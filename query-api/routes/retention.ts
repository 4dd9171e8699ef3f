// Retention for admins: legal holds (create, list, release; never deleted)
// and the signed expiry records. Events themselves have no delete route: the
// expiry job is the only removal, and it signs a record of each.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { fromClickHouseTime } from '../../lib/time.js';
import { queryTime } from '../../schemas/search.js';
import { listExpiryRecords, listHolds, writeHold, type HoldRow } from '../../store/retention.js';
import { access, identifier, tenantQuery, type App, type RouteDeps } from '../context.js';

const reason = z.string().trim().min(1).max(2000);

const presentHold = (h: HoldRow) => ({
  hold_id: h.hold_id,
  tenant: h.tenant,
  human_sub: h.human_sub || null,
  session_id: h.session_id || null,
  from: h.from_time ? fromClickHouseTime(h.from_time) : null,
  to: h.to_time ? fromClickHouseTime(h.to_time) : null,
  reason: h.reason,
  created_by: h.created_by,
  created_at: fromClickHouseTime(h.created_at),
  released_by: h.released_by || null,
  released_at: h.released_at ? fromClickHouseTime(h.released_at) : null,
  release_reason: h.release_reason || null,
});

export function retentionRoutes(app: App, { storage, tables }: RouteDeps): void {
  app.post(
    '/v1/holds',
    {
      schema: {
        summary: 'Place a legal hold: exempts from expiry what matches the tenant and every field given (a human, a session, a time range)',
        tags: ['admin'],
        body: z
          .strictObject({
            tenant: identifier,
            human_sub: identifier.optional(),
            session_id: identifier.optional(),
            from: queryTime.optional(),
            to: queryTime.optional(),
            reason,
          })
          .refine((b) => !b.from || !b.to || Date.parse(b.from) < Date.parse(b.to), 'from is before to'),
      },
    },
    async (request, reply) => {
      const { tenant, human_sub, session_id, from, to } = request.body;
      access(request, 'admin', tenant);
      const now = new Date().toISOString();
      const hold: HoldRow = {
        hold_id: randomUUID(),
        tenant,
        human_sub: human_sub ?? '',
        session_id: session_id ?? '',
        from_time: from ? new Date(from).toISOString() : null,
        to_time: to ? new Date(to).toISOString() : null,
        reason: request.body.reason,
        created_by: request.principal!.sub,
        created_at: now,
        released_by: '',
        released_at: null,
        release_reason: '',
        version: 1,
      };
      await writeHold(storage, tables, hold);
      const [stored] = await listHolds(storage, tables, { tenants: [tenant] }, { id: hold.hold_id });
      request.rowsReturned = 1;
      return reply.status(201).send(presentHold(stored!));
    },
  );

  app.get(
    '/v1/holds',
    {
      schema: {
        summary: 'Legal holds, newest first, released ones included with who released them, when and why',
        tags: ['admin'],
        querystring: z.strictObject({ ...tenantQuery, active: z.enum(['true', 'false']).optional().describe('true: only holds in force') }),
      },
    },
    async (request) => {
      const scope = access(request, 'admin', request.query.tenant);
      const holds = await listHolds(storage, tables, scope, { activeOnly: request.query.active === 'true' });
      request.rowsReturned = holds.length;
      return { holds: holds.map(presentHold) };
    },
  );

  app.post(
    '/v1/holds/:id/release',
    { schema: { summary: 'Release a legal hold; the hold stays on record with who released it, when and why', tags: ['admin'], params: z.object({ id: identifier }), body: z.strictObject({ reason }) } },
    async (request) => {
      const scope = access(request, 'admin');
      const [hold] = await listHolds(storage, tables, scope, { id: request.params.id });
      if (!hold) throw new ActorlogError('NOT_FOUND', `no hold ${request.params.id}`);
      if (hold.released_at !== null) throw new ActorlogError('HOLD_RELEASED', `hold ${hold.hold_id} was released at ${fromClickHouseTime(hold.released_at)}`);
      await writeHold(storage, tables, {
        ...hold,
        from_time: hold.from_time && fromClickHouseTime(hold.from_time),
        to_time: hold.to_time && fromClickHouseTime(hold.to_time),
        created_at: fromClickHouseTime(hold.created_at),
        released_by: request.principal!.sub,
        released_at: new Date().toISOString(),
        release_reason: request.body.reason,
        version: hold.version + 1,
      });
      const [stored] = await listHolds(storage, tables, scope, { id: hold.hold_id });
      request.rowsReturned = 1;
      return presentHold(stored!);
    },
  );

  app.get(
    '/v1/admin/expiry-records',
    { schema: { summary: 'Signed expiry records: which leaves retention removed the events of, per tenant (signed notes by the log key)', tags: ['admin'], querystring: z.strictObject(tenantQuery) } },
    async (request) => {
      const scope = access(request, 'admin', request.query.tenant);
      const records = await listExpiryRecords(storage, tables, scope);
      request.rowsReturned = records.length;
      return {
        records: records.map((r) => ({ ...r, expired_before: fromClickHouseTime(r.expired_before), created_at: fromClickHouseTime(r.created_at) })),
      };
    },
  );
}
