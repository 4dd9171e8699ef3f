// The SIEM stream against the real broker and engine: a processor killed
// with SIGKILL after storing a batch and before producing it to the OCSF
// topic (its SIEM cluster unreachable), then started again: every stored
// event reaches the topic at least once, keyed by its id, valid OCSF, and no
// refused record ever does.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Partitioners } from 'kafkajs';
import { createKafka, createMissingTopics, ensureTopics } from '../../lib/kafka.js';
import { startProcessor } from '../../cli/services.js';
import { validateOcsf } from '../../schemas/ocsf/validate.js';
import { fullEvent, registeredEmitter, tamper, tempDir } from '../helpers/fixtures.js';
import { startService } from '../helpers/processes.js';
import { context, eventually, rowsOf, testConfig } from '../helpers/services.js';

describe('SIEM stream', { timeout: 300_000 }, () => {
  test('killed between store and produce, the processor re-produces: every stored event on the topic, none refused', async (t) => {
    const dataDir = tempDir();
    const config = testConfig({ kafka: true, dataDir, env: { KAFKA_SESSION_TIMEOUT_MS: '6000' } });
    const kafkaConfig = config.kafka!;
    const topic = kafkaConfig.ocsf!.topic;
    const emitter = await registeredEmitter(config.keysFile, 'gw:siem');

    // 60 good events and 6 that will be refused (tampered, or not a JWS at all).
    const kafka = createKafka(kafkaConfig, 'test-producer', 'error');
    await ensureTopics(kafka, kafkaConfig);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const good: string[] = [];
    const refused: string[] = [];
    const messages = [];
    for (let i = 0; i < 66; i++) {
      const event = fullEvent(emitter.source, { context: { session_id: 'siem' } });
      const jws = await emitter.sign(event);
      if (i % 11 === 5) {
        refused.push(event.id);
        messages.push({ key: emitter.source, value: i % 2 ? tamper(jws) : `not a jws ${event.id}`, timestamp: String(Date.now()) });
      } else {
        good.push(event.id);
        messages.push({ key: emitter.source, value: jws, timestamp: String(Date.now()) });
      }
    }
    await producer.send({ topic: kafkaConfig.topic, acks: -1, messages });
    await producer.disconnect();

    // 1. A processor whose SIEM cluster is down: it stores, then holds the batch; killed there.
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      ACTORLOG_KEYS_FILE: config.keysFile,
      KAFKA_BROKERS: kafkaConfig.brokers.join(','),
      KAFKA_TOPIC: kafkaConfig.topic,
      KAFKA_DLQ_TOPIC: kafkaConfig.dlqTopic,
      KAFKA_GROUP_ID: kafkaConfig.groupId,
      KAFKA_OCSF_TOPIC: topic,
      KAFKA_OCSF_BROKERS: '127.0.0.1:9',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      PROCESSOR_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    const first = await startService(['processor'], env, /sink ocsf-stream failed/, 120_000);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    // 2. The processor again, its SIEM cluster reachable.
    const ctx = await context(config);
    const stored = await rowsOf<{ id: string }>(ctx, `SELECT id FROM ${ctx.tables.events} FINAL`);
    assert.ok(stored.length > 0, 'the killed processor had stored a batch it had not produced');
    const running = await startProcessor(ctx);
    t.after(async () => {
      await running.close();
      await ctx.storage.close();
    });

    // 3. A SIEM consumer reads the topic from the start (made here if the
    // processor has not yet: it makes it on its first batch).
    await createMissingTopics(kafka, [topic], kafkaConfig.partitions);
    const seen = new Map<string, number>();
    const problems: string[] = [];
    const consumer = createKafka(kafkaConfig, 'test-siem', 'error').consumer({ groupId: `${kafkaConfig.groupId}-siem` });
    t.after(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        const event = JSON.parse(message.value!.toString()) as { metadata?: { uid?: string } };
        if (event.metadata?.uid !== key) problems.push(`key ${key} carries ${event.metadata?.uid}`);
        const { errors } = validateOcsf(event);
        if (errors.length > 0) problems.push(`${key}: ${JSON.stringify(errors)}`);
        seen.set(key, (seen.get(key) ?? 0) + 1);
      },
    });
    await eventually(async () => (good.every((id) => seen.has(id)) ? true : undefined), `all ${good.length} stored events on the OCSF topic`, 120_000);

    const storedNow = await rowsOf<{ id: string }>(ctx, `SELECT id FROM ${ctx.tables.events} FINAL`);
    assert.deepEqual(new Set(storedNow.map((r) => r.id)), new Set(good), 'stored: exactly the good events');
    assert.deepEqual(problems, []);
    assert.deepEqual(refused.filter((id) => seen.has(id)), [], 'no refused record on the topic');
    assert.deepEqual([...seen.keys()].filter((id) => !good.includes(id)), [], 'nothing else on the topic');
  });
});
