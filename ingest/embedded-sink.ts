// Embedded mode: no bus. The batch runner runs in-process and the request is
// answered after the rows and the quarantine are written, so the caller
// learns the real verdict for each event (signature and schema included).
// Each envelope is inspected once, by ingest; the pipeline reuses it.
import type { RawRecord } from '../processor/pipeline.js';
import { runBatch, type RunnerDeps } from '../processor/runner.js';
import { ping } from '../store/client.js';
import type { IngestItem, IngestSink, ItemOutcome } from './sink.js';

export function createEmbeddedSink(deps: RunnerDeps): IngestSink {
  // Requests are processed one at a time: the processor state (sequences,
  // revocations) must see events in the order they were accepted.
  let queue: Promise<unknown> = Promise.resolve();

  async function accept(items: IngestItem[]): Promise<ItemOutcome[]> {
    const records: RawRecord[] = items.map((item) => ({
      value: item.raw,
      receivedAt: item.receivedAt,
      origin: item.origin,
      inspection: item.inspection,
      rejection: item.inspection.ok ? undefined : { reason: item.inspection.reason, detail: item.inspection.detail },
    }));
    // One attempt: a passing failure answers 503 and the emitter sends again.
    const batch = await runBatch(records, deps);
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
