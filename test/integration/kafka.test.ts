// Kafka mode end to end against the real broker the test script started:
// SDK -> ingest -> Kafka -> processor (consumer group) -> ClickHouse -> query API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmitterClient } from '@actorlog/sdk';
import { createKafka } from '../../lib/kafka.js';
import { startIngest, startProcessor, startQueryApi, type Context, type Running } from '../../cli/services.js';
import { fullEvent, registeredEmitter, tamper, tempDir, toolCall, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, eventually, post, rowsOf, testConfig } from '../helpers/services.js';
import type { Config } from '../../lib/config.js';
import { componentTotals, parseMetrics, sumOf } from '../helpers/metrics.js';

describe('Kafka mode', { timeout: 180_000 }, () => {
  let config: Config;
  let ctx: Context;
  let ingest: Running;
  let processor: Running | undefined;
  let queryApi: Running;
  let gateway: TestEmitter;
  let client: EmitterClient;

  const countById = async (ids: string[]) => {
    const rows = await rowsOf<{ id: string; n: string }>(
      ctx,
      `SELECT id, count() AS n FROM ${ctx.tables.events} FINAL WHERE id IN {ids:Array(String)} GROUP BY id`,
      { ids },
    );
    return new Map(rows.map((r) => [r.id, Number(r.n)]));
  };
  const allStored = (ids: string[]) =>
    eventually(async () => ((await countById(ids)).size === ids.length ? true : undefined), `${ids.length} events stored`);

  before(async () => {
    config = testConfig({ kafka: true });
    gateway = await registeredEmitter(config.keysFile, 'gw:kafka');
    ctx = await context(config);
    ingest = await startIngest(ctx);
    processor = await startProcessor(ctx);
    queryApi = await startQueryApi(ctx);
    client = new EmitterClient({ endpoint: ingest.ingestUrl!, source: gateway.source, privateJwk: gateway.key.privateJwk, stateDir: tempDir() });
  });
  after(async () => {
    await client.close().catch(() => undefined);
    await processor?.close();
    await queryApi.close();
    await ingest.close();
    await ctx.storage.close();
  });

  test('events emitted with the SDK come back from the query API, attributed', async () => {
    const ids: string[] = [];
    const sentBefore = client.totals.sent;
    for (const human of ['u-alice', 'u-bob', 'u-carol']) {
      ids.push(await client.emit(toolCall({ human: { sub: human, iss: 'https://login.acme.example' }, context: { session_id: `s-${human}` } })));
    }
    await client.flush();
    assert.equal(client.totals.sent - sentBefore, 3);
    await allStored(ids);

    const { body } = await api(queryApi.queryUrl!, '/v1/events?human=u-bob');
    assert.equal(body.events.length, 1);
    assert.equal(body.events[0].id, ids[1]);
    assert.equal(body.events[0].agent_id, 'agent:research');
    assert.deepEqual(body.events[0].actor_chain, ['agent:summarizer', 'agent:research']);
  });

  test('a tampered event reaches quarantine and the dead-letter topic, never the events table', async () => {
    const event = fullEvent(gateway.source);
    const forged = tamper(await gateway.sign(event));
    // Structurally sound, so ingest accepts it onto the bus; the processor refuses it.
    const answer = await post(ingest.ingestUrl!, forged, 'application/jose');
    assert.equal(answer.status, 202);

    const q = await eventually(async () => {
      const rows = await rowsOf<any>(ctx, `SELECT * FROM ${ctx.tables.quarantine} FINAL WHERE claimed_id = {id:String}`, { id: event.id });
      return rows[0];
    }, 'the quarantine row');
    assert.equal(q.reason, 'signature_invalid');
    assert.equal(q.kafka_topic, config.kafka!.topic);
    assert.ok(Number(q.kafka_offset) >= 0);
    assert.equal(Buffer.from(q.raw_base64, 'base64').toString(), forged);
    assert.equal((await countById([event.id])).size, 0);

    // The dead-letter topic holds the same bytes with the reason.
    const kafka = createKafka(config.kafka!, 'test-dlq', 'error');
    const consumer = kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: config.kafka!.dlqTopic, fromBeginning: true });
    const dead = await new Promise<{ value: string; reason: string }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString() === forged) resolve({ value: message.value.toString(), reason: String(message.headers?.['actorlog-reason']) });
        },
      });
    });
    await consumer.disconnect();
    assert.equal(dead.reason, 'signature_invalid');
  });

  test('a structurally broken event is refused by ingest and still quarantined with Kafka coordinates', async () => {
    const answer = await post(ingest.ingestUrl!, JSON.stringify({ events: ['definitely.not-a.jws!'] }), 'application/json', gateway);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.rejected[0].code, 'jws_malformed');
    const q = await eventually(async () => {
      const rows = await rowsOf<any>(ctx, `SELECT * FROM ${ctx.tables.quarantine} FINAL WHERE stage = 'ingest'`);
      return rows.find((r) => Buffer.from(r.raw_base64, 'base64').toString() === 'definitely.not-a.jws!');
    }, 'the ingest quarantine row');
    assert.equal(q.reason, 'jws_malformed');
    assert.equal(q.kafka_topic, config.kafka!.topic);
  });

  test('a processor restarted between batches loses nothing and stores each event once', async () => {
    const firstBatch: string[] = [];
    for (let i = 0; i < 20; i++) firstBatch.push(await client.emit(toolCall({ context: { session_id: 'restart-1' } })));
    await client.flush();
    await allStored(firstBatch);

    await processor!.close();
    processor = undefined;
    // Accepted by ingest while no processor runs: durable in Kafka only.
    const secondBatch: string[] = [];
    // The client's own flush timer may send part of them first: count over both.
    const sentBefore = client.totals.sent;
    for (let i = 0; i < 30; i++) secondBatch.push(await client.emit(toolCall({ context: { session_id: 'restart-2' } })));
    await client.flush();
    assert.equal(client.totals.sent - sentBefore, 30);
    assert.equal((await countById(secondBatch)).size, 0, 'nothing is stored while the processor is down');

    // Restarted as `actorlog processor` runs alone: with its own /metrics.
    processor = await startProcessor(ctx, { http: true });
    await allStored(secondBatch);
    const counts = await countById([...firstBatch, ...secondBatch]);
    assert.equal(counts.size, 50);
    assert.ok([...counts.values()].every((n) => n === 1), 'every event stored exactly once');

    const { body } = await api(queryApi.queryUrl!, '/v1/events?session=restart-2&limit=100');
    assert.equal(body.events.length, 30);
  });

  test('the processor serves its per-batch counters, and received = sent + discarded + redelivered', async () => {
    assert.ok(processor?.processorUrl, 'the standalone processor listens');
    assert.equal((await api(processor.processorUrl, '/readyz', null)).status, 200);
    const samples = parseMetrics((await api<string>(processor.processorUrl, '/metrics', null)).body);
    assert.equal(sumOf(samples, 'actorlog_component_discarded_events_total', { component: 'processor', reason: 'signature_invalid' }), 1);
    const totals = componentTotals(samples, 'processor');
    assert.ok(totals.received > 0 && totals.batches > 0);
    assert.equal(totals.received, totals.sent + totals.discarded + totals.redelivered);
  });
});
