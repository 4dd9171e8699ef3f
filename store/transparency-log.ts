// Every SQL statement of the transparency log: subtree hashes and leaves in
// log_nodes, signed checkpoints in log_checkpoints (migration 5).
import { insertRows, select, type Storage, type Tables } from './client.js';
import type { Coord } from '../lib/merkle/index.js';
import { STORED_JWS } from './events.js';

const nodes = (t: Tables) => `${t.database}.log_nodes`;
const checkpoints = (t: Tables) => `${t.database}.log_checkpoints`;

export interface LogNodeRow {
  level: number;
  idx: number;
  hash: string; // hex
  event_id: string; // leaves only
  tenant: string; // leaves only
  appended_at: number;
}

export interface StoredLeaf {
  event_id: string;
  tenant: string;
  idx: number;
  hash: string;
}

export interface StoredCheckpoint {
  size: number;
  root: string;
  note: string;
  created_at: string;
}

// One append: the leaves from tree position `start` on and the nodes they
// complete, in one block whose deduplication token is that position. The
// table keeps a deduplication window (migration 14), so of two appenders that
// both write at `start`, ClickHouse keeps the first block whole and drops the
// other whole: the position is claimed atomically by storage itself.
// Retrying a block whose outcome was unknown is dropped the same way.
export async function insertLogNodes(storage: Storage, tables: Tables, start: number, rows: LogNodeRow[]): Promise<void> {
  await insertRows(storage, nodes(tables), rows, { insert_deduplicate: 1, insert_deduplication_token: `log-append-${start}` });
}

// Event ids of the leaves in [from, to), in order: who won an append.
export async function leafIdsBetween(storage: Storage, tables: Tables, from: number, to: number): Promise<string[]> {
  const rows = await select<{ event_id: string }>(
    storage,
    `SELECT any(event_id) AS event_id FROM ${nodes(tables)} WHERE level = 0 AND idx >= {from:UInt64} AND idx < {to:UInt64} GROUP BY idx ORDER BY idx`,
    { from, to },
  );
  return rows.map((r) => r.event_id);
}

// Number of leaves stored: one past the last leaf (read in key order, one granule).
export async function storedTreeSize(storage: Storage, tables: Tables): Promise<number> {
  const [row] = await select<{ idx: number }>(storage, `SELECT idx FROM ${nodes(tables)} WHERE level = 0 ORDER BY level DESC, idx DESC LIMIT 1`);
  return row ? Number(row.idx) + 1 : 0;
}

// Hashes (hex) of the given complete subtrees, keyed "level/idx".
export async function subtreeHashes(storage: Storage, tables: Tables, coords: Coord[]): Promise<Map<string, string>> {
  if (coords.length === 0) return new Map();
  const rows = await select<{ level: number; idx: number; hash: string }>(
    storage,
    `SELECT level, idx, any(hash) AS hash FROM ${nodes(tables)}
     WHERE (level, idx) IN (SELECT tupleElement(c, 1), tupleElement(c, 2) FROM (SELECT arrayJoin(arrayZip({levels:Array(UInt8)}, {idxs:Array(UInt64)})) AS c))
     GROUP BY level, idx`,
    { levels: coords.map((c) => c.level), idxs: coords.map((c) => c.index) },
  );
  return new Map(rows.map((r) => [`${Number(r.level)}/${Number(r.idx)}`, r.hash]));
}

// The leaves logging these event ids (any tenant when tenants is null).
export async function leavesOf(storage: Storage, tables: Tables, ids: string[], tenants: string[] | null = null): Promise<StoredLeaf[]> {
  if (ids.length === 0) return [];
  const rows = await select<StoredLeaf>(
    storage,
    `SELECT event_id, tenant, idx, hash FROM ${nodes(tables)}
     WHERE level = 0 AND event_id IN {ids:Array(String)} ${tenants ? 'AND tenant IN {tenants:Array(String)}' : ''}
     ORDER BY idx`,
    { ids, ...(tenants ? { tenants } : {}) },
  );
  return rows.map((r) => ({ ...r, idx: Number(r.idx) }));
}

export async function insertCheckpoint(storage: Storage, tables: Tables, cp: { size: number; root: string; note: string }): Promise<void> {
  await insertRows(storage, checkpoints(tables), [{ ...cp, created_at: Date.now() }]);
}

export async function latestCheckpoint(storage: Storage, tables: Tables): Promise<StoredCheckpoint | undefined> {
  const [row] = await select<StoredCheckpoint>(storage, `SELECT size, root, note, created_at FROM ${checkpoints(tables)} ORDER BY size DESC LIMIT 1`);
  return row ? { ...row, size: Number(row.size) } : undefined;
}

export async function checkpointAt(storage: Storage, tables: Tables, size: number): Promise<StoredCheckpoint | undefined> {
  const [row] = await select<StoredCheckpoint>(storage, `SELECT size, root, note, created_at FROM ${checkpoints(tables)} WHERE size = {size:UInt64} LIMIT 1`, { size });
  return row ? { ...row, size: Number(row.size) } : undefined;
}

export interface StoredEvent {
  id: string;
  tenant: string;
  raw_jws: string;
}

// Leaves from index `from` on, in log order: the spine of an export.
export async function leafPage(storage: Storage, tables: Tables, from: number, limit: number): Promise<StoredLeaf[]> {
  const rows = await select<StoredLeaf>(
    storage,
    `SELECT event_id, tenant, idx, any(hash) AS hash FROM ${nodes(tables)}
     WHERE level = 0 AND idx >= {from:UInt64} GROUP BY level, idx, event_id, tenant ORDER BY idx LIMIT {limit:UInt32}`,
    { from, limit },
  );
  return rows.map((r) => ({ ...r, idx: Number(r.idx) }));
}

export async function eventsByIds(storage: Storage, tables: Tables, ids: string[]): Promise<StoredEvent[]> {
  if (ids.length === 0) return [];
  return select<StoredEvent>(storage, `SELECT id, tenant, ${STORED_JWS} AS raw_jws FROM ${tables.events} FINAL WHERE id IN {ids:Array(String)}`, { ids });
}

// Stored events no leaf logs: written past actorlog, or not yet appended.
export async function eventsWithoutLeaf(storage: Storage, tables: Tables): Promise<StoredEvent[]> {
  return select<StoredEvent>(
    storage,
    `SELECT id, tenant, ${STORED_JWS} AS raw_jws FROM ${tables.events} FINAL
     WHERE id NOT IN (SELECT event_id FROM ${nodes(tables)} WHERE level = 0) ORDER BY id`,
  );
}
