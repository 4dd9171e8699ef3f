// The processor's hot path against its ceilings, measured in one run and
// repeated (min / median / max):
//   ceiling  Ed25519 verification with node:crypto and a cached key, one thread;
//   pipeline verify + validate + normalise (runPipeline), signatures on this
//            thread, then on the verification workers (one per core);
//   batch    the whole processor batch: that, plus the replay check, the
//            stateful flags and the inserts into the embedded engine.
// Usage: node dist/test/bench/pipeline.bench.js [EVENTS] [REPEATS]   (default 20000, 3)
import os from 'node:os';
import path from 'node:path';
import { verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { KeyResolver } from '../../processor/key-resolver.js';
import { runPipeline, type RawRecord } from '../../processor/pipeline.js';
import { createProcessorState, prepareBatch, storeBatch } from '../../processor/batch.js';
import { importPublicKey } from '../../processor/signatures.js';
import { VerifyPool } from '../../processor/verify-pool.js';
import { createStorage, select, tablesOf } from '../../store/client.js';
import { migrate } from '../../store/migrate.js';
import { fullEvent, registeredEmitter, tempDir } from '../helpers/fixtures.js';

const total = Number(process.argv[2] ?? 20_000);
const repeats = Number(process.argv[3] ?? 3);
const batchSize = 500;
const dir = tempDir('actorlog-bench-');
const registry = path.join(dir, 'emitters.json');

const emitters = await Promise.all(Array.from({ length: 8 }, (_, i) => registeredEmitter(registry, `gw:bench-${i}`)));
const records: RawRecord[] = [];
for (let i = 0; i < total; i++) {
  const emitter = emitters[i % emitters.length]!;
  const jws = await emitter.sign(fullEvent(emitter.source, { context: { session_id: `s-${i % 97}` } }));
  records.push({ value: Buffer.from(jws), receivedAt: Date.now() });
}
const batches: RawRecord[][] = [];
for (let i = 0; i < records.length; i += batchSize) batches.push(records.slice(i, i + batchSize));
const skew = { futureMs: 300_000, pastMs: 86_400_000 };
const pool = new VerifyPool();
const storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });

const keyObjects = emitters.map((e) => importPublicKey(e.key.publicJwk as Parameters<typeof importPublicKey>[0]));
const signed = records.map((r, i) => {
  const compact = r.value.toString();
  const dot = compact.lastIndexOf('.');
  return { data: Buffer.from(compact.slice(0, dot)), sig: Buffer.from(compact.slice(dot + 1), 'base64url'), key: keyObjects[i % keyObjects.length]! };
});

const perSecond = async (fn: () => Promise<unknown> | unknown) => {
  const start = performance.now();
  await fn();
  return (total / (performance.now() - start)) * 1000;
};
const figures: Record<string, number[]> = { ceiling: [], inline: [], workers: [], batch: [] };
let stored = 0;
for (let r = 0; r < repeats; r++) {
  figures.ceiling!.push(await perSecond(() => signed.every((s) => verify(null, s.data, s.key, s.sig))));
  figures.inline!.push(await perSecond(async () => {
    for (const b of batches) await runPipeline(b, { keys: new KeyResolver(registry), eventMaxBytes: 65536, skew });
  }));
  figures.workers!.push(await perSecond(async () => {
    for (const b of batches) await runPipeline(b, { keys: new KeyResolver(registry), eventMaxBytes: 65536, skew, verifier: pool });
  }));
  const tables = tablesOf(`bench_${r}`);
  await migrate(storage, tables);
  const deps = { storage, tables, keys: new KeyResolver(registry), eventMaxBytes: 65536, skew, verifier: pool, state: createProcessorState(storage, tables, { emitterSilentAfterMs: 300_000 }) };
  figures.batch!.push(await perSecond(async () => {
    for (const b of batches) {
      const batch = await prepareBatch(b, deps);
      await storeBatch(storage, tables, batch);
      batch.commit();
    }
  }));
  stored = Number((await select<{ n: string }>(storage, `SELECT count() AS n FROM ${tables.events} FINAL`))[0]!.n);
}
await pool.close();
await storage.close();

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const k = (x: number) => Math.round(x).toLocaleString('en-US').padStart(8);
const line = (label: string, xs: number[], unit = 'events/s') => {
  const { min, median, max } = stats(xs);
  console.log(`${label.padEnd(56)} min ${k(min)} / median ${k(median)} / max ${k(max)} ${unit}`);
};
const ratio = (label: string, a: number[], b: number[]) => {
  const { min, median, max } = stats(a.map((x, i) => x / b[i]!));
  console.log(`${label.padEnd(56)} min ${min.toFixed(2).padStart(8)} / median ${median.toFixed(2).padStart(8)} / max ${max.toFixed(2).padStart(8)}`);
};
console.log(`${total} events (${emitters.length} emitters, ~${Math.round(records.reduce((n, r) => n + r.value.length, 0) / total)} B each), batches of ${batchSize}, ${repeats} repeats, ${os.availableParallelism()} cores, ${pool.size} verification workers`);
line('ceiling: Ed25519 verify, node:crypto, cached key, 1 thread', figures.ceiling!);
line('pipeline, signatures on this thread', figures.inline!);
line('pipeline, signatures on the workers', figures.workers!);
line('whole batch into the embedded engine (workers)', figures.batch!);
ratio('ratio pipeline (workers) / 1-thread verify ceiling', figures.workers!, figures.ceiling!);
ratio('ratio whole batch / 1-thread verify ceiling', figures.batch!, figures.ceiling!);
ratio('ratio workers / this thread', figures.workers!, figures.inline!);
console.log(`rows stored in the last repeat: ${stored}`);
