// Ingest never acknowledges what Kafka did not take: with its broker gone, it
// answers 503 and the SDK keeps the events for later. Uses a broker of its own
// (started by scripts/kafka.sh), since this test stops it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EmitterClient, SendError } from '@actorlog/sdk';
import { startIngest, type Context, type Running } from '../../cli/services.js';
import { fullEvent, registeredEmitter, tempDir, toolCall, type TestEmitter } from '../helpers/fixtures.js';
import { context, post, testConfig } from '../helpers/services.js';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/kafka.sh');
const kafka = (...args: string[]) => execFileSync('bash', [script, ...args], { encoding: 'utf8' }).trim();

describe('ingest during a Kafka outage', { timeout: 180_000 }, () => {
  const brokerDir = tempDir('actorlog-outage-kafka-');
  let ctx: Context;
  let ingest: Running;
  let gateway: TestEmitter;

  before(async () => {
    const brokers = kafka('start', brokerDir);
    const config = testConfig({ kafka: true, env: { KAFKA_BROKERS: brokers } });
    gateway = await registeredEmitter(config.keysFile, 'gw:outage');
    ctx = await context(config);
    ingest = await startIngest(ctx);
  });
  after(async () => {
    kafka('stop', brokerDir);
    await ingest.close().catch(() => undefined);
    await ctx.storage.close();
  });

  test('accepted while the broker is up, 503 BUS_UNAVAILABLE once it is gone, and the SDK keeps the events', async () => {
    const up = await post(ingest.ingestUrl!, await gateway.sign(fullEvent(gateway.source)), 'application/jose');
    assert.equal(up.status, 202);

    kafka('stop', brokerDir);
    const down = await post(ingest.ingestUrl!, await gateway.sign(fullEvent(gateway.source)), 'application/jose');
    assert.equal(down.status, 503);
    assert.equal(down.body.error.code, 'BUS_UNAVAILABLE');
    assert.equal(down.body.error.retriable, true);
    assert.equal(down.body.accepted, undefined);

    const client = new EmitterClient({ endpoint: ingest.ingestUrl!, source: gateway.source, privateJwk: gateway.key.privateJwk, stateDir: tempDir() });
    await client.emit(toolCall());
    const closed = await client.close();
    assert.ok(closed.error instanceof SendError && closed.error.retriable && /503/.test(closed.error.message), String(closed.error));
    assert.equal(closed.pending, 1);
    assert.equal(client.pending, 1);
  });
});
