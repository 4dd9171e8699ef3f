// Peak memory of a report run and of an export as the row count grows: both
// stream rows from the engine to the file (or the response), so the peak
// should stay flat (a ratio near 1x between the sizes). Each measurement runs
// in a fresh child process (its peak RSS is its own), over rows generated
// straight into the embedded engine. With --before, the same report built in
// memory as reports were before (every encoded row kept, then joined), as
// the ceiling this replaces.
// Usage: node dist/test/bench/report-memory.bench.js [SIZES] [REPEATS] [--before]
//   (default SIZES 100000,1000000; REPEATS 3)
import path from 'node:path';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createStorage, execute, tablesOf, type Storage } from '../../store/client.js';
import { migrate } from '../../store/migrate.js';
import { createLogger } from '../../lib/logger.js';
import { ReportService } from '../../reports/service.js';
import { loadReportKey } from '../../reports/signing.js';
import { reportRows } from '../../reports/kinds.js';
import { exportEncoder } from '../../schemas/export-formats.js';
import type { ReportDefinition } from '../../reports/definition.js';
import { generateEvents } from '../helpers/generated-events.js';
import { tempDir } from '../helpers/fixtures.js';
import { benchQueryApi } from './query-api.js';

const tables = tablesOf('bench');
const openStorage = (dir: string) => createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });
const tenantOf = (rows: number) => `t${rows}`;

// report: a saved search of every event; denied: the denied_actions kind (its
// rows are the period's denials, read oldest first in time slices).
type Mode = 'report' | 'denied' | 'export' | 'before';
interface Sample {
  rows: number;
  bytes: number;
  ms: number;
  baseline: number;
  peak: number;
}

