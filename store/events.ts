// The events table: rows in, the stored copies of ids, one event in full.
import { insertTabSeparated, select, type Storage, type Tables } from './client.js';
import { EVENT_COLUMN_NAMES, type EventRow } from '../schemas/row.js';
import { tabSeparated } from './tsv.js';
import { tenantCondition, type TenantScope } from './tenancy.js';

// One copy of the event on disk. The signed payload is, for every event the
// SDK signs, byte for byte the stored event JSON (both are JSON.stringify of
// the schema's parse): such a row keeps its JWS with the payload left out
// (`header..signature`, or `<batch JWS>~~<index>~...` for a batch-signed
// event: forms no stored event has otherwise, since every event has a
// payload) and the exact signed bytes are put back on read from
// event_json (STORED_JWS). A payload that differs in any byte (another
// serialiser's key order or spacing, a redacted token) is kept whole. Measured
// (docs/performance.md): the text handed to the engine halves, and the
// insert rate rises with it.
export function withDetachedPayload(row: EventRow): EventRow {
  const jws = row.raw_jws;
  // A batch-signed event carries its event between the first two '~'.
  const mark = jws.includes('~') ? '~' : '.';
  const first = jws.indexOf(mark);
  const last = mark === '~' ? jws.indexOf('~', first + 1) : jws.lastIndexOf('.');
  if (first < 0 || last <= first + 1) return row;
  const payload = jws.slice(first + 1, last);
  // base64url of n bytes is ceil(4n/3) characters: a cheap refusal first.
  if (payload.length !== Math.ceil((Buffer.byteLength(row.event_json) * 4) / 3)) return row;
  if (Buffer.from(row.event_json, 'utf8').toString('base64url') !== payload) return row;
  return { ...row, raw_jws: `${jws.slice(0, first)}${mark}${mark}${jws.slice(last + 1)}` };
}

// The JWS exactly as signed, whichever form the row keeps: every read of
// raw_jws goes through this expression.
export const STORED_JWS = `multiIf(position(raw_jws, '..') > 0, replaceOne(raw_jws, '..', concat('.', base64URLEncode(event_json), '.')),
  position(raw_jws, '~~') > 0, replaceOne(raw_jws, '~~', concat('~', base64URLEncode(event_json), '~')), raw_jws)`;

// As TabSeparated: the events table is wide and its JSON copy of the event
// costs the engine most in JSONEachRow (store/tsv.ts).
export function insertEvents(storage: Storage, tables: Tables, rows: readonly EventRow[]): Promise<void> {
  return insertTabSeparated(storage, tables.events, EVENT_COLUMN_NAMES, tabSeparated(rows.map(withDetachedPayload), EVENT_COLUMN_NAMES));
}

// The raw JWS stored under each of `ids`, to tell a redelivery (same bytes)
// from a different event reusing an id. Ids are unique across tenants: an
// event reusing another tenant's id is a replay too (the id index answers).
export async function storedJws(storage: Storage, tables: Tables, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await select<{ id: string; raw_jws: string }>(
    storage,
    `SELECT id, ${STORED_JWS} AS raw_jws FROM ${tables.events}
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
    `SELECT * REPLACE (${STORED_JWS} AS raw_jws) FROM ${tables.events} FINAL WHERE id = {id:String} AND ${tenantCondition(scope, 'tenant', params)} LIMIT 1`,
    params,
  );
  return row;
}
