// Refused records: written by ingest and the processor, listed for analysts.
import type { QuarantineReason } from '../lib/errors.js';
import { insertRows, select, type Storage, type Tables } from './client.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { tenantCondition, type TenantScope } from './tenancy.js';
import { windowCondition, type TimeWindow } from './window.js';

export type QuarantineStage = 'ingest' | 'processor';

// One row of the quarantine table (migration 2).
export interface QuarantineRow {
  quarantine_id: string;
  received_at: string;
  stage: QuarantineStage;
  reason: QuarantineReason;
  detail: string;
  claimed_source: string;
  claimed_kid: string;
  claimed_id: string;
  claimed_tenant: string;
  raw_base64: string;
  raw_sha256: string;
  raw_bytes: number;
  // 1 when raw_base64 holds only the first QUARANTINE_RAW_MAX_BYTES (migration 11);
  // raw_bytes and raw_sha256 are always of the whole record.
  raw_truncated: number;
  // Who sent it, as ingest saw them: the authenticated emitter, the client address.
  caller: string;
  address: string;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: number;
}

// Refused records counted, not stored, past a quarantine cap (migration 11):
// one row per batch, cap, key and reason.
export interface QuarantineDropped {
  drop_id: string;
  window_start: string;
  first_received_at: string;
  last_received_at: string;
  stage: QuarantineStage;
  cap: 'emitter' | 'address' | 'global';
  cap_key: string;
  reason: QuarantineReason;
  records: number;
  bytes: number;
  // SHA-256 over the records' SHA-256s (hex, in order): anyone holding the
  // records can show they are these.
  digest: string;
}

export function insertQuarantineDropped(storage: Storage, tables: Tables, rows: readonly QuarantineDropped[]): Promise<void> {
  return insertRows(storage, tables.quarantineDropped, rows);
}

export function insertQuarantined(storage: Storage, tables: Tables, rows: readonly QuarantineRow[]): Promise<void> {
  return insertRows(storage, tables.quarantine, rows);
}

export interface QuarantineFilter {
  reason?: QuarantineReason;
  source?: string;
  limit: number;
  cursor?: string;
}

// One page, newest first, and the cursor of the next page, if any.
export async function listQuarantined(storage: Storage, tables: Tables, scope: TenantScope, window: TimeWindow, filter: QuarantineFilter) {
  const { reason, source, limit, cursor } = filter;
  const params: Record<string, unknown> = { limit_plus_one: limit + 1 };
  const where = [tenantCondition(scope, 'claimed_tenant', params), windowCondition('received_at', window, params)];
  if (reason) {
    where.push('reason = {reason:String}');
    params.reason = reason;
  }
  if (source) {
    where.push('claimed_source = {source:String}');
    params.source = source;
  }
  if (cursor) {
    const c = decodeCursor(cursor);
    where.push(`(received_at, quarantine_id) < ({cursor_time:DateTime64(3, 'UTC')}, {cursor_id:String})`);
    Object.assign(params, { cursor_time: c.time, cursor_id: c.id });
  }
  const rows = await select<Record<string, unknown> & { received_at: string; quarantine_id: string }>(
    storage,
    `SELECT * FROM ${tables.quarantine} FINAL WHERE ${where.join(' AND ')}
     ORDER BY received_at DESC, quarantine_id DESC LIMIT {limit_plus_one:UInt32}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last ? encodeCursor({ time: last.received_at, id: last.quarantine_id }) : null };
}

// What the quarantine caps counted and did not store, newest window first.
// `emitters`: only rows of the per-emitter cap for these emitters (a tenant's
// admin: address and global caps name no tenant); null: every row.
export function listQuarantineDropped(
  storage: Storage,
  tables: Tables,
  emitters: string[] | null,
  window: TimeWindow,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const params: Record<string, unknown> = { limit };
  const where = [windowCondition('window_start', window, params)];
  if (emitters) {
    where.push(`cap = 'emitter' AND cap_key IN {emitters:Array(String)}`);
    params.emitters = emitters;
  }
  return select(
    storage,
    `SELECT * FROM ${tables.quarantineDropped} FINAL WHERE ${where.join(' AND ')}
     ORDER BY window_start DESC, last_received_at DESC, drop_id LIMIT {limit:UInt32}`,
    params,
  );
}
