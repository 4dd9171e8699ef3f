// What every route module of the query API is given, and the helpers they share.
import type { FastifyInstance, FastifyRequest, RawServerDefault, FastifyBaseLogger } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Storage, Tables } from '../lib/storage.js';
export { select } from '../lib/storage.js';
import { fromClickHouseTime, toClickHouseTime } from '../lib/time.js';
import { requireRole, type Role } from './auth.js';
import { tenantScope, type TenantScope } from './tenancy.js';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface RouteDeps {
  storage: Storage;
  tables: Tables;
  keysFile: string;
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

const TIME_COLUMNS = new Set([
  'time',
  'ingested_at',
  'delegation_expires_at',
  'first',
  'last',
  'first_seen',
  'last_seen',
  'received_at',
  'last_heartbeat',
  'silent_since',
  'detected_at',
  'closed_at',
]);

// Stored times go out as RFC 3339, like the events that carried them.
export function present<T extends Record<string, unknown>>(row: T): T {
  const out: Record<string, unknown> = { ...row };
  for (const [key, value] of Object.entries(out)) {
    if (TIME_COLUMNS.has(key) && typeof value === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(value)) out[key] = fromClickHouseTime(value);
  }
  return out as T;
}

// An identifier or filter value as a caller passes it: never empty, bounded.
export const identifier = z.string().min(1).max(256);

// Narrows a query to one of the caller's tenants; it never widens (tenancy.ts).
export const tenantQuery = { tenant: identifier.optional().describe('narrow to one of your tenants') };

// A time window; without one, the last 24 hours.
export const windowSchema = {
  from: z.iso.datetime({ offset: true }).optional().describe('start, RFC 3339 (default: 24 hours before `to`)'),
  to: z.iso.datetime({ offset: true }).optional().describe('end, exclusive, RFC 3339 (default: now)'),
  ...tenantQuery,
};

export function windowParams(query: { from?: string; to?: string }, params: Record<string, unknown>): { from: string; to: string } {
  const to = query.to ? Date.parse(query.to) : Date.now();
  const from = query.from ? Date.parse(query.from) : to - 24 * 3_600_000;
  params.from = toClickHouseTime(from);
  params.to = toClickHouseTime(to);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export const windowSql = (column: string) => `${column} >= {from:DateTime64(3, 'UTC')} AND ${column} < {to:DateTime64(3, 'UTC')}`;
export const WINDOW_SQL = windowSql('time');
