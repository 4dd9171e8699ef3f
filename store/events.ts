// The events table: rows in, the stored copies of ids, one event in full.
import { insertTabSeparated, select, type Storage, type Tables } from './client.js';
import { EVENT_COLUMN_NAMES, type EventRow } from '../schemas/row.js';
import { tabSeparated } from './tsv.js';
import { tenantCondition, type TenantScope } from './tenancy.js';

// As TabSeparated: the events table is wide and its JSON copy of the event
// costs the engine most in JSONEachRow (store/tsv.ts).
export function insertEvents(storage: Storage, tables: Tables, rows: readonly EventRow[]): Promise<void> {
  return insertTabSeparated(storage, tables.events, EVENT_COLUMN_NAMES, tabSeparated(rows, EVENT_COLUMN_NAMES));
}

// The raw JWS stored under each of `ids`, to tell a redelivery (same bytes)
// from a different event reusing an id. Ids are unique across tenants: an
// event reusing another tenant's id is a replay too (the id index answers).
export async function storedJws(storage: Storage, tables: Tables, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await select<{ id: string; raw_jws: string }>(
    storage,
    `SELECT id, raw_jws FROM ${tables.events}
     WHERE id IN {ids:Array(String)}`,
    { ids },
  );
  return new Map(rows.map((r) => [r.id, r.raw_jws]));
}

export type StoredEvent = Record<string, unknown> & { id: string; time: string; event_json: string; raw_jws: string; source: string; kid: string; flags: string[] };

export async function eventById(storage: Storage, tables: Tables, scope: TenantScope, id: string): Promise<StoredEvent | undefined> {
  const params: Record<string, unknown> = { id };
  const [row] = await select<StoredEvent>(
    storage,
    `SELECT * FROM ${tables.events} FINAL WHERE id = {id:String} AND ${tenantCondition(scope, 'tenant', params)} LIMIT 1`,
    params,
  );
  return row;
}
