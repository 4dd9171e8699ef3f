// The access log: every query API call, who made it and what it returned.
import { insertRows, select, type Storage, type Tables } from './client.js';
import type { TenantScope } from './tenancy.js';
import { windowCondition, type TimeWindow } from './window.js';

// One row of the access_log table (migrations 4 and 8); time as stored.
export interface AccessLogRow {
  time: string;
  request_id: string;
  caller_request_id: string;
  phase: 'answered' | 'stream_started' | 'stream_completed' | 'stream_aborted';
  sub: string;
  via: string;
  roles: string[];
  tenants: string[];
  method: string;
  route: string;
  params: string;
  status: number;
  rows: number;
  duration_ms: number;
  client_ip: string;
}

export function insertAccessLog(storage: Storage, tables: Tables, rows: readonly AccessLogRow[]): Promise<void> {
  return insertRows(storage, tables.accessLog, rows);
}

export interface AccessLogFilter {
  sub?: string;
  route?: string;
  limit: number;
}

// Newest first. An admin sees the calls of callers that share one of its tenants.
export function listAccessLog(storage: Storage, tables: Tables, scope: TenantScope, window: TimeWindow, filter: AccessLogFilter): Promise<Record<string, unknown>[]> {
  const params: Record<string, unknown> = { limit: filter.limit };
  const where = [windowCondition('time', window, params)];
  if (scope.tenants) {
    where.push('hasAny(tenants, {scope_tenants:Array(String)})');
    params.scope_tenants = scope.tenants;
  }
  if (filter.sub) {
    where.push('sub = {sub:String}');
    params.sub = filter.sub;
  }
  if (filter.route) {
    where.push('route = {route:String}');
    params.route = filter.route;
  }
  return select<Record<string, unknown>>(storage, `SELECT * FROM ${tables.accessLog} WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT {limit:UInt32}`, params);
}
