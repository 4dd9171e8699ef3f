// What each insert lever is worth on the events table, in one run: the real
// table and insert beside variants that change one thing each (a single copy
// of the event the other way, the codec of the event copies, the skip indexes, the projection, the text
// format, the batch size, insert settings). Every variant is interleaved with
// the others in each repeat, so a noisy neighbour slows all alike.
// Usage: node dist/test/bench/store-levers.bench.js [ROWS] [REPEATS] [VARIANT,...]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStorage, execute, insertRawText, type Storage } from '../../store/client.js';
import { withDetachedPayload } from '../../store/events.js';
import { eventTableDdl, type EventTableOptions } from '../../store/migrations.js';
import { EVENT_COLUMN_NAMES, type EventRow } from '../../schemas/row.js';
import { tabSeparated } from '../../store/tsv.js';
import { tempDir } from '../helpers/fixtures.js';
import { eventRows } from './event-rows.js';

const total = Number(process.argv[2] ?? 20_000);
const repeats = Number(process.argv[3] ?? 3);
const only = process.argv[4]?.split(',');
const dir = tempDir('actorlog-bench-levers-');
const rows = eventRows(total);

type Format = 'TabSeparated' | 'CSV' | 'JSONCompactEachRow';
interface Variant {
  // the JWS stored whole beside event_json (the insert before one copy)
  whole?: boolean;
  table?: EventTableOptions;
  format?: Format;
  batch?: number;
  settings?: Record<string, string | number>;
}
const VARIANTS: Record<string, Variant> = {
  real: {},
  'two copies (JWS stored whole)': { whole: true },
  'one copy the other way (event_json an ALIAS)': { whole: true, table: { derivedEventJson: true } },
  'event copies LZ4': { table: { eventCodec: 'LZ4' } },
  'event copies ZSTD(1)': { table: { eventCodec: 'ZSTD(1)' } },
  'no projection (before migration 18)': { table: { projections: false } },
  'no skip indexes': { table: { indexes: 'none' } },
  'skip indexes GRANULARITY 8': { table: { indexes: 'coarse' } },
  'CSV': { format: 'CSV' },
  'JSONCompactEachRow': { format: 'JSONCompactEachRow' },
  'batch 5k': { batch: 5_000 },
  'batch 20k': { batch: 20_000 },
  'optimize_on_insert=0': { settings: { optimize_on_insert: 0 } },
  'max_insert_threads=2': { settings: { max_insert_threads: 2 } },
  'LZ4 + no skip indexes + optimize_on_insert=0': { table: { eventCodec: 'LZ4', indexes: 'none' }, settings: { optimize_on_insert: 0 } },
};
const names = Object.keys(VARIANTS).filter((n) => !only || only.includes(n) || n === 'real');

const csvField = (v: unknown): string => {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  const text = typeof v === 'string' ? v : Array.isArray(v) ? `[${v.map((x) => `'${String(x).replace(/[\\']/g, '\\$&')}'`).join(',')}]` : `{${Object.entries(v as Record<string, string>).map(([k, x]) => `'${k.replace(/[\\']/g, '\\$&')}':'${x.replace(/[\\']/g, '\\$&')}'`).join(',')}}`;
  return `"${text.replace(/"/g, '""')}"`;
};
function encode(format: Format, part: readonly EventRow[], columns: (keyof EventRow)[]): Buffer {
  if (format === 'TabSeparated') return tabSeparated(part, columns);
  if (format === 'CSV') return Buffer.from(part.map((r) => columns.map((c) => csvField(r[c])).join(',')).join('\n') + '\n');
  return Buffer.from(part.map((r) => JSON.stringify(columns.map((c) => r[c]))).join('\n') + '\n');
}

const storage: Storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });
await execute(storage, 'CREATE DATABASE IF NOT EXISTS bench');
let n = 0;
// Wall-clock rows/s, and the CPU time of the whole process (JavaScript and
// the engine's threads, which run in-process) per row: on a shared machine
// the second is the steadier measure of what a lever saves.
async function run(v: Variant): Promise<{ rate: number; cpuUs: number }> {
  const table = `bench.events_${n++}`;
  await execute(storage, eventTableDdl(table, v.table));
  const columns = v.table?.derivedEventJson ? EVENT_COLUMN_NAMES.filter((c) => c !== 'event_json') : EVENT_COLUMN_NAMES;
  const batch = v.batch ?? 10_000;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < rows.length; i += batch) {
    // detaching and encoding are part of the insert's cost, as in store/events.ts
    const part = v.whole ? rows.slice(i, i + batch) : rows.slice(i, i + batch).map(withDetachedPayload);
    await insertRawText(storage, table, columns, encode(v.format ?? 'TabSeparated', part, columns), v.format ?? 'TabSeparated', v.settings);
  }
  const rate = (total / (performance.now() - start)) * 1000;
  const used = process.cpuUsage(cpu);
  await execute(storage, `DROP TABLE ${table}`);
  return { rate, cpuUs: (used.user + used.system) / total };
}

const results = new Map<string, { rate: number; cpuUs: number }[]>(names.map((x) => [x, []]));
for (let r = 0; r < repeats; r++) for (const name of names) results.get(name)!.push(await run(VARIANTS[name]!));
await storage.close();

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const k = (x: number) => Math.round(x).toLocaleString('en-US');
const three = (xs: number[], f: (x: number) => string) => {
  const s = stats(xs);
  return `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`;
};
console.log(`insert levers on the events table: ${total} rows (each its own event and JWS), ${repeats} repeats, min / median / max`);
console.log(`${'variant'.padEnd(46)} ${'rows/s'.padEnd(26)} ${'ratio to real'.padEnd(20)} ${'CPU us/row'.padEnd(20)} CPU ratio to real`);
const real = results.get('real')!;
for (const [name, xs] of results) {
  const rates = xs.map((x) => x.rate);
  const cpu = xs.map((x) => x.cpuUs);
  console.log(
    `${name.padEnd(46)} ${three(rates, k).padEnd(26)} ${three(rates.map((x, i) => x / real[i]!.rate), (x) => x.toFixed(2)).padEnd(20)} ${three(cpu, (x) => x.toFixed(0)).padEnd(20)} ${three(cpu.map((x, i) => x / real[i]!.cpuUs), (x) => x.toFixed(2))}`,
  );
}
