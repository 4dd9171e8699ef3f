// The SDK against the real ingest HTTP server, with a sink under the test's
// control so ingest can be made unavailable and available again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EmitterClient, SendError } from '@actorlog/sdk';
import { buildIngestServer } from '../../ingest/server.js';
import { structuralOutcome, type IngestItem, type IngestSink } from '../../ingest/sink.js';
import { ActorlogError } from '../../lib/errors.js';
import { Metrics } from '../../lib/metrics.js';
import { inspectEnvelope } from '../../schemas/envelope.js';
import { registeredEmitter, tempDir, toolCall } from '../helpers/fixtures.js';

async function ingestStub() {
  const received: IngestItem[] = [];
  const state = { down: false };
  const sink: IngestSink = {
    async accept(items) {
      if (state.down) throw new ActorlogError('BUS_UNAVAILABLE', 'test says down');
      received.push(...items);
      return items.map(structuralOutcome);
    },
    ready: async () => {},
    close: async () => {},
  };
  const app = buildIngestServer({ sink, metrics: new Metrics(), logLevel: 'silent', bodyLimit: 1 << 20, maxEvents: 100, eventMaxBytes: 65536 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${address.port}`, received, state, close: () => app.close() };
}

const signingJwk = async () => (await registeredEmitter(path.join(tempDir(), 'r.json'), 'gw:sdk')).key.privateJwk;

async function emitter(endpoint: string, stateDir: string) {
  const privateJwk = await signingJwk();
  return () =>
    new EmitterClient({ endpoint, source: 'gw:sdk', privateJwk, stateDir, flushIntervalMs: 10_000, initialBackoffMs: 10, maxBackoffMs: 50 });
}

const payloadOf = (item: IngestItem) => {
  const inspection = inspectEnvelope(item.raw, 65536);
  assert.ok(inspection.ok);
  return inspection.payload as { id: string; seq: number; source: string; time: string; specversion: string };
};

test('emit fills the envelope, signs, and a flush delivers in seq order', async () => {
  const ingest = await ingestStub();
  const client = (await emitter(ingest.endpoint, tempDir()))();
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await client.emit(toolCall()));
  const result = await client.flush();
  assert.equal(result.sent, 5);
  assert.equal(result.pending, 0);
  const payloads = ingest.received.map(payloadOf);
  assert.deepEqual(payloads.map((p) => p.id), ids);
  assert.deepEqual(payloads.map((p) => p.seq), [1, 2, 3, 4, 5]);
  assert.ok(payloads.every((p) => p.source === 'gw:sdk' && p.specversion === '1.0'));
  assert.match(ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  await client.close();
  await ingest.close();
});

test('while ingest is down events stay in the outbox, survive a restart, and go out once it is back', async () => {
  const ingest = await ingestStub();
  const stateDir = tempDir();
  const make = await emitter(ingest.endpoint, stateDir);
  ingest.state.down = true;

  const first = make();
  const id1 = await first.emit(toolCall());
  const id2 = await first.emit(toolCall());
  await assert.rejects(first.flush(), (err: unknown) => err instanceof SendError && err.retriable);
  assert.equal(first.pending, 2);
  await assert.rejects(first.close());

  // A new process with the same state folder: the outbox and the numbering carry over.
  const second = make();
  assert.equal(second.pending, 2);
  const id3 = await second.emit(toolCall());
  ingest.state.down = false;
  const result = await second.close();
  assert.equal(result.pending, 0);
  const payloads = ingest.received.map(payloadOf);
  assert.deepEqual(payloads.map((p) => p.id), [id1, id2, id3]);
  assert.deepEqual(payloads.map((p) => p.seq), [1, 2, 3]);
  await ingest.close();
});

test('the background loop retries with backoff until ingest answers', async () => {
  const ingest = await ingestStub();
  ingest.state.down = true;
  const errors: Error[] = [];
  const withErrors = new EmitterClient({
    endpoint: ingest.endpoint,
    source: 'gw:sdk',
    privateJwk: await signingJwk(),
    stateDir: tempDir(),
    flushIntervalMs: 5,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    onSendError: (err) => errors.push(err),
  });
  await withErrors.emit(toolCall());
  while (errors.length < 2) await new Promise((r) => setTimeout(r, 5));
  ingest.state.down = false;
  while (withErrors.pending > 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(ingest.received.length, 1);
  await withErrors.close();
  await ingest.close();
});

test('an event ingest refuses is reported, not retried forever, and not silently dropped', async () => {
  const ingest = await ingestStub();
  const stateDir = tempDir();
  // An outbox line a previous run left that ingest can never accept.
  fs.writeFileSync(path.join(stateDir, 'gw_sdk.outbox'), 'not-a-jws\n', { mode: 0o600 });
  const rejections: string[] = [];
  const client = new EmitterClient({
    endpoint: ingest.endpoint,
    source: 'gw:sdk',
    privateJwk: await signingJwk(),
    stateDir,
    onRejected: (r) => rejections.push(r.code),
  });
  const result = await client.close();
  assert.deepEqual(rejections, ['jws_malformed']);
  assert.equal(result.rejected.length, 1);
  assert.equal(client.pending, 0);
  await ingest.close();
});

test('the SDK refuses an event that is not valid before signing it', async () => {
  const ingest = await ingestStub();
  const client = (await emitter(ingest.endpoint, tempDir()))();
  await assert.rejects(client.emit({ ...toolCall(), tenant: '' }));
  await assert.rejects(client.emit({ ...toolCall(), agent: undefined }), /requires agent/);
  assert.equal(client.pending, 0);
  await client.close();
  await ingest.close();
});
