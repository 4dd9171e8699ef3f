// The per-batch instrumentation spec read from /metrics as a scraper reads it,
// after a known mix: valid events, tampered ones (quarantined by the
// processor), malformed ones (refused by ingest), and a batch sent again (a
// client's retry: every event already stored). For every component
// received = sent + discarded + redelivered, and the counts match what is
// really in storage. In Kafka mode the processor is `actorlog processor` run
// alone as a child process, with its own /metrics and the group's lag.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAll, startIngest, type Context, type Running } from '../../cli/services.js';
import { createKafka } from '../../lib/kafka.js';
import { readConsumerLag } from '../../processor/consumer-lag.js';
import { fullEvent, registeredEmitter, tamper, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, eventually, post, rowsOf, testConfig } from '../helpers/services.js';
import { componentTotals, parseMetrics, sumOf, type Sample } from '../helpers/metrics.js';
import { listening, LISTENING, startService, type Service } from '../helpers/processes.js';
import type { Config } from '../../lib/config.js';

const VALID = 20;
const TAMPERED = 3;
const MALFORMED = 2;
const RESENT = 5;
const LATER = 2;

interface Mix {
  first: string;
  again: string;
  valid: string[];
}

async function mixOf(emitter: TestEmitter): Promise<Mix> {
  const valid = await Promise.all(Array.from({ length: VALID + LATER }, () => emitter.sign(fullEvent(emitter.source))));
  const tampered = await Promise.all(Array.from({ length: TAMPERED }, async () => tamper(await emitter.sign(fullEvent(emitter.source)))));
  const malformed = Array.from({ length: MALFORMED }, (_, i) => `not-a-jws-${i}`);
  const first = [...valid.slice(0, VALID), ...tampered, ...malformed].join('\n');
  // Sent again after the first batch is stored, with two new events.
  const again = [...valid.slice(0, RESENT), ...valid.slice(VALID)].join('\n');
  return { first, again, valid };
}

const scrape = async (base: string): Promise<Sample[]> => parseMetrics((await api<string>(base, '/metrics', null)).body);

function assertAddsUp(samples: Sample[], component: string) {
  const t = componentTotals(samples, component);
  assert.equal(t.received, t.sent + t.discarded + t.redelivered, `${component}: received = sent + discarded + redelivered (${JSON.stringify(t)})`);
  return t;
}

const stored = async (ctx: Context) => {
  const [events] = await rowsOf<{ n: string }>(ctx, `SELECT count() AS n FROM ${ctx.tables.events} FINAL`);
  const [quarantined] = await rowsOf<{ n: string }>(ctx, `SELECT count() AS n FROM ${ctx.tables.quarantine} FINAL`);
  return { events: Number(events!.n), quarantined: Number(quarantined!.n) };
};

describe('metrics: embedded mode', { timeout: 180_000 }, () => {
  let ctx: Context;
  let running: Running;
  let emitter: TestEmitter;

  before(async () => {
    const config = testConfig();
    emitter = await registeredEmitter(config.keysFile, 'gw:metrics-embedded');
    ctx = await context(config);
    running = await startAll(ctx);
  });
  after(async () => {
    await running?.close();
  });

  test('a known mix adds up per component, and matches what is stored', async () => {
    const mix = await mixOf(emitter);
    const first = await post(running.ingestUrl!, mix.first, 'application/x-ndjson', emitter);
    assert.equal(first.status, 202);
    assert.equal(first.body.accepted.length, VALID);
    const again = await post(running.ingestUrl!, mix.again, 'application/x-ndjson', emitter);
    assert.equal(again.status, 202);
    assert.equal(again.body.accepted.length, RESENT + LATER, 'a resent event is answered as accepted');

    const samples = await scrape(running.ingestUrl!);
    const processor = assertAddsUp(samples, 'processor');
    assert.deepEqual(processor, { received: VALID + TAMPERED + MALFORMED + RESENT + LATER, sent: VALID + LATER, discarded: TAMPERED + MALFORMED, redelivered: RESENT, batches: 2 });
    assert.equal(sumOf(samples, 'actorlog_component_discarded_events_total', { component: 'processor', reason: 'signature_invalid' }), TAMPERED);
    assert.equal(sumOf(samples, 'actorlog_component_discarded_events_total', { component: 'processor', reason: 'jws_malformed' }), MALFORMED);
    // Ingest answers the processor's verdict: the resent events as accepted.
    const ingest = assertAddsUp(samples, 'ingest');
    assert.deepEqual(ingest, { received: processor.received, sent: VALID + RESENT + LATER, discarded: TAMPERED + MALFORMED, redelivered: 0, batches: 2 });
    const store = assertAddsUp(samples, 'store');
    assert.equal(store.sent, VALID + LATER + TAMPERED + MALFORMED, 'event and quarantine rows written');

    assert.deepEqual(await stored(ctx), { events: processor.sent, quarantined: processor.discarded });

    // A query answer is a batch of the query component: the rows it carried.
    const before = componentTotals(await scrape(running.queryUrl!), 'query');
    const page = await api(running.queryUrl!, '/v1/events?limit=7');
    assert.equal(page.body.events.length, 7);
    const query = assertAddsUp(await scrape(running.queryUrl!), 'query');
    assert.equal(query.sent - before.sent, 7);
    assert.equal(query.batches - before.batches, 1);
  });
});

