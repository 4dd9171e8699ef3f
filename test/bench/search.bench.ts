// The console's search at scale: N events (default 1,000,000) loaded straight
// into the embedded engine, then each of the search API's main questions asked
// RUNS times (default 20, each with a different value, after 2 unmeasured
// warm-up calls) through the real query API (fastify inject), printing
// min / median / p95 / max and p95 against the 1 s target (issue 10: a search
// over a million stored events on screen within 1 s, p95).
// Usage: npm run bench:search [-- EVENTS [RUNS]]
//        (= npm run build && node dist/test/bench/search.bench.js 1000000 20)
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStorage, tablesOf } from '../../store/client.js';
import { Metrics } from '../../lib/metrics.js';
import { ConcurrencyGate } from '../../lib/concurrency.js';
import { migrate } from '../../store/migrate.js';
import { buildQueryApi } from '../../query-api/server.js';
import { staticAuthenticator } from '../../query-api/auth.js';
import { tempDir } from '../helpers/fixtures.js';
import { seedEvents } from './seed.js';

const total = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 20);
const TARGET_MS = 1000;

const dir = tempDir('actorlog-search-bench-');
const storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });
const tables = tablesOf('bench');
await migrate(storage, tables);
const seeded = await seedEvents(storage, tables, total);
console.log(`seeded ${total} events over 7 days in ${seeded.seconds.toFixed(1)} s`);

const app = buildQueryApi({ storage, tables, metrics: new Metrics(), authenticate: staticAuthenticator('t'), keysFile: path.join(dir, 'none.json'), rateLimit: 1_000_000, logLevel: 'silent', exportGate: new ConcurrencyGate({ perTenant: 1_000, total: 1_000 }) });
await app.ready();

// What the console asks: a page of 50 (its default) for each filter, and the
// histogram drawn beside the results. k varies the value on every call.
const questions: [string, (k: number) => string][] = [
  ['latest 50, no filter (the landing search)', () => '/v1/events?limit=50'],
  ['by human, last 7 d', (k) => `/v1/events?human=u-${k * 13 % 500}&since=7d&limit=50`],
  ['by agent', (k) => `/v1/events?agent=agent:${k % 40}&limit=50`],
  ['by session', (k) => `/v1/events?session=s-${k * 97 % 5000}&limit=50`],
  ['free text (an attrs value)', (k) => `/v1/events?q=TICKET-${k * 331 % 20_000}&limit=50`],
  ['histogram, all events, 7 d', () => '/v1/events/histogram?since=7d'],
  ['histogram by human, 7 d', (k) => `/v1/events/histogram?since=7d&human=u-${k * 13 % 500}`],
];

const ms = (n: number) => `${n.toFixed(0).padStart(5)} ms`;
let missed = 0;
console.log(`${'question'.padEnd(44)}      min    median       p95       max   p95/target`);
for (const [name, url] of questions) {
  const times: number[] = [];
  for (let i = -2; i < runs; i++) {
    const t = performance.now();
    const response = await app.inject({ method: 'GET', url: url(i + 2), headers: { authorization: 'Bearer t' } });
    const took = performance.now() - t;
    if (response.statusCode !== 200) throw new Error(`${url(i + 2)}: ${response.statusCode} ${response.body.slice(0, 200)}`);
    if (i >= 0) times.push(took);
  }
  times.sort((a, b) => a - b);
  const p95 = times[Math.min(times.length - 1, Math.ceil(0.95 * times.length) - 1)]!;
  if (p95 > TARGET_MS) missed++;
  console.log(
    `${name.padEnd(44)} ${ms(times[0]!)} ${ms(times[Math.floor(times.length / 2)]!)} ${ms(p95)} ${ms(times[times.length - 1]!)}   ${(p95 / TARGET_MS).toFixed(2)}${p95 > TARGET_MS ? '  MISSED' : ''}`,
  );
}
console.log(`${questions.length - missed} of ${questions.length} questions within the ${TARGET_MS} ms p95 target at ${total} events`);
await app.close();
await storage.close();
