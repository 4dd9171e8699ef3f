// The SDK's hash chain: each event names the SHA-256 of the emitter's
// previous signed event in `prev`, across restarts, like seq.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { EmitterClient, SendError } from '@actorlog/sdk';
import { registeredEmitter, tempDir, toolCall } from '../helpers/fixtures.js';

const digest = (jws: string) => createHash('sha256').update(jws).digest('hex');
const payload = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { seq: number; prev?: string };

test('prev links every event to the one before, across a restart', async () => {
  const { key } = await registeredEmitter(path.join(tempDir(), 'emitters.json'), 'gw:chain');
  const stateDir = tempDir();
  // Nothing listens there: the events stay in the outbox, where the test reads them.
  const make = () => new EmitterClient({ endpoint: 'http://127.0.0.1:9', source: 'gw:chain', privateJwk: key.privateJwk, stateDir, flushIntervalMs: 600_000, initialBackoffMs: 10, maxBackoffMs: 20 });
  const outbox = () => fs.readFileSync(path.join(stateDir, 'gw_chain.outbox'), 'utf8').split('\n').filter(Boolean);

  const first = make();
  for (let i = 0; i < 3; i++) await first.emit(toolCall());
  assert.ok((await first.close()).error instanceof SendError);
  const second = make();
  await second.emit(toolCall());
  assert.ok((await second.close()).error instanceof SendError);

  const jws = outbox();
  assert.deepEqual(jws.map((j) => payload(j).seq), [1, 2, 3, 4]);
  assert.equal(payload(jws[0]!).prev, undefined, 'the first event has no predecessor');
  for (let i = 1; i < jws.length; i++) assert.equal(payload(jws[i]!).prev, digest(jws[i - 1]!), `event ${i + 1} names event ${i}`);
});
