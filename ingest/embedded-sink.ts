// Embedded mode: no bus. The processor's batch runs in-process and the request
// is answered after the rows and the quarantine are written, so the caller
// learns the real verdict for each event (signature and schema included).
import { ActorlogError } from '../lib/errors.js';
import { countReasons, type Metrics } from '../lib/metrics.js';
import { prepareBatch, storeBatch, type BatchDeps } from '../processor/batch.js';
import { ping } from '../store/client.js';
import type { RawRecord } from '../processor/pipeline.js';
import type { IngestItem, IngestSink, ItemOutcome } from './sink.js';

export function createEmbeddedSink(deps: BatchDeps & { metrics: Metrics }): IngestSink {
  // Requests are processed one at a time: the processor state (sequences,
  // revocations) must see events in the order they were accepted.
  let queue: Promise<unknown> = Promise.resolve();

  async function accept(items: IngestItem[]): Promise<ItemOutcome[]> {
    const records: RawRecord[] = items.map((item) => ({
      value: item.raw,
      receivedAt: item.receivedAt,
      rejection: item.inspection.ok ? undefined : { reason: item.inspection.reason, detail: item.inspection.detail },
    }));
    let batch;
    try {
      batch = await prepareBatch(records, deps);
      await storeBatch(deps.storage, deps.tables, batch, deps.log);
    } catch (err) {
      deps.metrics.error('processor', 'STORAGE_UNAVAILABLE');
      throw new ActorlogError('STORAGE_UNAVAILABLE', (err as Error).message, { cause: err });
    }
    batch.commit();
    deps.metrics.batch('processor', {
      received: records.length,
      sent: batch.rows.length,
      quarantined: countReasons(batch.quarantined),
    });
    return batch.outcomes.map((o) => (o.ok ? { ok: true, id: o.id } : { ok: false, reason: o.reason, detail: o.detail }));
  }

  return {
    accept(items) {
      const run = queue.then(() => accept(items));
      queue = run.catch(() => undefined);
      return run;
    },
    ready: () => ping(deps.storage),
    // Waits for the batch being written, so storage closes after it.
    async close() {
      await queue;
    },
  };
}
