// Embedded mode: no bus. The pipeline runs in-process and the request is
// answered after the rows and the quarantine are written, so the caller learns
// the real verdict for each event (signature and schema included).
import { ActorlogError } from '../lib/errors.js';
import type { Storage, Tables } from '../lib/storage.js';
import { countReasons, type Metrics } from '../lib/metrics.js';
import { runPipeline, type RawRecord } from '../processor/pipeline.js';
import type { KeyResolver } from '../processor/key-resolver.js';
import { storeResult } from '../processor/store.js';
import type { IngestItem, IngestSink, ItemOutcome } from './sink.js';

export interface EmbeddedSinkDeps {
  storage: Storage;
  tables: Tables;
  keys: KeyResolver;
  metrics: Metrics;
  eventMaxBytes: number;
}

export function createEmbeddedSink(deps: EmbeddedSinkDeps): IngestSink {
  return {
    async accept(items: IngestItem[]): Promise<ItemOutcome[]> {
      const records: RawRecord[] = items.map((item) => ({
        value: item.raw,
        receivedAt: item.receivedAt,
        rejection: item.inspection.ok ? undefined : { reason: item.inspection.reason, detail: item.inspection.detail },
      }));
      const result = await runPipeline(records, { keys: deps.keys, eventMaxBytes: deps.eventMaxBytes });
      try {
        await storeResult(deps.storage, deps.tables, result);
      } catch (err) {
        deps.metrics.error('processor', 'STORAGE_UNAVAILABLE');
        throw new ActorlogError('STORAGE_UNAVAILABLE', (err as Error).message, { cause: err });
      }
      deps.metrics.batch('processor', {
        received: records.length,
        sent: result.rows.length,
        quarantined: countReasons(result.quarantined),
      });
      return result.outcomes.map((o) => (o.ok ? { ok: true, id: o.id } : { ok: false, reason: o.reason, detail: o.detail }));
    },
    async ready() {
      await deps.storage.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json());
    },
    async close() {},
  };
}
