// The SDK against the real ingest HTTP server, with a sink under the test's
// control so ingest can be made unavailable and available again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmitterClient, SendError, verifySignedEvent } from '@actorlog/sdk';
import { buildIngestServer } from '../../ingest/server.js';
import { structuralOutcome, type IngestItem, type IngestSink } from '../../ingest/sink.js';
import { ActorlogError } from '../../lib/errors.js';
import { Metrics } from '../../lib/metrics.js';
import { inspectEnvelope } from '../../schemas/envelope.js';
import { OPEN_INGEST, registeredEmitter, tempDir, toolCall } from '../helpers/fixtures.js';

async function ingestStub() {
  const received: IngestItem[] = [];
  const arrivals: number[] = [];
  const state = { down: false };
  const sink: IngestSink = {
    async accept(items) {
      arrivals.push(performance.now());
      if (state.down) throw new ActorlogError('BUS_UNAVAILABLE', 'test says down');
      received.push(...items);
      return items.map(structuralOutcome);
    },
    ready: async () => {},
    close: async () => {},
  };
  const app = buildIngestServer({ sink, metrics: new Metrics(), logLevel: 'silent', bodyLimit: 1 << 20, maxEvents: 100, eventMaxBytes: 65536, ...OPEN_INGEST });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${address.port}`, received, arrivals, state, close: () => app.close() };
}

// Polls cond every 5 ms; fails after timeoutMs instead of hanging the run.
async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
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
  // close() with ingest down says what is left instead of throwing.
  const closed = await first.close();
  assert.equal(closed.pending, 2);
  assert.equal(closed.sent, 0);
  assert.ok(closed.error instanceof SendError && closed.error.retriable);
  await assert.rejects(first.emit(toolCall()), /the emitter is closed/);

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

test('the background loop retries with doubling backoff until ingest answers', async () => {
  const ingest = await ingestStub();
  ingest.state.down = true;
  const failedAt: number[] = [];
  const withErrors = new EmitterClient({
    endpoint: ingest.endpoint,
    source: 'gw:sdk',
    privateJwk: await signingJwk(),
    stateDir: tempDir(),
    flushIntervalMs: 5,
    initialBackoffMs: 20,
    maxBackoffMs: 80,
    onSendError: () => failedAt.push(performance.now()),
  });
  await withErrors.emit(toolCall());
  await waitUntil(() => failedAt.length >= 5 && ingest.arrivals.length >= 5, 'five failed sends');
  // Each attempt reaches ingest before its failure is answered, and the
  // retry's timer is armed only once the answer is read; timers never fire
  // early, so consecutive attempts arrive at least the backoff apart: 20, 40,
  // 80, 80. (Measuring from onSendError instead counts the time the failure
  // takes to reach the callback, which a loaded machine stretches.)
  const waits = ingest.arrivals.slice(1, 5).map((t, i) => t - ingest.arrivals[i]!);
  [20, 40, 80, 80].forEach((least, i) => assert.ok(waits[i]! >= least - 2, `wait ${i + 1} was ${waits[i]!.toFixed(1)} ms, backoff ${least} ms`));
  ingest.state.down = false;
  await waitUntil(() => withErrors.pending === 0, 'the outbox to drain once ingest is back');
  assert.equal(ingest.received.length, 1);
  assert.equal((await withErrors.close()).pending, 0);
  await ingest.close();
});

test("signing: 'batch' keeps events as JSON in the outbox and signs each request once, across a restart", async () => {
  const ingest = await ingestStub();
  const stateDir = tempDir();
  const { key } = await registeredEmitter(path.join(tempDir(), 'r.json'), 'gw:sdk');
  const make = (signing: 'event' | 'batch') =>
    new EmitterClient({ endpoint: ingest.endpoint, source: 'gw:sdk', privateJwk: key.privateJwk, stateDir, signing, flushIntervalMs: 10_000, initialBackoffMs: 10, maxBackoffMs: 50 });
  ingest.state.down = true;

  const batched = make('batch');
  const ids = await Promise.all([0, 1, 2].map(() => batched.emit(toolCall())));
  // Unsigned until sent, but validated at emit as ever: what the processor would quarantine never enters the outbox.
  await assert.rejects(batched.emit({ ...toolCall(), tenant: '' }), (err: unknown) => err instanceof Error && err.name === 'ZodError' && /tenant/.test(err.message));
  assert.equal((await batched.close()).pending, 3);
  const lines = fs.readFileSync(path.join(stateDir, 'gw_sdk.outbox'), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { id: string }).id), ids, 'durable as the JSON that will be signed');

  // The next run signs per event: its first event names no prev, since the
  // one before it had no signed form yet when it was made.
  const single = make('event');
  ids.push(await single.emit(toolCall()));
  ingest.state.down = false;
  assert.equal((await single.close()).pending, 0);

  const wire = ingest.received.map((item) => item.raw.toString());
  const checks = wire.map((w) => verifySignedEvent(w, key.publicJwk));
  assert.deepEqual(checks.map((c) => (c.ok ? [c.event.id, c.event.seq, c.event.prev, c.batch?.index, c.batch?.size] : c.problem)), [
    [ids[0], 1, undefined, 0, 3],
    [ids[1], 2, undefined, 1, 3],
    [ids[2], 3, undefined, 2, 3],
    [ids[3], 4, undefined, undefined, undefined],
  ]);
  assert.equal(new Set(wire.slice(0, 3).map((w) => w.split('~')[0])).size, 1, 'one batch signature for the request');
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
  await assert.rejects(client.emit({ ...toolCall(), tenant: '' }), (err: unknown) => err instanceof Error && err.name === 'ZodError' && /tenant/.test(err.message));
  await assert.rejects(client.emit({ ...toolCall(), agent: undefined }), /requires agent/);
  await assert.rejects(client.emit({ ...toolCall(), seq: 7 } as never), /emit fills seq/);
  assert.equal(client.pending, 0);
  // Refused events use no seq: the next one is still 1.
  await client.emit(toolCall());
  await client.flush();
  assert.deepEqual(ingest.received.map(payloadOf).map((p) => p.seq), [1]);
  await client.close();
  await ingest.close();
});

test('emits made together share one outbox write, each resolving once durable, in seq order', async () => {
  const ingest = await ingestStub();
  const stateDir = tempDir();
  const client = (await emitter(ingest.endpoint, stateDir))();
  const ids = await Promise.all(Array.from({ length: 50 }, () => client.emit(toolCall())));
  const lines = fs.readFileSync(path.join(stateDir, 'gw_sdk.outbox'), 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 50);
  assert.deepEqual(lines.map((l) => JSON.parse(Buffer.from(l.split('.')[1]!, 'base64url').toString()).id), ids);
  assert.equal((fs.statSync(path.join(stateDir, 'gw_sdk.outbox')).mode & 0o777).toString(8), '600');
  const result = await client.close();
  assert.equal(result.sent, 50);
  assert.deepEqual(ingest.received.map(payloadOf).map((p) => p.seq), Array.from({ length: 50 }, (_, i) => i + 1));
  await ingest.close();
});

test('after a drained outbox and a restart, numbering continues; a torn last line is cut off', async () => {
  const ingest = await ingestStub();
  const stateDir = tempDir();
  const make = await emitter(ingest.endpoint, stateDir);
  const first = make();
  await first.emit(toolCall());
  await first.emit(toolCall());
  assert.equal((await first.close()).pending, 0);
  assert.equal(fs.readFileSync(path.join(stateDir, 'gw_sdk.outbox'), 'utf8'), '');

  // A process that died mid-write left half a line without its newline.
  fs.appendFileSync(path.join(stateDir, 'gw_sdk.outbox'), 'eyJhbGciOi');
  const second = make();
  assert.equal(second.pending, 0);
  await second.emit(toolCall());
  assert.equal((await second.close()).pending, 0);
  assert.deepEqual(ingest.received.map(payloadOf).map((p) => p.seq), [1, 2, 3]);
  // The hash chain continues from the drained outbox's last event.
  const sha = (raw: Uint8Array) => createHash('sha256').update(Buffer.from(raw).toString('utf8').trim()).digest('hex');
  assert.equal((payloadOf(ingest.received[2]!) as { prev?: string }).prev, sha(ingest.received[1]!.raw));
  await ingest.close();
});

test('settled events are not sent again after a restart, unsettled ones are', async () => {
  const ingest = await ingestStub();
  const stateDir = tempDir();
  const make = await emitter(ingest.endpoint, stateDir);
  const first = make();
  const sentId = await first.emit(toolCall());
  await first.flush();
  ingest.state.down = true;
  const keptId = await first.emit(toolCall());
  assert.equal((await first.close()).pending, 1);

  ingest.state.down = false;
  const second = make();
  assert.equal(second.pending, 1);
  assert.equal((await second.close()).sent, 1);
  assert.deepEqual(ingest.received.map(payloadOf).map((p) => p.id), [sentId, keptId]);
  await ingest.close();
});

test('an Ed25519 key signs as EdDSA by default and as Ed25519 (RFC 9864) when asked', async () => {
  const ingest = await ingestStub();
  const privateJwk = await signingJwk();
  for (const alg of [undefined, 'Ed25519'] as const) {
    const client = new EmitterClient({ endpoint: ingest.endpoint, source: 'gw:sdk', privateJwk, stateDir: tempDir(), ...(alg ? { alg } : {}) });
    await client.emit(toolCall());
    await client.close();
  }
  const headers = ingest.received.map((item) => inspectEnvelope(item.raw, 65536)).map((i) => (i.ok ? i.header.alg : i.reason));
  assert.deepEqual(headers, ['EdDSA', 'Ed25519']);
  await ingest.close();
});
