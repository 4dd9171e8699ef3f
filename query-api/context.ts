// What every route module of the query API is given, and the helpers they share.
import type { FastifyInstance, FastifyRequest, RawServerDefault, FastifyBaseLogger } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Storage, Tables } from '../store/client.js';
import type { ConcurrencyGate } from '../lib/concurrency.js';
import type { Config } from '../lib/config.js';
import type { Metrics } from '../lib/metrics.js';
import type { TimeWindow } from '../store/window.js';
import { identifier, queryTime, tenantQuery } from '../schemas/search.js';
import { requireRole, type Role } from './auth.js';
import { tenantScope, type TenantScope } from './tenancy.js';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface RouteDeps {
  storage: Storage;
  tables: Tables;
  keysFile: string;
  // Exports and report runs at once (shared with the report service).
  exportGate: ConcurrencyGate;
  // Bounds of a streamed export (STREAM_TIMEOUT_MS, STREAM_IDLE_TIMEOUT_MS); none when absent.
  streams?: Config['streams'];
  metrics: Metrics;
}

declare module 'fastify' {
  interface FastifyRequest {
    // Rows the answer carried, for the access log.
    rowsReturned?: number;
  }
}

// The caller's role and tenant scope, or the typed error that refuses it.
export function access(request: FastifyRequest, role: Role, requestedTenant?: string): TenantScope {
  return tenantScope(requireRole(request.principal, role), requestedTenant);
}

export { present } from '../store/present.js';
export { identifier, tenantQuery };

// The access log's readers: a platform admin sees every row, those without a
// tenant included (narrowed by `tenant` if asked); a tenant's admin sees its tenants.
export function adminScope(request: FastifyRequest, requestedTenant?: string): TenantScope {
  if (request.principal?.roles.includes('platform_admin')) return { tenants: requestedTenant === undefined ? null : [requestedTenant] };
  return access(request, 'admin', requestedTenant);
}

// A time window; without one, the last 24 hours.
export const windowSchema = {
  from: queryTime.optional().describe('start, RFC 3339 (default: 24 hours before `to`)'),
  to: queryTime.optional().describe('end, exclusive, RFC 3339 (default: now)'),
  ...tenantQuery,
};

// The window a caller asked for, and the same as RFC 3339 for the answer.
export function windowOf(query: { from?: string; to?: string }): { window: TimeWindow; period: { from: string; to: string } } {
  const to = query.to ? Date.parse(query.to) : Date.now();
  const from = query.from ? Date.parse(query.from) : to - 24 * 3_600_000;
  return { window: { from, to }, period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } };
}
