// Quarantine is bounded per sender and overall: past the caps a refused
// record is counted (reason, bytes, digest) instead of stored; a record longer
// than QUARANTINE_RAW_MAX_BYTES keeps its first bytes, its length and SHA-256.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startIngest, startQueryApi, type Context, type Running } from '../../cli/services.js';
import { registeredEmitter } from '../helpers/fixtures.js';
import { api, context, post, rowsOf, testConfig } from '../helpers/services.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const metric = async (base: string, line: string): Promise<number> => {
  const text = (await api(base, '/metrics', null)).body as string;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
};

interface Dropped {
  cap: string;
  cap_key: string;
  reason: string;
  records: string;
  bytes: string;
  digest: string;
}

const caps = { QUARANTINE_CAP_ROWS: '5', QUARANTINE_CAP_GLOBAL_ROWS: '8', QUARANTINE_RAW_MAX_BYTES: '1000' };

describe('quarantine caps', { timeout: 180_000 }, () => {
  let ctx: Context;
  let running: Running;
  before(async () => {
    ctx = await context(testConfig({ env: caps }));
    running = await startIngest(ctx);
  });
  after(async () => {
    await running?.close();
    await ctx?.storage.close();
  });

  test('per emitter, then overall: the rest is counted with its reason, bytes and digest; long records are truncated', async () => {
    const ingest = running.ingestUrl!;
    const a = await registeredEmitter(ctx.config.keysFile, 'gw:flood-a');
    const b = await registeredEmitter(ctx.config.keysFile, 'gw:flood-b');
    const long = 'y'.repeat(2_000);
    const fromA = [long, ...Array.from({ length: 9 }, (_, i) => `garbage-a-${i}`)];
    const answerA = await post(ingest, JSON.stringify({ events: fromA }), 'application/json', a);
    // Every refused record is still answered as refused, kept or not.
    assert.equal(answerA.status, 400);
    assert.equal(answerA.body.rejected.length, 10);
    const fromB = Array.from({ length: 5 }, (_, i) => `garbage-b-${i}`);
    assert.equal((await post(ingest, JSON.stringify({ events: fromB }), 'application/json', b)).status, 400);

    const kept = await rowsOf<{ caller: string; raw_base64: string; raw_bytes: string; raw_sha256: string; raw_truncated: number }>(
      ctx,
      `SELECT caller, raw_base64, raw_bytes, raw_sha256, raw_truncated FROM ${ctx.tables.quarantine} FINAL ORDER BY received_at, raw_base64`,
    );
    const keptBy = (caller: string) => kept.filter((r) => r.caller === caller);
    assert.equal(keptBy(a.source).length, 5, 'the emitter cap');
    assert.equal(keptBy(b.source).length, 3, 'the global cap (8) leaves b three');

    const truncated = kept.find((r) => r.raw_truncated === 1)!;
    assert.ok(truncated, 'the long record is kept truncated');
    assert.equal(Buffer.from(truncated.raw_base64, 'base64').toString(), long.slice(0, 1000));
    assert.equal(Number(truncated.raw_bytes), 2_000);
    assert.equal(truncated.raw_sha256, sha256(long));

    const dropped = await rowsOf<Dropped>(ctx, `SELECT cap, cap_key, reason, records, bytes, digest FROM ${ctx.tables.quarantineDropped} FINAL ORDER BY cap`);
    const keptA = new Set(keptBy(a.source).map((r) => Buffer.from(r.raw_base64, 'base64').toString()));
    const droppedA = fromA.filter((x) => !keptA.has(x) && x !== long);
    const keptB = new Set(keptBy(b.source).map((r) => Buffer.from(r.raw_base64, 'base64').toString()));
    const droppedB = fromB.filter((x) => !keptB.has(x));
    const digest = (items: string[]) => sha256(items.map(sha256).join(''));
    assert.deepEqual(
      dropped.map((d) => ({ ...d, records: Number(d.records), bytes: Number(d.bytes) })),
      [
        { cap: 'emitter', cap_key: a.source, reason: 'jws_malformed', records: 5, bytes: droppedA.join('').length, digest: digest(droppedA) },
        { cap: 'global', cap_key: '', reason: 'jws_malformed', records: 2, bytes: droppedB.join('').length, digest: digest(droppedB) },
      ],
    );
    assert.equal(await metric(ingest, 'actorlog_quarantine_dropped_total{stage="ingest",cap="emitter",reason="jws_malformed"}'), 5);
    assert.equal(await metric(ingest, 'actorlog_quarantine_dropped_total{stage="ingest",cap="global",reason="jws_malformed"}'), 2);
    assert.equal(await metric(ingest, 'actorlog_quarantine_truncated_total{stage="ingest"}'), 1);
    // Refused is refused, stored or counted: the stage's totals still add up.
    assert.equal(await metric(ingest, 'actorlog_component_discarded_events_total{component="ingest",reason="jws_malformed"}'), 15);

    // A platform admin reads the same counts from the query API.
    const query = await startQueryApi(ctx);
    try {
      const read = await api(query.queryUrl!, '/v1/admin/quarantine/dropped');
      assert.equal(read.status, 200);
      assert.deepEqual(
        read.body.dropped.map((d: Record<string, unknown>) => ({ cap: d.cap, cap_key: d.cap_key, records: d.records, bytes: d.bytes, digest: d.digest })).sort((x: { cap: string }, y: { cap: string }) => x.cap.localeCompare(y.cap)),
        [
          { cap: 'emitter', cap_key: a.source, records: 5, bytes: droppedA.join('').length, digest: digest(droppedA) },
          { cap: 'global', cap_key: '', records: 2, bytes: droppedB.join('').length, digest: digest(droppedB) },
        ],
      );
      assert.match(read.body.dropped[0].window_start, /^\d{4}-\d{2}-\d{2}T/);
    } finally {
      await query.close();
    }
  });

});

// Its own instance (one embedded engine per process: after the first is closed).
describe('quarantine caps without emitter authentication', { timeout: 180_000 }, () => {
  test('the sender is the client address', async () => {
    const open = await context(testConfig({ env: { ...caps, INGEST_AUTH: 'off' } }));
    const openRunning = await startIngest(open);
    try {
      const flood = Array.from({ length: 7 }, (_, i) => `anonymous-${i}`);
      assert.equal((await post(openRunning.ingestUrl!, JSON.stringify({ events: flood }), 'application/json', null)).status, 400);
      const kept = await rowsOf<{ address: string }>(open, `SELECT address FROM ${open.tables.quarantine} FINAL`);
      assert.equal(kept.length, 5);
      const [dropped] = await rowsOf<Dropped>(open, `SELECT cap, cap_key, records FROM ${open.tables.quarantineDropped} FINAL`);
      assert.equal(dropped?.cap, 'address');
      assert.equal(dropped?.cap_key, kept[0]!.address);
      assert.match(dropped.cap_key, /127\.0\.0\.1/);
      assert.equal(Number(dropped.records), 2);
    } finally {
      await openRunning.close();
      await open.storage.close();
    }
  });
});
