// For admins: who read what (the access log), and the emitter keys.
import { z } from 'zod';
import { listKeys } from '../../keys/lifecycle.js';
import { importPublicJwk } from '../../keys/import.js';
import { readRegistry, setEmitterJwksUrl } from '../../keys/registry.js';
import { checkJwksUrl } from '../../keys/jwks-url.js';
import { ActorlogError } from '../../lib/errors.js';
import { listAccessLog } from '../../store/access-log.js';
import { listDeliveries } from '../../store/webhooks.js';
import { listQuarantineDropped } from '../../store/quarantine.js';
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

  app.get(
    '/v1/admin/quarantine/dropped',
    {
      schema: {
        summary: 'Refused records counted but not stored past a quarantine cap: per window, cap, sender and reason, how many, their bytes and a digest',
        tags: ['admin'],
        querystring: z.strictObject({ ...windowSchema, limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      },
    },
    async (request) => {
      const scope = adminScope(request, request.query.tenant);
      const { window, period } = windowOf(request.query);
      // A tenant's admin sees the per-emitter cap of the emitters bound to its
      // tenants; address and global caps name no tenant (platform_admin only).
      const emitters =
        scope.tenants === null
          ? null
          : Object.entries(readRegistry(deps.keysFile).emitters)
              .filter(([, e]) => (e.tenants ?? []).some((t) => scope.tenants!.includes(t)))
              .map(([id]) => id);
      const rows = await listQuarantineDropped(deps.storage, deps.tables, emitters, window, request.query.limit);
      request.rowsReturned = rows.length;
      return {
        period,
        dropped: rows.map((r) => ({
          ...r,
          window_start: fromClickHouseTime(String(r.window_start)),
          first_received_at: fromClickHouseTime(String(r.first_received_at)),
          last_received_at: fromClickHouseTime(String(r.last_received_at)),
          records: Number(r.records),
          bytes: Number(r.bytes),
        })),
      };
    },
  );

  // Provisioning without shell access to the actorlog host: register the
  // public half of a key held in a KMS or HSM. A tenant's admin may only
  // register emitters bound to its own tenants.
  app.post(
    '/v1/admin/keys',
    {
      schema: {
        summary: 'Register an existing public JWK (Ed25519 or P-256) for an emitter; private members are refused',
        tags: ['admin'],
        body: z.strictObject({
          emitter: identifier,
          jwk: z.record(z.string(), z.unknown()),
          alg: z.enum(['EdDSA', 'Ed25519', 'ES256']).optional(),
          tenants: z.array(identifier).max(64).optional(),
        }),
      },
    },
    async (request, reply) => {
      const scope = access(request, 'admin');
      const { emitter, jwk, alg, tenants } = request.body;
      if (scope.tenants !== null) {
        const bound = readRegistry(deps.keysFile).emitters[emitter]?.tenants ?? tenants ?? [];
        const wanted = [...bound, ...(tenants ?? [])];
        if (wanted.length === 0 || !wanted.every((t) => scope.tenants!.includes(t))) {
          throw new ActorlogError('FORBIDDEN', 'a tenant admin registers keys only for emitters bound to its own tenants (give tenants)');
        }
      }
      const key = await importPublicJwk(deps.keysFile, emitter, jwk, { ...(alg ? { alg } : {}), ...(tenants ? { tenants } : {}) });
      request.rowsReturned = 1;
      return reply.status(201).send(key);
    },
  );

  // Or the URL where the emitter publishes its public keys (a JWK set): a
  // kid not registered is looked up there (fetched and cached by each verifier).
  app.post(
    '/v1/admin/keys/jwks-url',
    {
      schema: {
        summary: "Register an emitter's JWKS URL (https; http only to loopback): its keys verify while the set lists them",
        tags: ['admin'],
        body: z.strictObject({
          emitter: identifier,
          url: z.string().min(1).max(2048),
          tenants: z.array(identifier).max(64).optional(),
        }),
      },
    },
    async (request, reply) => {
      const scope = access(request, 'admin');
      const { emitter, url, tenants } = request.body;
      if (scope.tenants !== null) {
        const wanted = [...(readRegistry(deps.keysFile).emitters[emitter]?.tenants ?? []), ...(tenants ?? [])];
        if (wanted.length === 0 || !wanted.every((t) => scope.tenants!.includes(t))) {
          throw new ActorlogError('FORBIDDEN', 'a tenant admin registers keys only for emitters bound to its own tenants (give tenants)');
        }
      }
      const jwksUrl = checkJwksUrl(url);
      setEmitterJwksUrl(deps.keysFile, emitter, jwksUrl, tenants);
      request.rowsReturned = 1;
      return reply.status(201).send({ emitter, jwks_url: jwksUrl });
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
