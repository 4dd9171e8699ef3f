// Signed batches end to end in embedded mode: the SDK signs 20 events once,
// ingest takes them as NDJSON, the processor checks one signature and a path
// per event, the query API answers them, and each stored event verifies
// alone, with only the emitter's public key, through `actorlog verify`.
// A tampered event of the batch is quarantined with its reason; the rest kept.
// Then the same through the SDK's EmitterClient with `signing: 'batch'`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EmitterClient, signBatch, verifySignedEvent } from '@actorlog/sdk';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { eventSchema } from '../../schemas/event.js';
import { fullEvent, registeredEmitter, tempDir, toolCall, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, post, rowsOf, testConfig } from '../helpers/services.js';

const bin = fileURLToPath(new URL('../../../bin/actorlog.js', import.meta.url));

describe('signed batches through embedded ingest', () => {
  let ctx: Context;
  let running: Running;
  let gateway: TestEmitter;

  before(async () => {
    const config = testConfig();
    gateway = await registeredEmitter(config.keysFile, 'gw:batch');
    ctx = await context(config);
    running = await startAll(ctx);
  });
  after(() => running.close());

  test('20 events signed once: 19 stored and answered, the altered one quarantined with its reason', async () => {
    const events = Array.from({ length: 20 }, (_, i) => eventSchema.parse(fullEvent(gateway.source, { context: { session_id: 'signed-batch', request_id: `r-${i}` } })));
    const signed = signBatch(events, gateway.signer);
    const parts = signed[7]!.split('~');
    const original = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
    parts[1] = Buffer.from(JSON.stringify({ ...original, human: { sub: 'u-mallory', iss: 'https://login.acme.example' } })).toString('base64url');
    const sent = [...signed];
    sent[7] = parts.join('~');

    const answer = await post(running.ingestUrl!, `${sent.join('\n')}\n`, 'application/x-ndjson', gateway);
    assert.equal(answer.status, 202);
    assert.equal(answer.body.accepted.length, 19);
    assert.deepEqual(answer.body.rejected.map((r: any) => [r.index, r.code]), [[7, 'batch_proof_invalid']]);

    const listed = await api(running.queryUrl!, '/v1/events?session=signed-batch&limit=100');
    assert.equal(listed.status, 200);
    const expected = events.filter((_, i) => i !== 7).map((e) => e.id);
    assert.deepEqual(listed.body.events.map((e: any) => e.id).sort(), [...expected].sort());

    const [q] = await rowsOf<any>(ctx, `SELECT * FROM ${ctx.tables.quarantine} FINAL WHERE claimed_id = {id:String}`, { id: events[7]!.id });
    assert.equal(q.reason, 'batch_proof_invalid');
    assert.equal(Buffer.from(q.raw_base64, 'base64').toString(), sent[7]);
    const quarantined = await api(running.queryUrl!, '/v1/quarantine?reason=batch_proof_invalid');
    assert.deepEqual(quarantined.body.quarantined.map((r: any) => r.claimed_id), [events[7]!.id]);

    // One event, read back from the API, verifies alone outside actorlog.
    const one = await api(running.queryUrl!, `/v1/events/${events[3]!.id}`);
    assert.equal(one.body.signed.jws, signed[3]);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'event.txt'), one.body.signed.jws);
    fs.writeFileSync(path.join(dir, 'emitter.jwk'), JSON.stringify(gateway.key.publicJwk));
    const verify = (event: string) =>
      spawnSync(process.execPath, [bin, 'verify', '--event', event, '--emitter-key', path.join(dir, 'emitter.jwk')], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DATA_DIR: dir } });
    const ok = verify(path.join(dir, 'event.txt'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`event ${events[3]!.id} from gw:batch: leaf 3 of a signed batch of 20, signature valid\\nVERIFIED`));
    const bad = verify(sent[7]!);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /FAILED: leaf 7 of 20: the event and its path do not lead to the signed root/);
  });

  test("EmitterClient with signing: 'batch' signs each request once; every event comes back and verifies alone", async () => {
    const client = new EmitterClient({
      endpoint: running.ingestUrl!,
      source: gateway.source,
      privateJwk: gateway.key.privateJwk,
      stateDir: tempDir(),
      signing: 'batch',
      batchSize: 8,
      flushIntervalMs: 600_000,
    });
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => client.emit({ ...toolCall(), context: { session_id: 'client-batch', request_id: `c-${i}` } })));
    const flushed = await client.flush();
    assert.deepEqual({ sent: flushed.sent, rejected: flushed.rejected, pending: flushed.pending }, { sent: 20, rejected: [], pending: 0 });
    await client.close();

    const listed = await api(running.queryUrl!, '/v1/events?session=client-batch&limit=100');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.events.map((e: any) => e.id).sort(), [...ids].sort());
    // Three requests of at most 8 events, each signed once: 8, 8 and 4 leaves.
    const sizes = new Map<string, number>();
    for (const id of ids) {
      const one = await api(running.queryUrl!, `/v1/events/${id}`);
      const check = verifySignedEvent(one.body.signed.jws, gateway.key.publicJwk);
      assert.ok(check.ok, `event ${id}: ${check.ok ? '' : check.problem}`);
      assert.equal(check.event.id, id);
      assert.equal(check.event.prev, undefined, 'a batch-signed event starts no hash-chain link');
      assert.ok(check.batch);
      sizes.set(one.body.signed.jws.split('~')[0], check.batch.size);
      assert.deepEqual(one.body.event.flags, [], `event ${id} raised no flag (no gap, no chain break)`);
    }
    assert.deepEqual([...sizes.values()].sort(), [4, 8, 8]);

    // One of those events altered after signing: quarantined, the original kept.
    const original = (await api(running.queryUrl!, `/v1/events/${ids[5]}`)).body.signed.jws as string;
    const parts = original.split('~');
    const event = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
    const forgedId = `${ids[5]!.slice(0, -4)}beef`;
    parts[1] = Buffer.from(JSON.stringify({ ...event, id: forgedId, human: { sub: 'u-mallory', iss: 'https://login.acme.example' } })).toString('base64url');
    const answer = await post(running.ingestUrl!, parts.join('~'), 'application/jose', gateway);
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.body.rejected.map((r: any) => r.code), ['batch_proof_invalid']);
    const quarantined = await api(running.queryUrl!, '/v1/quarantine?reason=batch_proof_invalid');
    assert.ok(quarantined.body.quarantined.some((r: any) => r.claimed_id === forgedId));
    assert.equal((await api(running.queryUrl!, `/v1/events/${forgedId}`)).status, 404);
  });
});
