// The auditors are audited: every call of the query API is recorded with who
// made it, which endpoint and parameters, the status and how many rows it
// returned.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Storage, Tables } from '../store/client.js';
import { insertAccessLog, type AccessLogRow } from '../store/access-log.js';
import { toClickHouseTime } from '../lib/time.js';
import type { Metrics } from '../lib/metrics.js';

export function accessLogHook(storage: Storage, tables: Tables, metrics: Metrics) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const principal = request.principal;
    const row: AccessLogRow = {
      time: toClickHouseTime(Date.now() - reply.elapsedTime),
      request_id: request.id,
      sub: principal?.sub ?? '',
      via: principal?.via ?? 'none',
      roles: principal?.roles ?? [],
      tenants: principal ? (principal.tenants === '*' ? ['*'] : principal.tenants) : [],
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0] ?? '',
      params: JSON.stringify({ ...(request.params as object), ...(request.query as object) }),
      status: reply.statusCode,
      rows: request.rowsReturned ?? -1,
      duration_ms: reply.elapsedTime,
      client_ip: request.ip,
    };
    try {
      await insertAccessLog(storage, tables, row);
    } catch (err) {
      metrics.error('query', 'ACCESS_LOG_FAILED');
      request.log.error({ err }, 'access log write failed');
    }
  };
}
