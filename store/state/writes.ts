// Processor state changes as rows for their tables. Each state table is a
// ReplacingMergeTree keyed by what it tracks, so re-writing a row is harmless.
import { insertRows, type Storage, type Tables } from '../client.js';

export type StateTable = 'emitterState' | 'sequenceGaps' | 'emitterChains' | 'chainBreaks' | 'revocations' | 'tokenUses';

export interface StateWrite {
  table: StateTable;
  values: Record<string, unknown>[];
}

export async function writeState(storage: Storage, tables: Tables, writes: readonly StateWrite[]): Promise<void> {
  await Promise.all(writes.map(({ table, values }) => insertRows(storage, tables[table], values)));
}
