// Writes one pipeline result to ClickHouse: verified rows to events, refused
// records to quarantine. A failure here is retriable by nature (storage is
// down, not the data bad), and callers must not acknowledge the batch.
import type { Storage, Tables } from '../lib/storage.js';
import type { PipelineResult } from './pipeline.js';

export async function storeResult(storage: Storage, tables: Tables, result: Pick<PipelineResult, 'rows' | 'quarantined'>): Promise<void> {
  const writes: Promise<unknown>[] = [];
  if (result.rows.length > 0) {
    writes.push(storage.insert({ table: tables.events, values: result.rows, format: 'JSONEachRow' }));
  }
  if (result.quarantined.length > 0) {
    writes.push(storage.insert({ table: tables.quarantine, values: result.quarantined, format: 'JSONEachRow' }));
  }
  await Promise.all(writes);
}
