// For admins: who read what (the access log), and the emitter keys.
import { z } from 'zod';
import { listKeys } from '../../keys/lifecycle.js';
import { readRegistry } from '../../keys/registry.js';
import { listAccessLog } from '../../store/access-log.js';
import { listDeliveries } from '../../store/webhooks.js';
import { fromClickHouseTime } from '../../lib/time.js';
import { identifier, access, adminScope, present, windowOf, windowSchema, type App, type RouteDeps } from '../context.js';

export function adminRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/v1/admin/webhooks/deliveries',
    {
      schema: {
        summary: 'Finding webhooks: each delivery (subscription, kind, event), its status, attempts, last HTTP status or error, next attempt',
        tags: ['admin'],
        querystring: z.strictObject({
          tenant: identifier.optional(),
          status: z.enum(['pending', 'delivered', 'failed']).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const scope = access(request, 'admin', request.query.tenant);
      const rows = await listDeliveries(deps.storage, deps.tables, scope, { status: request.query.status, limit: request.query.limit });
      request.rowsReturned = rows.length;
      const times = (r: (typeof rows)[number]) => ({
        created_at: fromClickHouseTime(r.created_at),
        next_attempt_at: fromClickHouseTime(r.next_attempt_at),
        updated_at: fromClickHouseTime(r.updated_at),
      });
      return { deliveries: rows.map((r) => ({ ...r, ...times(r) })) };
    },
  );

  app.get(
    '/v1/admin/access-log',
    {
      schema: {
        summary: 'Calls of this API: who, which endpoint and parameters, status, rows returned, when',
        tags: ['admin'],
        querystring: z.strictObject({
          ...windowSchema,
          sub: identifier.optional(),
          route: identifier.optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const scope = adminScope(request, request.query.tenant);
      const { window, period } = windowOf(request.query);
      const { sub, route, limit } = request.query;
      const rows = await listAccessLog(deps.storage, deps.tables, scope, window, { sub, route, limit });
      request.rowsReturned = rows.length;
      return { period, calls: rows.map((r) => present({ ...r, params: JSON.parse(String(r.params)) as unknown })) };
    },
  );

  app.get('/v1/admin/keys', { schema: { summary: 'Registered emitter keys with their state and times (public data only)', tags: ['admin'] } }, async (request) => {
    const scope = access(request, 'admin');
    // A tenant's admin sees the emitters bound to its tenants.
    const emitters = readRegistry(deps.keysFile).emitters;
    const visible = (emitter: string) => scope.tenants === null || (emitters[emitter]?.tenants ?? []).some((t) => scope.tenants!.includes(t));
    const keys = listKeys(deps.keysFile).filter((k) => visible(k.emitter));
    request.rowsReturned = keys.length;
    return { keys };
  });
}
