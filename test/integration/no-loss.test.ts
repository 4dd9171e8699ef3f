// Nothing lost, nothing doubled, against the real broker and engine:
// a processor killed with SIGKILL in the middle of its work, and ClickHouse
// refusing writes for a while.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners } from 'kafkajs';
import { createKafka, ensureTopics } from '../../lib/kafka.js';
import { startProcessor } from '../../cli/services.js';
import { fullEvent, registeredEmitter, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { LISTENING, listening, startService, type Service } from '../helpers/processes.js';
import { ANALYST_TOKEN, api, context, eventually, rowsOf, testConfig } from '../helpers/services.js';
import type { Config } from '../../lib/config.js';

// Signs `count` events of one session and produces them to the events topic
// as ingest would (keyed by emitter, acks=all).
async function produce(config: Config, emitter: TestEmitter, session: string, count: number): Promise<string[]> {
  const kafka = createKafka(config.kafka!, 'test-producer', 'error');
  await ensureTopics(kafka, config.kafka!);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const messages = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const event = fullEvent(emitter.source, { context: { session_id: session } });
      ids.push(event.id);
      messages.push({ key: emitter.source, value: await emitter.sign(event), timestamp: String(Date.now()) });
    }
    await producer.send({ topic: config.kafka!.topic, acks: -1, messages });
  }
  await producer.disconnect();
  return ids;
}

describe('no loss', { timeout: 300_000 }, () => {
  test('a processor killed with SIGKILL mid-stream, then restarted, stores every event exactly once', async (t) => {
    const dataDir = tempDir();
    const config = testConfig({ kafka: true, dataDir });
    const emitter = await registeredEmitter(config.keysFile, 'gw:sigkill');
    const total = 8_000;
    const ids = await produce(config, emitter, 'sigkill', total);

    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      KAFKA_BROKERS: config.kafka!.brokers.join(','),
      KAFKA_TOPIC: config.kafka!.topic,
      KAFKA_DLQ_TOPIC: config.kafka!.dlqTopic,
      KAFKA_GROUP_ID: config.kafka!.groupId,
      INGEST_PORT: '0',
      QUERY_PORT: '0',
      LOG_LEVEL: 'error',
      ACTORLOG_ANALYST_TOKEN: ANALYST_TOKEN,
      // A short session, so the group hands the killed member's partitions to
      // its successor quickly; the services answer meanwhile.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
    const services: Service[] = [];
    t.after(() => Promise.all(services.map((s) => s.stop(5_000))));
    const start = async () => {
      const service = await startService(['start'], env, LISTENING);
      services.push(service);
      return { service, query: listening(service.output()).query_api!.replace(/\/v1\/events$/, '') };
    };
    const stored = async (query: string) => {
      const { body } = await api(query, '/v1/events?session=sigkill&limit=1');
      return body.events.length > 0;
    };
    const count = async (query: string): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { events: { id: string }[]; next_cursor: string | null } } = await api(query, `/v1/events?session=sigkill&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.body.events.map((e) => e.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      return seen;
    };

    const first = await start();
    await eventually(async () => ((await stored(first.query)) ? true : undefined), 'the first stored events', 60_000);
    first.service.child.kill('SIGKILL');
    await once(first.service.child, 'exit');

    const second = await start();
    const seen = await eventually(async () => {
      const s = await count(second.query);
      return s.length >= total ? s : undefined;
    }, `all ${total} events`, 180_000);
    assert.equal(seen.length, total, 'no event twice in a query');
    assert.deepEqual(new Set(seen), new Set(ids), 'every event, and nothing else');
    const stopped = await second.service.stop();
    assert.ok(stopped.clean, `a clean stop: ${JSON.stringify(stopped)}`);

    // With the service stopped, the table itself: one row per event even without FINAL.
    const ctx = await context(testConfig({ dataDir }));
    const [row] = await rowsOf<{ rows: string; ids: string }>(
      ctx,
      `SELECT count() AS rows, uniqExact(id) AS ids FROM ${ctx.tables.events} WHERE session_id = 'sigkill'`,
    );
    await ctx.storage.close();
    assert.equal(Number(row!.ids), total);
    assert.equal(Number(row!.rows), total);
  });

  test('while ClickHouse refuses writes the processor holds its offsets, then stores everything once it accepts them', async () => {
    const config = testConfig({ kafka: true });
    const emitter = await registeredEmitter(config.keysFile, 'gw:refusing');
    const ctx = await context(config);
    const kafka = createKafka(config.kafka!, 'test-admin', 'error');
    const committed = async () => {
      const admin = kafka.admin();
      await admin.connect();
      const [topic] = await admin.fetchOffsets({ groupId: config.kafka!.groupId, topics: [config.kafka!.topic] });
      await admin.disconnect();
      return topic!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    };

    const processor = await startProcessor(ctx);
    try {
      const warm = await produce(config, emitter, 'refusing-warm', 10);
      await eventually(async () => ((await rowsOf(ctx, `SELECT id FROM ${ctx.tables.events} WHERE session_id = 'refusing-warm'`)).length === warm.length ? true : undefined), 'warm-up events');
      // Stored rows are visible before the batch's sinks run and its offsets
      // are committed: wait for the commit itself.
      const offsetsBefore = await eventually(async () => ((await committed()) === warm.length ? warm.length : undefined), 'warm-up offsets committed');

      await ctx.storage.command({ query: `DETACH TABLE ${ctx.tables.events}` });
      const ids = await produce(config, emitter, 'refusing', 200);
      await eventually(async () => ((['processor', 'store'] as const).reduce((n, component) => n + ctx.metrics.value('actorlog_component_errors_total', { component, error_code: 'STORAGE_UNAVAILABLE', retriable: 'true' }), 0) >= 2 ? true : undefined), 'failed attempts');
      await sleep(1_000);
      assert.equal(await committed(), offsetsBefore, 'no offset committed while storage refuses writes');

      await ctx.storage.command({ query: `ATTACH TABLE ${ctx.tables.events}` });
      await eventually(async () => {
        const rows = await rowsOf<{ n: string }>(ctx, `SELECT uniqExact(id) AS n FROM ${ctx.tables.events} WHERE session_id = 'refusing'`);
        return Number(rows[0]!.n) === ids.length ? true : undefined;
      }, 'the held events', 120_000);
      const [dupes] = await rowsOf<{ n: string }>(ctx, `SELECT count() AS n FROM ${ctx.tables.events} WHERE session_id = 'refusing'`);
      assert.equal(Number(dupes!.n), ids.length, 'each stored once');
      await eventually(async () => ((await committed()) === offsetsBefore + ids.length ? true : undefined), 'offsets committed after the write');
    } finally {
      await processor.close();
      await ctx.storage.close();
    }
  });
});
