// Every SQL statement of retention: legal holds, the events an expiry may
// remove (with their leaves), the removal itself and the signed expiry
// records (migration 15). Expiry never touches log_nodes: the leaves stay.
import { execute, insertRows, select, type Storage, type Tables } from './client.js';
import { tenantCondition, type TenantScope } from './tenancy.js';
import { fromClickHouseTime, toClickHouseTime } from '../lib/time.js';

const holds = (t: Tables) => `${t.database}.legal_holds`;
const records = (t: Tables) => `${t.database}.expiry_records`;
const nodes = (t: Tables) => `${t.database}.log_nodes`;

export interface HoldRow {
  hold_id: string;
  tenant: string;
  human_sub: string;
  session_id: string;
  from_time: string | null;
  to_time: string | null;
  reason: string;
  created_by: string;
  created_at: string;
  released_by: string;
  released_at: string | null;
  release_reason: string;
  version: number;
}

export async function writeHold(storage: Storage, tables: Tables, hold: HoldRow): Promise<void> {
  const at = (v: string | null) => (v === null ? null : toClickHouseTime(v));
  await insertRows(storage, holds(tables), [{ ...hold, from_time: at(hold.from_time), to_time: at(hold.to_time), created_at: at(hold.created_at), released_at: at(hold.released_at) }]);
}

// Holds in scope, newest first; released ones too unless `activeOnly`.
export async function listHolds(storage: Storage, tables: Tables, scope: TenantScope, opts: { activeOnly?: boolean; id?: string } = {}): Promise<HoldRow[]> {
  const params: Record<string, unknown> = {};
  const where = [tenantCondition(scope, 'tenant', params)];
  if (opts.activeOnly) where.push('released_at IS NULL');
  if (opts.id) {
    where.push('hold_id = {id:String}');
    params.id = opts.id;
  }
  const rows = await select<HoldRow>(storage, `SELECT * FROM ${holds(tables)} FINAL WHERE ${where.join(' AND ')} ORDER BY created_at DESC, hold_id`, params);
  return rows.map((r) => ({ ...r, version: Number(r.version) }));
}

export interface ExpiringLeaf {
  id: string;
  idx: number;
}

// Events of `tenant` older than `before`, logged under a leaf below
// `maxLeaf` (covered by a checkpoint), and matched by none of `held`; in
// leaf order. A hold matches what all its non-empty fields match.
export async function expiringLeaves(
  storage: Storage,
  tables: Tables,
  q: { tenant: string; before: number; maxLeaf: number; held: HoldRow[]; limit: number },
): Promise<ExpiringLeaf[]> {
  const ms = (v: string | null, fallback: number) => (v === null ? fallback : Date.parse(fromClickHouseTime(v)));
  const rows = await select<{ id: string; idx: number }>(
    storage,
    `SELECT e.id AS id, l.idx AS idx
     FROM (SELECT id, human_sub, session_id, toUnixTimestamp64Milli(time) AS ms FROM ${tables.events} FINAL
           WHERE tenant = {tenant:String} AND time < fromUnixTimestamp64Milli({before:Int64}, 'UTC')) AS e
     INNER JOIN (SELECT event_id, idx FROM ${nodes(tables)} WHERE level = 0 AND tenant = {tenant:String} AND idx < {maxLeaf:UInt64}) AS l
       ON e.id = l.event_id
     WHERE NOT arrayExists((h, s, f, t) -> (h = '' OR e.human_sub = h) AND (s = '' OR e.session_id = s) AND e.ms >= f AND e.ms < t,
                           {hh:Array(String)}, {ss:Array(String)}, {ff:Array(Int64)}, {tt:Array(Int64)})
     ORDER BY l.idx LIMIT {limit:UInt32}`,
    {
      tenant: q.tenant,
      before: q.before,
      maxLeaf: q.maxLeaf,
      limit: q.limit,
      hh: q.held.map((h) => h.human_sub),
      ss: q.held.map((h) => h.session_id),
      ff: q.held.map((h) => ms(h.from_time, 0)),
      tt: q.held.map((h) => ms(h.to_time, Number.MAX_SAFE_INTEGER)),
    },
  );
  return rows.map((r) => ({ id: r.id, idx: Number(r.idx) }));
}

// Tenants that hold events at all: the ones the default retention applies to.
export async function storedTenants(storage: Storage, tables: Tables): Promise<string[]> {
  return (await select<{ tenant: string }>(storage, `SELECT DISTINCT tenant FROM ${tables.events} ORDER BY tenant`)).map((r) => r.tenant);
}

// The one removal of events there is: by the expiry job, after its record is
// stored. Lightweight delete: the rows vanish from reads at once.
export async function deleteExpiredEvents(storage: Storage, tables: Tables, tenant: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await execute(storage, `DELETE FROM ${tables.events} WHERE tenant = {tenant:String} AND id IN {ids:Array(String)}`, { tenant, ids });
}

export interface ExpiryRecordRow {
  record_id: string;
  tenant: string;
  expired_before: string;
  count: number;
  checkpoint_size: number;
  note: string;
  created_at: string;
}

export async function insertExpiryRecord(storage: Storage, tables: Tables, row: Omit<ExpiryRecordRow, 'created_at'>): Promise<void> {
  await insertRows(storage, records(tables), [{ ...row, expired_before: toClickHouseTime(row.expired_before), created_at: toClickHouseTime(Date.now()) }]);
}

export async function listExpiryRecords(storage: Storage, tables: Tables, scope: TenantScope = { tenants: null }): Promise<ExpiryRecordRow[]> {
  const params: Record<string, unknown> = {};
  const rows = await select<ExpiryRecordRow>(storage, `SELECT * FROM ${records(tables)} FINAL WHERE ${tenantCondition(scope, 'tenant', params)} ORDER BY created_at, record_id`, params);
  return rows.map((r) => ({ ...r, count: Number(r.count), checkpoint_size: Number(r.checkpoint_size) }));
}
