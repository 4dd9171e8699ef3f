// The whole pipeline end to end against the verification ceilings, measured
// in one run and repeated (min / median / max), in embedded mode and in Kafka
// mode (a real local broker from scripts/kafka.sh, unless KAFKA_BROKERS names
// one). The services run in a child process as `actorlog start` runs them
// (e2e-server.ts); this process signs, sends and measures. For each mode:
//   ceiling     Ed25519 verification with node:crypto and a cached key, on one
//               thread and on the verification workers (one per core), over
//               the same signatures the repeat sends;
//   per-event   events signed one by one, POSTed as NDJSON batches by several
//               senders (one emitter each, ingest tokens as the SDK sends):
//               accepted events/s (every request answered 202), stored
//               events/s (all rows counted in the events table), the
//               services' CPU per event, and the ratio to the workers'
//               ceiling (target 0.8);
//   batch       the same with batch-signed events (one signature a request,
//               `signBatch` of @actorlog/sdk: what an EmitterClient with
//               signing 'batch' sends, built before the clock starts so no
//               outbox write shares the services' cores): target 40,000
//               stored events/s;
//   sustained   half the per-event stored maximum, paced, for --duration
//               seconds: ingest-to-queryable latency p50/p99 (from the POST
//               to the event's id answering a query; target p99 < 1 s) and
//               the services' RSS sampled every few seconds (start, peak, end,
//               slope: flat memory).
// Usage: node dist/test/bench/e2e.bench.js [--events N] [--repeats R] [--senders S]
//          [--batch B] [--duration SECONDS] [--modes embedded,kafka]
//   (defaults 20000 events a run, 3 repeats, 4 senders, batches of 500, 60 s, both modes)
//   BENCH_PROFILE_DIR=DIR: the services write a CPU profile (.cpuprofile) into DIR.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { verify, type JsonWebKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { signBatch } from '@actorlog/sdk';
import type { ActorlogEvent } from '../../schemas/event.js';
import { importPublicKey } from '../../processor/signatures.js';
import { VerifyPool, type SignatureJob } from '../../processor/verify-pool.js';
import { fullEvent, registeredEmitter, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { cpuSecondsOf, line, quantile, ratios, rssOf, slope, spread } from './stats.js';
import { startKafka } from './kafka-broker.js';

const { values: opts } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    repeats: { type: 'string', default: '3' },
    senders: { type: 'string', default: '4' },
    batch: { type: 'string', default: '500' },
    duration: { type: 'string', default: '60' },
    modes: { type: 'string', default: 'embedded,kafka' },
  },
});
const total = Number(opts.events);
const repeats = Number(opts.repeats);
const senders = Number(opts.senders);
const batchSize = Number(opts.batch);
const durationS = Number(opts.duration);
const modes = opts.modes!.split(',') as ('embedded' | 'kafka')[];
const TARGET_RATIO = 0.8;
const TARGET_BATCH_RATE = 40_000;
const TARGET_P99_MS = 1000;

// ---- the services in a child process -------------------------------------

interface Server {
  child: ChildProcess;
  ingestUrl: string;
  ask<T>(op: 'count' | 'stop'): Promise<T>;
  ask<T>(op: 'present', ids: string[]): Promise<T>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  // BENCH_PROFILE_DIR: the services write a CPU profile there when they stop.
  if (process.env.BENCH_PROFILE_DIR) fs.mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'e2e-server.js'), [], { env: { ...process.env, ...env }, execArgv: profile, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let n = 0;
  const ingestUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('services did not start within 180 s')), 180_000);
    child.on('exit', (code) => reject(new Error(`services exited with ${code}`)));
    child.on('message', (m: any) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve(m.ingestUrl);
      } else {
        const w = waiting.get(m.n);
        waiting.delete(m.n);
        if (m.error) w?.reject(new Error(m.error));
        else w?.resolve(m.value);
      }
    });
  });
  return {
    child,
    ingestUrl,
    ask(op: string, ids?: string[]) {
      return new Promise((resolve, reject) => {
        waiting.set(++n, { resolve, reject });
        child.send({ n, op, ids });
      });
    },
  };
}

// Stops the services and waits for their process to end (bounded: a
// services process that does not stop in 60 s is said so and killed).
async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((resolve) => (server.child.exitCode === null ? server.child.once('exit', resolve) : resolve(null)));
  const stopped = await Promise.race([
    server.ask<string>('stop').then((how) => {
      if (how !== 'closed') console.log(`  (the services' close: ${how})`);
      return exited.then(() => true);
    }, () => false),
    sleep(60_000).then(() => false),
  ]);
  if (!stopped) {
    console.log('  (the services did not stop within 60 s: killed)');
    server.child.kill('SIGKILL');
    await exited;
  }
}

