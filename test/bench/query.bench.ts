// Latency of the analysts' questions on a larger store, printed as figures.
// Seeds N events (default 200000) straight into the embedded engine
// (seed.ts), then asks each question 5
// times through the real query API (fastify inject) and prints the median.
// Usage: npm run build && node dist/test/bench/query.bench.js [EVENTS]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStorage, tablesOf } from '../../store/client.js';
import { migrate } from '../../store/migrate.js';
import { tempDir } from '../helpers/fixtures.js';
import { seedEvents } from './seed.js';
import { benchQueryApi } from './query-api.js';

const total = Number(process.argv[2] ?? 200_000);
const dir = tempDir('actorlog-qbench-');
const storage = await createStorage({ username: 'default', password: '', database: 'bench', embeddedPath: path.join(dir, 'ch') });
const tables = tablesOf('bench');
await migrate(storage, tables);

const { seconds: seedSeconds, start } = await seedEvents(storage, tables, total);

const app = benchQueryApi(storage, tables, dir);
await app.ready();
const to = new Date(Date.now() + 60_000).toISOString();
const from = new Date(start).toISOString();
const questions: [string, string][] = [
  ['search by human, first page of 100', '/v1/events?human=u-42&tenant=acme'],
  ['search by agent and outcome', '/v1/events?agent=agent:7&outcome=deny'],
  ['search by session', '/v1/events?session=s-1234'],
  ['human activity, 7 days', `/v1/humans/u-42/activity?from=${from}&to=${to}`],
  ['agent activity, 7 days', `/v1/agents/agent:7/activity?from=${from}&to=${to}`],
  ['blast radius of a jti, 7 days', `/v1/blast-radius?jti=jti-99&from=${from}&to=${to}`],
  ['findings by human, 7 days', `/v1/findings?group_by=human&from=${from}&to=${to}`],
  ['session graph', '/v1/sessions/s-1234/graph'],
  ['export of 5,000 rows as NDJSON', '/v1/events/export?tenant=globex&format=ndjson&agent=agent:0'],
];
console.log(`seeded ${total} events in ${seedSeconds.toFixed(1)} s`);
for (const [name, url] of questions) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const response = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer t' } });
    times.push(performance.now() - t);
    if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
    bytes = response.body.length;
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(38)} median ${times[2]!.toFixed(0).padStart(5)} ms  (${(bytes / 1024).toFixed(0)} KiB)`);
}
await app.close();
await storage.close();
