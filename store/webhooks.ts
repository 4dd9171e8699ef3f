// The webhook delivery log (migration 7): findings queued for subscribers,
// the ones due for an attempt, each attempt's outcome, and the log for admins.
import { insertRows, select, type Storage, type Tables } from './client.js';
import { tenantCondition, type TenantScope } from './tenancy.js';
import { toClickHouseTime } from '../lib/time.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  delivery_id: string;
  subscription_id: string;
  tenant: string;
  kind: string;
  event_id: string;
  url: string;
  // the signed finding, a compact JWS
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  last_status: number;
  last_error: string;
  created_at: string;
  next_attempt_at: string;
  updated_at: string;
}

export function writeDeliveries(storage: Storage, tables: Tables, rows: readonly DeliveryRow[]): Promise<void> {
  return rows.length === 0 ? Promise.resolve() : insertRows(storage, tables.webhookDeliveries, rows);
}

// Pending deliveries whose next attempt is due, oldest first.
export function dueDeliveries(storage: Storage, tables: Tables, now: number, limit: number): Promise<DeliveryRow[]> {
  return select<DeliveryRow>(
    storage,
    `SELECT * FROM ${tables.webhookDeliveries} FINAL
     WHERE status = 'pending' AND next_attempt_at <= {now:DateTime64(3, 'UTC')}
     ORDER BY next_attempt_at LIMIT {limit:UInt32}`,
    { now: toClickHouseTime(now), limit },
  );
}

// Newest first, without the payloads; an admin sees its tenants' deliveries.
export function listDeliveries(
  storage: Storage,
  tables: Tables,
  scope: TenantScope,
  filter: { status?: DeliveryStatus; limit: number },
): Promise<Omit<DeliveryRow, 'payload'>[]> {
  const params: Record<string, unknown> = { limit: filter.limit };
  const where = [tenantCondition(scope, 'tenant', params)];
  if (filter.status) {
    where.push('status = {status:String}');
    params.status = filter.status;
  }
  return select(
    storage,
    `SELECT * EXCEPT (payload) FROM ${tables.webhookDeliveries} FINAL WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, delivery_id LIMIT {limit:UInt32}`,
    params,
  );
}