// ---- emitters, events and senders -----------------------------------------

interface Sender {
  emitter: TestEmitter;
  seq: number;
}

function nextEvents(sender: Sender, count: number): ActorlogEvent[] {
  return Array.from({ length: count }, () => {
    const seq = ++sender.seq;
    return { ...fullEvent(sender.emitter.source, { context: { session_id: `s-${seq % 97}` } }), seq } as ActorlogEvent;
  });
}

// NDJSON request bodies of `size` events each: one signature per event, or
// one per request (a signed batch).
async function requests(sender: Sender, count: number, size: number, kind: 'event' | 'batch'): Promise<{ lines: string[]; ids: string[] }[]> {
  const out: { lines: string[]; ids: string[] }[] = [];
  for (let done = 0; done < count; done += size) {
    const events = nextEvents(sender, Math.min(size, count - done));
    const lines = kind === 'batch' ? signBatch(events, sender.emitter.signer) : await Promise.all(events.map((e) => sender.emitter.sign(e)));
    out.push({ lines, ids: events.map((e) => e.id) });
  }
  return out;
}

let retried = 0;
async function post(url: string, sender: Sender, lines: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: sender.emitter.authorization() },
      body: lines.join('\n'),
    });
    const body = (await response.json()) as { accepted?: unknown[]; rejected?: unknown[] };
    if (response.status === 202 && body.accepted?.length === lines.length) return;
    if ((response.status === 429 || response.status === 503) && attempt < 50) {
      retried++;
      await sleep(200);
      continue;
    }
    throw new Error(`ingest answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---- the ceilings -----------------------------------------------------------

const pool = new VerifyPool();
async function ceilings(signed: { lines: string[] }[][], senderList: Sender[]): Promise<{ one: number; workers: number }> {
  const keys = senderList.map((s) => ({ ref: s.emitter.key.kid, jwk: s.emitter.key.publicJwk as JsonWebKey, key: importPublicKey(s.emitter.key.publicJwk as JsonWebKey) }));
  const jobs: SignatureJob[] = signed.flatMap((reqs, i) => reqs.flatMap((r) => r.lines.map((compact) => ({ ...keys[i]!, alg: 'EdDSA' as const, compact }))));
  const raw = jobs.map((j) => {
    const dot = j.compact.lastIndexOf('.');
    return { data: Buffer.from(j.compact.slice(0, dot)), sig: Buffer.from(j.compact.slice(dot + 1), 'base64url'), key: j.key };
  });
  let start = performance.now();
  if (!raw.every((r) => verify(null, r.data, r.key, r.sig))) throw new Error('a bench signature does not verify');
  const one = (jobs.length / (performance.now() - start)) * 1000;
  start = performance.now();
  if (!(await pool.verify(jobs)).every(Boolean)) throw new Error('a bench signature does not verify on the workers');
  const workers = (jobs.length / (performance.now() - start)) * 1000;
  return { one, workers };
}

// ---- one mode -------------------------------------------------------------------

interface Run {
  accepted: number;
  stored: number;
  cpuUsPerEvent: number;
}

async function throughput(server: Server, senderList: Sender[], bodies: { lines: string[] }[][], extraPids: number[]): Promise<Run> {
  const count = bodies.reduce((n, reqs) => n + reqs.reduce((m, r) => m + r.lines.length, 0), 0);
  const before = await server.ask<number>('count');
  const pids = [server.child.pid!, ...extraPids];
  const cpu0 = pids.reduce((s, pid) => s + cpuSecondsOf(pid), 0);
  const start = performance.now();
  await Promise.all(senderList.map(async (sender, i) => {
    for (const r of bodies[i]!) await post(server.ingestUrl, sender, r.lines);
  }));
  const acked = performance.now();
  await until('every event stored', async () => (await server.ask<number>('count')) >= before + count, 600_000);
  const stored = performance.now();
  const cpu = pids.reduce((s, pid) => s + cpuSecondsOf(pid), 0) - cpu0;
  return { accepted: (count / (acked - start)) * 1000, stored: (count / (stored - start)) * 1000, cpuUsPerEvent: (cpu / count) * 1e6 };
}

interface Sustained {
  rate: number;
  sent: number;
  latenciesMs: number[];
  unseen: number;
  rss: { t: number; bytes: number }[];
}

// Paced load at `rate` events/s for durationS: every sender posts a request
// of `size` events on its own schedule; the first id of each request is
// looked up until a query sees it.
async function sustained(server: Server, senderList: Sender[], rate: number, size: number): Promise<Sustained> {
  const interval = (size * senderList.length * 1000) / rate;
  const pending = new Map<string, number>();
  const latenciesMs: number[] = [];
  const rss: { t: number; bytes: number }[] = [];
  const start = performance.now();
  const end = start + durationS * 1000;
  let sent = 0;
  let sending = true;
  const rssEveryMs = Math.min(5_000, Math.max(1_000, (durationS * 1000) / 12));
  const sampler = (async () => {
    while (sending) {
      rss.push({ t: (performance.now() - start) / 1000, bytes: rssOf(server.child.pid!) });
      await sleep(rssEveryMs);
    }
  })();
  const look = async () => {
    const ids = [...pending.keys()].slice(0, 2_000);
    const seen = await server.ask<string[]>('present', ids);
    const now = performance.now();
    for (const id of seen) {
      latenciesMs.push(now - pending.get(id)!);
      pending.delete(id);
    }
  };
  const poller = (async () => {
    while (sending || pending.size > 0) {
      await look();
      if (!sending && performance.now() > end + 60_000) break;
      await sleep(50);
    }
  })();
  await Promise.all(senderList.map(async (sender, i) => {
    // Spread the senders over the interval so requests do not arrive together.
    let due = start + (interval * i) / senderList.length;
    while (due < end) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const [r] = await requests(sender, size, size, 'event');
      pending.set(r!.ids[0]!, performance.now());
      await post(server.ingestUrl, sender, r!.lines);
      sent += size;
      due += interval;
    }
  }));
  sending = false;
  await sampler;
  await poller;
  rss.push({ t: (performance.now() - start) / 1000, bytes: rssOf(server.child.pid!) });
  return { rate, sent, latenciesMs, unseen: pending.size, rss };
}

async function runMode(mode: 'embedded' | 'kafka'): Promise<void> {
  const dataDir = tempDir(`actorlog-bench-e2e-${mode}-`);
  const keysFile = path.join(dataDir, 'keys', 'emitters.json');
  const kafka = mode === 'kafka' ? await startKafka() : undefined;
  const suffix = `${process.pid}-${Date.now()}`;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    INGEST_PORT: '0',
    QUERY_PORT: '0',
    PROCESSOR_PORT: '0',
    LOG_LEVEL: 'warn',
    ACTORLOG_ANALYST_TOKEN: 'bench',
    INGEST_RATE_LIMIT_EMITTER: '1000000000',
    INGEST_RATE_LIMIT_ADDRESS: '1000000000',
    ...(kafka
      ? {
          KAFKA_BROKERS: kafka.brokers,
          KAFKA_TOPIC: `actorlog.bench.${suffix}`,
          KAFKA_DLQ_TOPIC: `actorlog.bench.dlq.${suffix}`,
          KAFKA_OCSF_TOPIC: `actorlog.bench.ocsf.${suffix}`,
          KAFKA_GROUP_ID: `actorlog-bench-${suffix}`,
        }
      : {}),
  };
  // Every emitter is registered before the services start.
  const sets = await Promise.all(
    Array.from({ length: repeats * 2 + 2 }, (_, set) =>
      Promise.all(Array.from({ length: senders }, async (_, i) => ({ emitter: await registeredEmitter(keysFile, `gw:bench-${set}-${i}`), seq: 0 }) as Sender)),
    ),
  );
  const server = await startServer(env);
  const brokerPids = kafka?.pid ? [kafka.pid] : [];
  const figures = { one: [] as number[], workers: [] as number[], event: [] as Run[], batch: [] as Run[] };
  try {
    // Warm-up (and, in Kafka mode, the consumer group's first join).
    const warm = sets[repeats * 2 + 1]!;
    await throughput(server, warm, await Promise.all(warm.map((s) => requests(s, batchSize, batchSize, 'event'))), []);
    const per = Math.ceil(total / senders);
    for (let r = 0; r < repeats; r++) {
      const eventSenders = sets[r * 2]!;
      const eventBodies = await Promise.all(eventSenders.map((s) => requests(s, per, batchSize, 'event')));
      const ceiling = await ceilings(eventBodies, eventSenders);
      figures.one.push(ceiling.one);
      figures.workers.push(ceiling.workers);
      figures.event.push(await throughput(server, eventSenders, eventBodies, brokerPids));
      const batchSenders = sets[r * 2 + 1]!;
      figures.batch.push(await throughput(server, batchSenders, await Promise.all(batchSenders.map((s) => requests(s, per, batchSize, 'batch'))), brokerPids));
    }
    const pick = (runs: Run[], k: keyof Run) => runs.map((x) => x[k]);
    const cpuNote = kafka?.pid ? ' (services + broker)' : '';
    console.log(`\n== ${mode}: ${per * senders} events a run, ${senders} senders, NDJSON batches of ${batchSize}, ${repeats} repeats, ${os.availableParallelism()} cores, ${pool.size} verification workers`);
    console.log(line('ceiling: Ed25519 verify, node:crypto, cached key, 1 thread', figures.one, 'events/s'));
    console.log(line(`ceiling: the same on ${pool.size} worker threads (VerifyPool)`, figures.workers, 'events/s'));
    console.log(line('per-event signed: accepted (all answered 202)', pick(figures.event, 'accepted'), 'events/s'));
    console.log(line('per-event signed: stored (all rows in the events table)', pick(figures.event, 'stored'), 'events/s'));
    console.log(line(`per-event signed: CPU per event${cpuNote}`, pick(figures.event, 'cpuUsPerEvent'), 'us'));
    console.log(line(`ratio accepted / worker ceiling (target ${TARGET_RATIO})`, ratios(pick(figures.event, 'accepted'), figures.workers), '', 2));
    console.log(line(`ratio stored / worker ceiling (target ${TARGET_RATIO})`, ratios(pick(figures.event, 'stored'), figures.workers), '', 2));
    console.log(line('batch-signed: accepted', pick(figures.batch, 'accepted'), 'events/s'));
    console.log(line('batch-signed: stored', pick(figures.batch, 'stored'), 'events/s'));
    console.log(line(`batch-signed: CPU per event${cpuNote}`, pick(figures.batch, 'cpuUsPerEvent'), 'us'));
    console.log(line(`ratio batch-signed stored / target ${TARGET_BATCH_RATE.toLocaleString('en-US')}`, pick(figures.batch, 'stored').map((x) => x / TARGET_BATCH_RATE), '', 2));
    console.log(line('ratio batch-signed stored / per-event stored', ratios(pick(figures.batch, 'stored'), pick(figures.event, 'stored')), '', 2));

    if (durationS > 0) {
      const rate = spread(pick(figures.event, 'stored')).median / 2;
      const s = await sustained(server, sets[repeats * 2]!, rate, Math.max(10, Math.min(100, Math.round(rate / senders / 4))));
      const mb = (b: number) => b / 1024 / 1024;
      const peak = Math.max(...s.rss.map((x) => x.bytes));
      console.log(`sustained per-event load for ${durationS} s at ${Math.round(s.rate)} events/s (half the median stored maximum): ${s.sent} events sent, ${s.latenciesMs.length} timed, ${s.unseen} never seen within 60 s after the load`);
      console.log(`  ingest-to-queryable latency: p50 ${quantile(s.latenciesMs, 0.5).toFixed(0)} ms, p99 ${quantile(s.latenciesMs, 0.99).toFixed(0)} ms, max ${quantile(s.latenciesMs, 1).toFixed(0)} ms (target p99 < ${TARGET_P99_MS} ms; ratio p99 / target ${(quantile(s.latenciesMs, 0.99) / TARGET_P99_MS).toFixed(2)})`);
      console.log(`  services RSS (every ${Math.round(s.rss[1] ? s.rss[1].t - s.rss[0]!.t : 0)} s, ${s.rss.length} samples): start ${mb(s.rss[0]!.bytes).toFixed(0)} MB, peak ${mb(peak).toFixed(0)} MB, end ${mb(s.rss[s.rss.length - 1]!.bytes).toFixed(0)} MB, slope ${(mb(slope(s.rss.map((x) => x.t), s.rss.map((x) => x.bytes))) * 60).toFixed(1)} MB/min over the second half ${(mb(slope(...half(s.rss))) * 60).toFixed(1)} MB/min`);
    }
    if (retried > 0) console.log(`  (${retried} requests were answered 429/503 and sent again)`);
  } finally {
    await stopServer(server);
    kafka?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// The samples of the second half of the run: past the warm-up of caches and
// the engine's first merges, where a leak shows as a slope.
function half(rss: { t: number; bytes: number }[]): [number[], number[]] {
  const later = rss.slice(Math.floor(rss.length / 2));
  return [later.map((x) => x.t), later.map((x) => x.bytes)];
}

for (const mode of modes) {
  try {
    await runMode(mode);
  } catch (err) {
    console.log(`\n== ${mode}: not measured: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
await pool.close();
