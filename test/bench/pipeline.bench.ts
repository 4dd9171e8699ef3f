// Throughput of the processor's hot path, printed as figures:
//   1. verify + validate + normalise (runPipeline), per batch of 500;
//   2. the whole processor batch: that, plus the replay check, the stateful
//      flags, and the inserts into the embedded ClickHouse engine.
// Usage: npm run bench [-- EVENTS]   (default 20000)
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { KeyResolver } from '../../processor/key-resolver.js';
import { runPipeline, type RawRecord } from '../../processor/pipeline.js';
import { createProcessorState, prepareBatch, storeBatch } from '../../processor/batch.js';
import { createStorage, tablesOf } from '../../store/client.js';
import { migrate } from '../../store/migrate.js';
import { fullEvent, registeredEmitter, tempDir } from '../helpers/fixtures.js';

const total = Number(process.argv[2] ?? 20_000);
const batchSize = 500;
const dir = tempDir('actorlog-bench-');
const registry = path.join(dir, 'emitters.json');

const emitters = await Promise.all(Array.from({ length: 8 }, (_, i) => registeredEmitter(registry, `gw:bench-${i}`)));
const signStart = performance.now();
const records: RawRecord[] = [];
for (let i = 0; i < total; i++) {
  const emitter = emitters[i % emitters.length]!;
  const jws = await emitter.sign(fullEvent(emitter.source, { context: { session_id: `s-${i % 97}` } }));
  records.push({ value: Buffer.from(jws), receivedAt: Date.now() });
}
const signMs = performance.now() - signStart;

const keys = new KeyResolver(registry);
const skew = { futureMs: 300_000, pastMs: 86_400_000 };
const batches: RawRecord[][] = [];
for (let i = 0; i < records.length; i += batchSize) batches.push(records.slice(i, i + batchSize));

const pipelineStart = performance.now();
for (const batch of batches) await runPipeline(batch, { keys, eventMaxBytes: 65536, skew });
const pipelineMs = performance.now() - pipelineStart;

const storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });
const tables = tablesOf('bench');
await migrate(storage, tables);
const deps = { storage, tables, keys, eventMaxBytes: 65536, skew, state: createProcessorState(storage, tables, { emitterSilentAfterMs: 300_000 }) };
const storeStart = performance.now();
for (const records of batches) {
  const batch = await prepareBatch(records, deps);
  await storeBatch(storage, tables, batch);
  batch.commit();
}
const storeMs = performance.now() - storeStart;
const [count] = await (await storage.query({ query: `SELECT count() AS n FROM ${tables.events} FINAL`, format: 'JSONEachRow' })).json<{ n: string }>();
await storage.close();

const rate = (ms: number) => Math.round((total / ms) * 1000).toLocaleString('en-US');
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const mem = process.memoryUsage();
console.log(`events                         ${total} (${emitters.length} emitters, batches of ${batchSize}, avg ${Math.round(records.reduce((n, r) => n + r.value.length, 0) / total)} B)`);
console.log(`sign (SDK, EdDSA)              ${rate(signMs)} events/s`);
console.log(`verify + validate + normalise  ${rate(pipelineMs)} events/s`);
console.log(`whole batch into embedded CH   ${rate(storeMs)} events/s, ${count?.n} rows stored`);
console.log(`memory                         rss ${mib(mem.rss)} MiB, heap used ${mib(mem.heapUsed)} MiB`);
