// Event rows into the embedded engine, the real events table: the insert path
// actorlog uses (TabSeparated, store/events.ts) against the JSONEachRow path
// it replaced and against the engine's own ceiling for writing these rows
// (INSERT ... SELECT from a copy: no parsing at all), in one run, repeated.
// Usage: node dist/test/bench/store.bench.js [ROWS] [REPEATS]   (default 30000, 3)
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStorage, execute, insertRows, select, tablesOf } from '../../store/client.js';
import { insertEvents } from '../../store/events.js';
import { migrate } from '../../store/migrate.js';
import { tempDir } from '../helpers/fixtures.js';
import { eventRows } from './event-rows.js';

const total = Number(process.argv[2] ?? 30_000);
const repeats = Number(process.argv[3] ?? 3);
const batchSize = 10_000;
const dir = tempDir('actorlog-bench-store-');
// Each row its own event and JWS (test/bench/event-rows.ts).
const rows = eventRows(total);
const storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });

let n = 0;
async function freshTables() {
  const tables = tablesOf(`bench_${n++}`);
  await migrate(storage, tables);
  return tables;
}
type Tables = ReturnType<typeof tablesOf>;
const cpuUs: Record<string, number[]> = { tsv: [], json: [], ceiling: [] };
async function rate(label: string, fn: (tables: Tables) => Promise<void>, tables?: Tables): Promise<number> {
  const into = tables ?? (await freshTables());
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn(into);
  const rate = (total / (performance.now() - start)) * 1000;
  const used = process.cpuUsage(cpu);
  // CPU of the whole process (the engine runs in it) per row: steadier than
  // wall time on a shared machine.
  cpuUs[label]!.push((used.user + used.system) / total);
  return rate;
}
const inBatches = async (write: (part: typeof rows) => Promise<void>) => {
  for (let i = 0; i < rows.length; i += batchSize) await write(rows.slice(i, i + batchSize));
};

const results: Record<string, number[]> = { tsv: [], json: [], ceiling: [] };
for (let r = 0; r < repeats; r++) {
  // Interleaved, so a noisy neighbour slows each path alike.
  results.json!.push(await rate('json', (t) => inBatches((part) => insertRows(storage, t.events, part))));
  const source = await freshTables();
  results.tsv!.push(await rate('tsv', (t) => inBatches((part) => insertEvents(storage, t, part)), source));
  results.ceiling!.push(await rate('ceiling', (t) => execute(storage, `INSERT INTO ${t.events} SELECT * FROM ${source.events}`)));
}
// Bytes per event on disk (active parts, compressed, indexes and marks
// included) after the last repeat: one copy of the event (actorlog) against
// two (the JSONEachRow table holds the JWS whole beside event_json).
const onDisk = async (t: Tables) => {
  const [row] = await select<{ bytes: number; rows: number }>(
    storage,
    `SELECT sum(bytes_on_disk) AS bytes, sum(rows) AS rows FROM system.parts WHERE active AND database = {db:String} AND table = 'events'`,
    { db: t.database },
  );
  return Number(row!.bytes) / Number(row!.rows);
};
const diskOne = await onDisk(tablesOf(`bench_${n - 2}`));
const diskTwo = await onDisk(tablesOf(`bench_${n - 3}`));
await storage.close();

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const k = (x: number) => Math.round(x).toLocaleString('en-US');
const line = (label: string, xs: number[], key: string) => {
  const { min, median, max } = stats(xs);
  const c = stats(cpuUs[key]!);
  console.log(`${label.padEnd(52)} min ${k(min).padStart(8)} / median ${k(median).padStart(8)} / max ${k(max).padStart(8)} rows/s; CPU ${c.min.toFixed(0)} / ${c.median.toFixed(0)} / ${c.max.toFixed(0)} us/row`);
};
console.log(`event rows into the embedded engine, real events table: ${total} rows in batches of ${batchSize}, ${repeats} repeats`);
line('ceiling: INSERT ... SELECT (engine write, no parsing)', results.ceiling!, 'ceiling');
line('actorlog: TabSeparated, one copy (insertEvents)', results.tsv!, 'tsv');
line('before: JSONEachRow, two copies, via the client', results.json!, 'json');
const ratio = (a: number[], b: number[]) => stats(a.map((x, i) => x / b[i]!));
const r1 = ratio(results.tsv!, results.json!);
const r2 = ratio(results.tsv!, results.ceiling!);
const target = stats(results.tsv!.map((x) => x / 100_000));
console.log(`ratio TabSeparated / JSONEachRow                     min ${r1.min.toFixed(2)} / median ${r1.median.toFixed(2)} / max ${r1.max.toFixed(2)}`);
console.log(`ratio TabSeparated / ceiling                         min ${r2.min.toFixed(2)} / median ${r2.median.toFixed(2)} / max ${r2.max.toFixed(2)}`);
console.log(`ratio TabSeparated / target 100,000 rows/s            min ${target.min.toFixed(2)} / median ${target.median.toFixed(2)} / max ${target.max.toFixed(2)}`);
console.log(`bytes per event on disk: ${Math.round(diskOne)} (one copy of the event) / ${Math.round(diskTwo)} (JWS whole beside event_json)`);
