// Scale-out, tested: a three-node KRaft cluster on loopback (started by
// scripts/kafka-cluster.sh: replication factor 3, min.insync.replicas 2),
// ingest in Kafka mode and the processor against it, and a steady stream of
// signed events from several emitters. One broker is killed (SIGKILL) mid
// stream and started again later: ingest keeps acknowledging once the
// partitions it led have new leaders (senders retry what ingest calls
// retriable, as the SDK does), the processor keeps storing, and at the end
// every acknowledged event is stored, none twice, with no gap in any
// emitter's sequence. Then two processors in one consumer group share the
// partitions, one leaves mid-stream, and everything is still stored once.
// Prints what the failover cost: `node --test dist/test/integration/kafka-cluster.test.js`.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../../lib/kafka.js';
import { Metrics } from '../../lib/metrics.js';
import type { Config } from '../../lib/config.js';
import { startIngest, startProcessor, type Context, type Running } from '../../cli/services.js';
import { fullEvent, registeredEmitter, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { context, eventually, rowsOf, testConfig } from '../helpers/services.js';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/kafka-cluster.sh');
const run = promisify(execFile);
// Async, so the senders keep sending while a broker is killed or restarted.
const cluster = async (...args: string[]) => (await run('bash', [script, ...args], { encoding: 'utf8', timeout: 180_000 })).stdout.trim();

const EMITTERS = 6;
const EVENTS_PER_POST = 5;
const POST_EVERY_MS = 200;

interface Ack {
  firstTry: number;
  acked: number;
  attempts: number;
}

// Each emitter posts a small batch every POST_EVERY_MS and retries a batch
// ingest could not take while ingest calls the failure retriable (503
// BUS_UNAVAILABLE) or could not be reached, with a short backoff, as the SDK
// does; anything else fails the test. Sequence numbers are per emitter.
class Stream {
  readonly acks: Ack[] = [];
  readonly failures: { at: number; status: number | string }[] = [];
  readonly sent: string[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly ingestUrl: string,
    private readonly emitters: TestEmitter[],
  ) {}

  start(): void {
    this.loops = this.emitters.map((emitter) => this.loop(emitter));
  }

  private async loop(emitter: TestEmitter): Promise<void> {
    let seq = 0;
    while (!this.stopping) {
      const began = Date.now();
      const events = Array.from({ length: EVENTS_PER_POST }, () => fullEvent(emitter.source, { context: { session_id: `sess-${emitter.source}` } }));
      for (const event of events) event.seq = ++seq;
      const jws = await Promise.all(events.map((e) => emitter.sign(e)));
      await this.post(emitter, jws, events.map((e) => e.id));
      await sleep(Math.max(0, POST_EVERY_MS - (Date.now() - began)));
    }
  }

  private async post(emitter: TestEmitter, jws: string[], ids: string[]): Promise<void> {
    const firstTry = Date.now();
    const deadline = firstTry + 90_000;
    let backoff = 100;
    for (let attempts = 1; ; attempts++) {
      let status: number | string;
      try {
        const response = await fetch(`${this.ingestUrl}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: emitter.authorization() },
          body: JSON.stringify({ events: jws }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await response.json()) as { accepted?: unknown[]; rejected?: unknown[]; error?: { code: string; retriable?: boolean } };
        if (response.status === 202) {
          assert.equal(body.accepted?.length, jws.length, `ingest accepted only part of a batch: ${JSON.stringify(body)}`);
          this.acks.push({ firstTry, acked: Date.now(), attempts });
          this.sent.push(...ids);
          return;
        }
        assert.ok(response.status === 503 && body.error?.retriable === true, `ingest answered ${response.status} ${JSON.stringify(body)}`);
        status = `${response.status} ${body.error?.code}`;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        status = (err as Error).message;
      }
      this.failures.push({ at: Date.now(), status });
      if (Date.now() > deadline) throw new Error(`ingest did not take a batch within 90 s (last: ${status})`);
      await sleep(backoff);
      backoff = Math.min(1_000, backoff * 2);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const latencies = (acks: Ack[]) => {
  const ms = acks.map((a) => a.acked - a.firstTry);
  return `p50 ${percentile(ms, 50)} ms, p99 ${percentile(ms, 99)} ms, max ${Math.max(...ms)} ms (${acks.length} posts)`;
};

async function emittersFor(config: Config, name: string): Promise<TestEmitter[]> {
  const emitters: TestEmitter[] = [];
  for (let i = 0; i < EMITTERS; i++) emitters.push(await registeredEmitter(config.keysFile, `gw:${name}-${i}`));
  return emitters;
}

// What storage holds for these emitters, as queries see it (FINAL) and as
// rows (before duplicates collapse).
async function stored(ctx: Context, sources: string[]) {
  const [visible] = await rowsOf<{ rows: number; ids: number }>(ctx, `SELECT count() AS rows, uniqExact(id) AS ids FROM ${ctx.tables.events} FINAL WHERE source IN {sources:Array(String)}`, { sources });
  return visible!;
}

async function assertAllStoredOnce(t: TestContext, ctx: Context, stream: Stream, sources: string[]): Promise<void> {
  const expected = new Set(stream.sent);
  assert.equal(expected.size, stream.sent.length, 'the senders sent each id once');
  let count = 0;
  await eventually(async () => ((count = (await stored(ctx, sources)).ids) >= expected.size ? true : undefined), `${expected.size} events stored`, 90_000).catch((err: Error) => {
    throw new Error(`${err.message} (${count} stored)`);
  });
  const ids = await rowsOf<{ id: string; n: number }>(ctx, `SELECT id, count() AS n FROM ${ctx.tables.events} FINAL WHERE source IN {sources:Array(String)} GROUP BY id`, { sources });
  assert.equal(ids.length, expected.size, 'as many events stored as acknowledged');
  assert.deepEqual(ids.filter((r) => Number(r.n) !== 1), [], 'no event visible twice');
  assert.deepEqual(ids.filter((r) => !expected.has(r.id)), [], 'only acknowledged events stored');
  const [raw] = await rowsOf<{ n: number }>(ctx, `SELECT count() AS n FROM ${ctx.tables.events} WHERE source IN {sources:Array(String)}`, { sources });
  t.diagnostic(`stored ${ids.length} events once each (${Number(raw!.n) - ids.length} duplicate rows before merge)`);
  const quarantined = await rowsOf(ctx, `SELECT reason, count() AS n FROM ${ctx.tables.quarantine} WHERE claimed_source IN {sources:Array(String)} GROUP BY reason`, { sources });
  assert.deepEqual(quarantined, [], 'nothing quarantined');
  const gaps = await rowsOf(ctx, `SELECT source, gap_from, gap_to FROM ${ctx.tables.sequenceGaps} FINAL WHERE source IN {sources:Array(String)}`, { sources });
  assert.deepEqual(gaps, [], 'no emitter shows a gap in its sequence');
}

describe('a three-broker Kafka cluster', { timeout: 400_000 }, () => {
  const dir = tempDir('actorlog-cluster-');
  let brokers: string;
  let ctx: Context;

  before(async () => {
    brokers = await cluster('start', dir);
    ctx = await context(testConfig({ kafka: true, env: { KAFKA_BROKERS: brokers, KAFKA_SESSION_TIMEOUT_MS: '10000', LOG_CHECKPOINT_MS: '600000', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } }));
  });
  after(async () => {
    await cluster('stop', dir).catch(() => undefined);
    await ctx?.storage.close();
  });

  test('one broker killed mid-stream and restarted: ingest keeps acknowledging, the processor keeps storing, nothing lost or visible twice', async (t) => {
    const config = ctx.config;
    const emitters = await emittersFor(config, 'failover');
    const sources = emitters.map((e) => e.source);
    const ingest = await startIngest(ctx);
    const processor = await startProcessor(ctx);
    const stream = new Stream(ingest.ingestUrl!, emitters);
    try {
      // The topics actorlog created take the cluster's defaults.
      const admin = createKafka(config.kafka!, 'test').admin();
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: [config.kafka!.topic] });
      const described = await admin.describeConfigs({ resources: [{ type: 2, name: config.kafka!.topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
      await admin.disconnect();
      assert.deepEqual(topics[0]!.partitions.map((p) => p.replicas.length), [3, 3, 3]);
      assert.equal(described.resources[0]!.configEntries[0]!.configValue, '2');

      // Storage progress, sampled, to see whether the processor stalls.
      const samples: { at: number; ids: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push({ at: Date.now(), ids: (await stored(ctx, sources)).ids });
          await sleep(250);
        }
      })();

      stream.start();
      await sleep(10_000);
      assert.ok(stream.acks.length > 0, 'events acknowledged before the failure');
      // The broker leading partition 0 of the events topic goes, as in a crash.
      const victim = await cluster('leader', dir, config.kafka!.topic, '0');
      const killedAt = Date.now();
      await cluster('kill', dir, victim);
      const storedAtKill = (await stored(ctx, sources)).ids;
      await sleep(20_000);
      const acksWhileDown = stream.acks.filter((a) => a.acked > killedAt).length;
      const storedWhileDown = (await stored(ctx, sources)).ids - storedAtKill;
      assert.ok(acksWhileDown > 0, 'ingest acknowledged while the broker was down');
      assert.ok(storedWhileDown > 0, 'the processor stored while the broker was down');
      const restartAt = Date.now();
      await cluster('restart', dir, victim);
      const restartedAt = Date.now();
      await sleep(10_000);
      await stream.stop();
      sampling = false;
      await sampler;

      await assertAllStoredOnce(t, ctx, stream, sources);

      // What the failure cost, for docs/scale-out.md.
      const before = stream.acks.filter((a) => a.firstTry < killedAt);
      const during = stream.acks.filter((a) => a.firstTry >= killedAt && a.firstTry < restartAt);
      const afterwards = stream.acks.filter((a) => a.firstTry >= restartedAt);
      const failed = stream.failures.filter((f) => f.at >= killedAt);
      const lastFailure = failed.length > 0 ? failed[failed.length - 1]!.at - killedAt : 0;
      let stall = 0;
      for (let i = 1; i < samples.length; i++) {
        const flat = samples.findIndex((s, j) => j > i && s.ids > samples[i]!.ids);
        if (samples[i]!.at >= killedAt && samples[i]!.at < restartAt && flat > 0) stall = Math.max(stall, samples[flat]!.at - samples[i]!.at);
      }
      const report = [
        `broker ${victim} killed; ${stream.sent.length} events acknowledged over ${Math.round((Date.now() - samples[0]!.at) / 1000)} s`,
        `ingest answered 503 (retriable) ${failed.length} times, the last ${lastFailure} ms after the kill`,
        `acknowledgement latency before the kill: ${latencies(before)}`,
        `acknowledgement latency while the broker was down: ${latencies(during)}`,
        `acknowledgement latency after its restart: ${latencies(afterwards)}`,
        `longest time the stored count stood still while it was down: ${stall} ms; restart took ${restartedAt - restartAt} ms`,
        `stored while it was down: ${storedWhileDown} events`,
      ];
      for (const line of report) t.diagnostic(`failover: ${line}`);
    } finally {
      await stream.stop().catch(() => undefined);
      await ingest.close().catch(() => undefined);
      await processor.close().catch(() => undefined);
    }
  });

  test('two processors in one group share the partitions; one leaves mid-stream; everything is stored once', async (t) => {
    // Topics and group of their own; the same storage (one engine per process).
    const config = testConfig({ kafka: true, env: { KAFKA_BROKERS: brokers, KAFKA_SESSION_TIMEOUT_MS: '10000', LOG_CHECKPOINT_MS: '600000' } });
    const shared: Context = { ...ctx, config, metrics: new Metrics() };
    // The log has one appender (docs/scale-out.md): the second instance stores only.
    const a: Context = { ...shared, metrics: new Metrics() };
    const b: Context = { ...shared, metrics: new Metrics(), config: { ...config, log: { ...config.log, append: false } } };
    const emitters = await emittersFor(config, 'group');
    const sources = emitters.map((e) => e.source);
    const ingest = await startIngest(shared);
    const first = await startProcessor(a);
    let second: Running | undefined;
    const stream = new Stream(ingest.ingestUrl!, emitters);
    const accepted = (c: Context) => c.metrics.value('actorlog_component_sent_events_total', { component: 'processor' });
    try {
      stream.start();
      await sleep(3_000);
      second = await startProcessor(b);
      // Both members store a share once the group has rebalanced.
      await eventually(async () => (accepted(b) > 0 && accepted(a) > 0 ? true : undefined), 'both processors storing', 60_000);
      const aBefore = accepted(a);
      await sleep(5_000);
      // The second leaves; the first takes its partitions back.
      await second.close();
      second = undefined;
      const bStored = accepted(b);
      await eventually(async () => (accepted(a) > aBefore ? true : undefined), 'the first processor storing after the second left', 60_000);
      await sleep(5_000);
      await stream.stop();

      await assertAllStoredOnce(t, shared, stream, sources);
      // Counted once the batch is committed, a moment after its rows are visible.
      await eventually(async () => (accepted(a) + bStored >= stream.sent.length ? true : undefined), 'the counters caught up', 30_000).catch(() => undefined);
      t.diagnostic(`group: first processor stored ${accepted(a)}, second ${bStored} (redelivered: ${a.metrics.value('actorlog_component_redelivered_events_total', { component: 'processor' }) + b.metrics.value('actorlog_component_redelivered_events_total', { component: 'processor' })})`);
      assert.equal(accepted(a) + bStored, stream.sent.length, 'each event stored by exactly one processor');
      const breaks = await rowsOf(ctx, `SELECT source FROM ${ctx.tables.chainBreaks} WHERE source IN {sources:Array(String)}`, { sources });
      assert.deepEqual(breaks, [], 'no chain break from a partition changing hands');

      // The log holds what the appending processor stored, each once.
      const leaves = await rowsOf<{ event_id: string; n: number }>(ctx, `SELECT event_id, count() AS n FROM ${ctx.tables.database}.log_nodes FINAL WHERE level = 0 AND event_id IN (SELECT id FROM ${ctx.tables.events} WHERE source IN {sources:Array(String)}) GROUP BY event_id`, { sources });
      assert.deepEqual(leaves.filter((l) => Number(l.n) !== 1), [], 'no event logged twice');
      assert.ok(leaves.length >= accepted(a) && leaves.length <= stream.sent.length, `${leaves.length} leaves for ${accepted(a)} events stored by the appender`);
    } finally {
      await stream.stop().catch(() => undefined);
      await second?.close().catch(() => undefined);
      await first.close().catch(() => undefined);
      await ingest.close().catch(() => undefined);
    }
  });
});