async function child(dir: string, mode: Mode, size: number): Promise<Sample> {
  const storage = await openStorage(dir);
  const tenant = tenantOf(size);
  const definition: ReportDefinition = {
    id: `bench-${size}`,
    name: `every event of ${tenant}`,
    kind: mode === 'denied' ? 'denied_actions' : 'saved_search',
    tenant,
    period: 'P7D',
    schedule: '0 6 * * 1',
    format: 'csv',
    search: mode === 'denied' ? undefined : {},
    paused: false,
    created_by: 'bench',
    created_at: new Date().toISOString(),
    updated_by: null,
    updated_at: null,
  };
  await storage.query({ query: 'SELECT 1' }).then((r) => r.text());
  const baseline = process.memoryUsage().rss;
  const start = performance.now();
  let rows = 0;
  let bytes = 0;
  if (mode === 'report' || mode === 'denied') {
    const service = new ReportService({
      storage,
      tables,
      key: await loadReportKey(path.join(dir, 'report-signing.jwk')),
      logger: createLogger('bench', 'silent'),
      config: { reports: { tickMs: 60_000, dir: tempDir('actorlog-bench-reports-'), signingKeyFile: '', maxDefinitions: 1, minIntervalMinutes: 1 }, exportConcurrency: { perTenant: 1, total: 1 }, streams: { timeoutMs: 3_600_000, idleTimeoutMs: 600_000 } },
    });
    const run = await service.runNow(definition, 'bench');
    if (run.status !== 'ok') throw new Error(run.error);
    [rows, bytes] = [run.row_count, run.bytes];
  } else if (mode === 'before') {
    // What a run did before: every encoded row kept, then one string, then its bytes.
    const encode = exportEncoder('csv');
    const parts: string[] = [];
    for await (const chunk of reportRows(storage, tables, definition, { from: Date.now() - 7 * 86_400_000, to: Date.now() })) {
      for (const row of chunk) parts.push(encode(row));
      rows += chunk.length;
    }
    bytes = Buffer.from(parts.join(''), 'utf8').byteLength;
  } else {
    // One export at a time, as a tenant's would run alone.
    const app = benchQueryApi(storage, tables, dir, 1);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${url}/v1/events/export?tenant=${tenant}&format=ndjson`, { headers: { authorization: 'Bearer t' } });
    if (response.status !== 200) throw new Error(`export answered ${response.status}`);
    for await (const chunk of response.body!) {
      bytes += chunk.byteLength;
      for (const b of chunk) if (b === 10) rows++;
    }
    await app.close();
  }
  const ms = performance.now() - start;
  const peak = process.resourceUsage().maxRSS * 1024;
  await storage.close();
  return { rows, bytes, ms, baseline, peak };
}

async function setUp(dir: string, sizes: number[]): Promise<void> {
  const storage: Storage = await openStorage(dir);
  await migrate(storage, tables);
  for (const size of sizes) {
    const start = performance.now();
    await generateEvents(storage, tables, { tenant: tenantOf(size), source: `gw:bench-${size}`, count: size, denyEvery: 2 });
    console.log(`generated ${size.toLocaleString('en-US')} events in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  // Merged now, so no measured process pays for the merges of the fresh parts.
  await execute(storage, `OPTIMIZE TABLE ${tables.events} FINAL`);
  await storage.close();
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  const sample = await child(args[1]!, args[2] as Mode, Number(args[3]));
  process.stdout.write(`${JSON.stringify(sample)}\n`);
  process.exit(0);
}

const positional = args.filter((a) => !a.startsWith('--'));
const sizes = (positional[0] ?? '100000,1000000').split(',').map(Number);
const repeats = Number(positional[1] ?? 3);
const modes: Mode[] = ['report', 'denied', 'export', ...(args.includes('--before') ? (['before'] as const) : [])];
const dir = tempDir('actorlog-bench-report-memory-');
await setUp(dir, sizes);

const self = fileURLToPath(import.meta.url);
const samples = new Map<string, Sample[]>();
for (let r = 0; r < repeats; r++) {
  // Interleaved, so a noisy neighbour weighs on every mode and size alike.
  for (const size of sizes) {
    for (const mode of modes) {
      const out = spawnSync(process.execPath, [self, '--child', dir, mode, String(size)], { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 900_000 });
      if (out.status !== 0) throw new Error(`${mode} ${size}: ${out.stderr}`);
      const sample = JSON.parse(out.stdout.trim().split('\n').pop()!) as Sample;
      if (mode !== 'denied' && sample.rows !== size) throw new Error(`${mode} ${size}: ${sample.rows} rows`);
      samples.set(`${mode} ${size}`, [...(samples.get(`${mode} ${size}`) ?? []), sample]);
    }
  }
}
fs.rmSync(dir, { recursive: true, force: true });

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const mb = (x: number) => `${(x / 1e6).toFixed(0)} MB`;
const triple = (xs: number[], f: (x: number) => string) => {
  const { min, median, max } = stats(xs);
  return `${f(min)} / ${f(median)} / ${f(max)}`;
};
console.log(`peak RSS of a report run (saved search, CSV, to its file; denied: the denied_actions report) and an export (NDJSON over HTTP), each in a fresh process; ${repeats} repeats, min / median / max`);
for (const mode of modes) {
  for (const size of sizes) {
    const s = samples.get(`${mode} ${size}`)!;
    console.log(
      `${mode.padEnd(7)} ${s[0]!.rows.toLocaleString('en-US').padStart(10)} rows ${mb(s[0]!.bytes).padStart(8)}: peak RSS ${triple(s.map((x) => x.peak), mb)}; above the process at rest ${triple(s.map((x) => x.peak - x.baseline), mb)}; ${triple(s.map((x) => x.ms / 1000), (x) => `${x.toFixed(1)} s`)}`,
    );
  }
  const [small, large] = [sizes[0]!, sizes[sizes.length - 1]!];
  const a = samples.get(`${mode} ${small}`)!;
  const b = samples.get(`${mode} ${large}`)!;
  console.log(`${mode.padEnd(7)} ratio peak RSS ${large.toLocaleString('en-US')} / ${small.toLocaleString('en-US')} rows: ${triple(b.map((x, i) => x.peak / a[i]!.peak), (x) => `${x.toFixed(2)}x`)} (flat is 1x; rows grew ${(large / small).toFixed(0)}x)`);
}
