// The one batch runner both drivers use (the Kafka consumer, embedded ingest):
//
//   prepare (pipeline + history flags) -> store -> sinks -> commit -> count
//
// A BatchSink is the seam for whatever else must see each stored batch before
// it is committed: the dead-letter topic today, an OCSF/SIEM stream or the
// transparency log next. Adding one is one file implementing BatchSink and one
// line where the driver's sinks are listed (cli/services.ts). A sink runs after
// the rows and state are stored and before the driver commits (Kafka offsets),
// so a crash in between redelivers the batch: a sink must tolerate seeing a
// batch twice (the redelivered rows are counted in batch.redelivered, not in
// batch.rows). A sink that fails with a retriable error holds the batch like
// storage does; any other error is a bug and stops the batch loudly.
import { ActorlogError, isRetriable } from '../lib/errors.js';
import { errorFields, type Logger } from '../lib/logger.js';
import { countReasons, type Metrics } from '../lib/metrics.js';
import { prepareBatch, storeBatch, type Batch, type BatchDeps } from './batch.js';
import type { RawRecord } from './pipeline.js';
import type { QuarantineBudget } from './quarantine-caps.js';
import { retryUntilDone } from './retry.js';

export interface BatchSink {
  // Named in logs and error metrics.
  readonly name: string;
  write(batch: Batch): Promise<void>;
}

export interface RunnerDeps extends BatchDeps {
  metrics: Metrics;
  logger: Logger;
  sinks: readonly BatchSink[];
  // Bounds what quarantine keeps (quarantine-caps.ts); absent: unbounded (tests of the pipeline alone).
  quarantineBudget?: QuarantineBudget;
}

export interface RunOptions {
  // Between attempts at a retriable failure: false gives up and throws the
  // last error. Absent: one attempt (the caller retries: embedded ingest's
  // client gets a 503 and sends again).
  keepGoing?: () => Promise<boolean>;
  // The driver's own commit (Kafka offsets), once storage and every sink have the batch.
  commit?: () => Promise<void>;
  // Kafka coordinates and the like, for the logs.
  where?: Record<string, unknown>;
}

export async function runBatch(records: RawRecord[], deps: RunnerDeps, opts: RunOptions = {}): Promise<Batch> {
  const started = performance.now();
  const { metrics, logger } = deps;
  const step = <T>(what: string, fn: () => Promise<T>, component: 'processor' | 'store' = 'processor'): Promise<T> =>
    retryUntilDone(fn, {
      keepGoing: opts.keepGoing ?? (async () => false),
      onError: (err, attempt) => {
        metrics.error(component, err);
        if (isRetriable(err)) logger.warn(`${what} failed, ${opts.keepGoing ? 'retrying' : 'refusing'} the batch`, { ...errorFields(err), attempt, ...opts.where });
        else logger.error(`${what} failed: a bug, not retried`, { ...errorFields(err), ...opts.where });
      },
    });

  const batch = await step('storage', () => prepareBatch(records, deps));
  // Every refusal, whether quarantine keeps it or a cap only counts it.
  const discarded = countReasons(batch.quarantined);
  if (deps.quarantineBudget) {
    const { kept, dropped } = deps.quarantineBudget.apply(batch.quarantined);
    batch.quarantined = kept;
    batch.dropped = dropped;
  }
  // The store component: the rows handed to the engine, one batch per insert round.
  const written = batch.rows.length + batch.quarantined.length;
  const storing = performance.now();
  await step('storage', () => storeBatch(deps.storage, deps.tables, batch), 'store');
  metrics.batch('store', { received: written, sent: written, durationMs: performance.now() - storing });
  // The state the batch staged is current from here: it is stored.
  batch.commit();
  for (const sink of deps.sinks) await step(`sink ${sink.name}`, () => sink.write(batch));
  if (opts.commit) await opts.commit();
  metrics.batch('processor', {
    received: records.length,
    sent: batch.rows.length,
    discarded,
    redelivered: batch.redelivered,
    durationMs: performance.now() - started,
  });
  return batch;
}
