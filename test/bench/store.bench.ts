// Event rows into the embedded engine, the real events table: the insert path
// actorlog uses (TabSeparated, store/events.ts) against the JSONEachRow path
// it replaced and against the engine's own ceiling for writing these rows
// (INSERT ... SELECT from a copy: no parsing at all), in one run, repeated.
// Usage: node dist/test/bench/store.bench.js [ROWS] [REPEATS]   (default 30000, 3)
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { normalise } from '../../processor/normalise.js';
import { createStorage, execute, insertRows, tablesOf } from '../../store/client.js';
import { insertEvents } from '../../store/events.js';
import { migrate } from '../../store/migrate.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import { fullEvent, registeredEmitter, tempDir } from '../helpers/fixtures.js';

const total = Number(process.argv[2] ?? 30_000);
const repeats = Number(process.argv[3] ?? 3);
const batchSize = 10_000;
const dir = tempDir('actorlog-bench-store-');
const emitter = await registeredEmitter(path.join(dir, 'emitters.json'), 'gw:bench');
const jws = await emitter.sign(fullEvent(emitter.source));
const skew = { futureMs: 300_000, pastMs: 86_400_000 };
// Rows as the processor makes them, one real signed JWS (~1.5 kB) each.
const rows = Array.from({ length: total }, (_, i) =>
  normalise(fullEvent(emitter.source, { context: { session_id: `s-${i % 97}` } }) as ActorlogEvent, { kid: 'k', rawJws: jws, ingestedAt: Date.now(), skew }),
);
const storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });

let n = 0;
async function freshTables() {
  const tables = tablesOf(`bench_${n++}`);
  await migrate(storage, tables);
  return tables;
}
type Tables = ReturnType<typeof tablesOf>;
async function rate(fn: (tables: Tables) => Promise<void>, tables?: Tables): Promise<number> {
  const into = tables ?? (await freshTables());
  const start = performance.now();
  await fn(into);
  return (total / (performance.now() - start)) * 1000;
}
const inBatches = async (write: (part: typeof rows) => Promise<void>) => {
  for (let i = 0; i < rows.length; i += batchSize) await write(rows.slice(i, i + batchSize));
};

const results: Record<string, number[]> = { tsv: [], json: [], ceiling: [] };
for (let r = 0; r < repeats; r++) {
  // Interleaved, so a noisy neighbour slows each path alike.
  results.json!.push(await rate((t) => inBatches((part) => insertRows(storage, t.events, part))));
  const source = await freshTables();
  results.tsv!.push(await rate((t) => inBatches((part) => insertEvents(storage, t, part)), source));
  results.ceiling!.push(await rate((t) => execute(storage, `INSERT INTO ${t.events} SELECT * FROM ${source.events}`)));
}
await storage.close();

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const k = (x: number) => Math.round(x).toLocaleString('en-US');
const line = (label: string, xs: number[]) => {
  const { min, median, max } = stats(xs);
  console.log(`${label.padEnd(52)} min ${k(min).padStart(8)} / median ${k(median).padStart(8)} / max ${k(max).padStart(8)} rows/s`);
};
console.log(`event rows into the embedded engine, real events table: ${total} rows in batches of ${batchSize}, ${repeats} repeats`);
line('ceiling: INSERT ... SELECT (engine write, no parsing)', results.ceiling!);
line('actorlog: TabSeparated (insertEvents)', results.tsv!);
line('before: JSONEachRow through the client', results.json!);
const ratio = (a: number[], b: number[]) => stats(a.map((x, i) => x / b[i]!));
const r1 = ratio(results.tsv!, results.json!);
const r2 = ratio(results.tsv!, results.ceiling!);
console.log(`ratio TabSeparated / JSONEachRow                     min ${r1.min.toFixed(2)} / median ${r1.median.toFixed(2)} / max ${r1.max.toFixed(2)}`);
console.log(`ratio TabSeparated / ceiling                         min ${r2.min.toFixed(2)} / median ${r2.median.toFixed(2)} / max ${r2.max.toFixed(2)}`);
