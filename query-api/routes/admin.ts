// For admins: who read what (the access log), and the emitter keys.
import { z } from 'zod';
import { listKeys } from '../../keys/lifecycle.js';
import { readRegistry } from '../../keys/registry.js';
import { identifier, access, present, select, windowParams, windowSchema, windowSql, type App, type RouteDeps } from '../context.js';

export function adminRoutes(app: App, deps: RouteDeps): void {
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
      const scope = access(request, 'admin', request.query.tenant);
      const params: Record<string, unknown> = { limit: request.query.limit };
      const period = windowParams(request.query, params);
      const where = [windowSql('time')];
      // An admin sees the calls of callers that share one of its tenants.
      if (scope.tenants) {
        where.push('hasAny(tenants, {scope_tenants:Array(String)})');
        params.scope_tenants = scope.tenants;
      }
      if (request.query.sub) {
        where.push('sub = {sub:String}');
        params.sub = request.query.sub;
      }
      if (request.query.route) {
        where.push('route = {route:String}');
        params.route = request.query.route;
      }
      const rows = await select<Record<string, unknown>>(
        deps.storage,
        `SELECT * FROM ${deps.tables.accessLog} WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT {limit:UInt32}`,
        params,
      );
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