describe('metrics: Kafka mode with `actorlog processor` alone', { timeout: 300_000 }, () => {
  let config: Config;
  let ctx: Context;
  let ingest: Running;
  let emitter: TestEmitter;
  let processor: Service | undefined;
  let closed = false;
  const processorDir = tempDir();

  before(async () => {
    config = testConfig({ kafka: true });
    emitter = await registeredEmitter(config.keysFile, 'gw:metrics-kafka');
    ctx = await context(config);
    ingest = await startIngest(ctx);
  });
  after(async () => {
    await processor?.stop();
    if (closed) return;
    await ingest?.close();
    await ctx?.storage.close();
  });

  test('the standalone processor serves the spec and the lag; a known mix adds up and matches what it stored', async () => {
    const kafka = config.kafka!;
    const mix = await mixOf(emitter);
    const first = await post(ingest.ingestUrl!, mix.first, 'application/x-ndjson', emitter);
    assert.equal(first.status, 202);
    // Onto the bus: tampered events too (the processor judges signatures).
    assert.equal(first.body.accepted.length, VALID + TAMPERED);

    // Nothing committed yet: the whole topic is the group's lag.
    const admin = createKafka(kafka, 'test').admin();
    await admin.connect();
    try {
      const lag = await eventually(async () => {
        // A group the broker has not seen yet may answer NOT_COORDINATOR for a moment (retriable).
        const partitions = await readConsumerLag(admin, kafka.groupId, kafka.topic).catch((err: { retriable?: boolean }) => {
          if (err.retriable) return undefined;
          throw err;
        });
        if (!partitions) return undefined;
        return partitions.reduce((n, p) => n + p.lag, 0) === VALID + TAMPERED + MALFORMED ? partitions : undefined;
      }, 'every message produced counted as lag');
      assert.equal(lag.length, kafka.partitions);
    } finally {
      await admin.disconnect();
    }

    processor = await startService(
      ['processor'],
      {
        ...process.env,
        DATA_DIR: processorDir,
        ACTORLOG_KEYS_FILE: config.keysFile,
        KAFKA_BROKERS: kafka.brokers.join(','),
        KAFKA_TOPIC: kafka.topic,
        KAFKA_DLQ_TOPIC: kafka.dlqTopic,
        KAFKA_GROUP_ID: kafka.groupId,
        KAFKA_OCSF_TOPIC: kafka.ocsf?.topic ?? '',
        PROCESSOR_PORT: '0',
        PROCESSOR_LAG_INTERVAL_MS: '250',
        LOG_LEVEL: 'warn',
      },
      LISTENING,
      120_000,
    );
    const url = new URL(listening(processor.output()).processor!).origin;
    assert.equal((await api(url, '/readyz', null)).status, 200);

    await eventually(async () => (componentTotals(await scrape(url), 'processor').sent === VALID ? true : undefined), 'the first batch stored', 120_000);
    const again = await post(ingest.ingestUrl!, mix.again, 'application/x-ndjson', emitter);
    assert.equal(again.status, 202);
    const total = VALID + TAMPERED + MALFORMED + RESENT + LATER;
    const samples = await eventually(async () => {
      const s = await scrape(url);
      // Counted once each batch is committed; the lag once read after that.
      const caughtUp = componentTotals(s, 'processor').received === total && sumOf(s, 'actorlog_consumer_lag_refreshed_seconds') > 0 && sumOf(s, 'actorlog_consumer_lag_messages') === 0;
      return caughtUp ? s : undefined;
    }, 'every message counted and the lag at 0', 120_000);

    const processorTotals = assertAddsUp(samples, 'processor');
    assert.deepEqual({ ...processorTotals, batches: undefined }, { received: total, sent: VALID + LATER, discarded: TAMPERED + MALFORMED, redelivered: RESENT, batches: undefined });
    assert.equal(sumOf(samples, 'actorlog_component_discarded_events_total', { component: 'processor', reason: 'signature_invalid' }), TAMPERED);
    assert.equal(sumOf(samples, 'actorlog_component_discarded_events_total', { component: 'processor', reason: 'jws_malformed' }), MALFORMED);
    assert.equal(assertAddsUp(samples, 'store').sent, VALID + LATER + TAMPERED + MALFORMED);
    const lagSeries = samples.filter((s) => s.name === 'actorlog_consumer_lag_messages');
    assert.deepEqual(lagSeries.map((s) => s.labels.partition).sort(), Array.from({ length: kafka.partitions }, (_, i) => String(i)));
    assert.ok(lagSeries.every((s) => s.labels.group === kafka.groupId && s.labels.topic === kafka.topic));

    // Ingest's own view: it refused the malformed, passed on the rest.
    const ingestTotals = assertAddsUp(parseMetrics(ctx.metrics.render()), 'ingest');
    assert.deepEqual(ingestTotals, { received: total, sent: total - MALFORMED, discarded: MALFORMED, redelivered: 0, batches: 2 });

    // What the processor stored, read from its storage once it stopped (one
    // engine folder per process: ingest's closes first).
    const stopped = await processor.stop();
    processor = undefined;
    assert.ok(stopped.clean, `the processor stopped cleanly (${JSON.stringify(stopped)})`);
    await ingest.close();
    await ctx.storage.close();
    closed = true;
    const own = await context(testConfig({ dataDir: processorDir }));
    try {
      assert.deepEqual(await stored(own), { events: processorTotals.sent, quarantined: processorTotals.discarded });
    } finally {
      await own.storage.close();
    }
  });
});
