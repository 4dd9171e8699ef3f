// What the transparency log costs the processor, printed as figures:
//   1. the whole processor batch into the embedded engine, with the log
//      appending every stored event, batch by batch: the append's leaves/s
//      and its share of the batch time (min / median / max over batches);
//   2. the same batches into a second database without the log: the ceiling
//      the log is measured against, in the same run;
//   3. proof lookups at the final size: inclusion proofs and tree head read
//      from stored hashes (min / median / max ms).
// Usage: node dist/test/bench/log.bench.js [EVENTS]   (default 20000)
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { KeyResolver } from '../../processor/key-resolver.js';
import type { RawRecord } from '../../processor/pipeline.js';
import { createProcessorState, prepareBatch, storeBatch, type BatchDeps } from '../../processor/batch.js';
import { createStorage, tablesOf, type Storage } from '../../store/client.js';
import { migrate } from '../../store/migrate.js';
import { LogAppender } from '../../transparency/appender.js';
import { storedInclusionProofs, storedRoot } from '../../transparency/stored-proofs.js';
import { fullEvent, registeredEmitter, tempDir } from '../helpers/fixtures.js';

const total = Number(process.argv[2] ?? 20_000);
const batchSize = 500;
const dir = tempDir('actorlog-log-bench-');
const registry = path.join(dir, 'emitters.json');
const emitters = await Promise.all(Array.from({ length: 8 }, (_, i) => registeredEmitter(registry, `gw:bench-${i}`)));
const records: RawRecord[] = [];
for (let i = 0; i < total; i++) {
  const emitter = emitters[i % emitters.length]!;
  records.push({ value: Buffer.from(await emitter.sign(fullEvent(emitter.source))), receivedAt: Date.now() });
}
const batches: RawRecord[][] = [];
for (let i = 0; i < records.length; i += batchSize) batches.push(records.slice(i, i + batchSize));

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const fmt = (x: { min: number; median: number; max: number }, digits = 0) => `min ${x.min.toFixed(digits)} / median ${x.median.toFixed(digits)} / max ${x.max.toFixed(digits)}`;

const storage: Storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });
async function run(database: string, withLog: boolean) {
  const tables = tablesOf(database);
  await migrate(storage, tables);
  const log = withLog ? new LogAppender(storage, tables) : undefined;
  const deps: BatchDeps = {
    storage,
    tables,
    keys: new KeyResolver(registry),
    eventMaxBytes: 65536,
    skew: { futureMs: 300_000, pastMs: 86_400_000 },
    state: createProcessorState(storage, tables, { emitterSilentAfterMs: 300_000 }),
  };
  const batchMs: number[] = [];
  const appendMs: number[] = [];
  const began = performance.now();
  for (const records of batches) {
    const start = performance.now();
    const batch = await prepareBatch(records, deps);
    await storeBatch(storage, tables, batch);
    // What the transparency-log sink does after the batch is stored.
    const appended = log ? await log.append([...batch.rows, ...batch.redeliveredRows]) : undefined;
    batch.commit();
    batchMs.push(performance.now() - start);
    if (appended) appendMs.push(appended.ms);
  }
  return { tables, log, batchMs, appendMs, wallMs: performance.now() - began };
}

// Without the log first, so the engine is warm for neither run in particular.
const bare = await run('bench_bare', false);
const logged = await run('bench_log', true);
const size = (await logged.log!.head()).size;

const leavesPerSec = logged.appendMs.map((ms) => (batchSize / ms) * 1000);
const share = logged.appendMs.map((ms, i) => (ms / logged.batchMs[i]!) * 100);
const lookupMs: number[] = [];
for (let i = 0; i < 50; i++) {
  const start = performance.now();
  await storedInclusionProofs(storage, logged.tables, [Math.floor((i / 50) * size)], size);
  lookupMs.push(performance.now() - start);
}
const rootMs: number[] = [];
for (let i = 0; i < 10; i++) {
  const start = performance.now();
  await storedRoot(storage, logged.tables, size - i);
  rootMs.push(performance.now() - start);
}
await storage.close();

const rate = (ms: number) => Math.round((total / ms) * 1000).toLocaleString('en-US');
console.log(`events                          ${total} in batches of ${batchSize}; log size ${size}`);
console.log(`log append, leaves/s per batch  ${fmt(stats(leavesPerSec))}`);
console.log(`log share of batch time, %      ${fmt(stats(share), 1)}`);
console.log(`whole batch with the log        ${rate(logged.wallMs)} events/s (batch ms ${fmt(stats(logged.batchMs))})`);
console.log(`whole batch without (ceiling)   ${rate(bare.wallMs)} events/s (batch ms ${fmt(stats(bare.batchMs))})`);
console.log(`with / without                  ${(bare.wallMs / logged.wallMs).toFixed(2)} of the ceiling`);
console.log(`inclusion proof from storage    ms ${fmt(stats(lookupMs), 1)} (50 leaves across the log)`);
console.log(`tree head from storage          ms ${fmt(stats(rootMs), 1)}`);
