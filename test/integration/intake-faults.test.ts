// Smaller faults of the intake and the query API, each against a running
// instance: a valid batch dated across more than 100 months is stored, not
// refused as "retriable" for ever; an auditor's read whose access-log row
// cannot be written is answered 503 without the data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { fullEvent, registeredEmitter, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, post, rowsOf, testConfig } from '../helpers/services.js';
import { select, withReadTimeout } from '../../store/client.js';
import { ActorlogError } from '../../lib/errors.js';

describe('intake and query faults', { timeout: 180_000 }, () => {
  let ctx: Context;
  let running: Running;
  let gateway: TestEmitter;

  before(async () => {
    ctx = await context(testConfig());
    gateway = await registeredEmitter(ctx.config.keysFile, 'gw:faults');
    running = await startAll(ctx);
  });
  after(async () => {
    await running?.close();
  });

  test('a valid batch dated across 130 months is stored whole (the engine takes 100 partitions an insert)', async () => {
    const events = Array.from({ length: 130 }, (_, i) => fullEvent(gateway.source, { context: { session_id: 'sess-months' } }));
    events.forEach((e, i) => (e.time = new Date(Date.UTC(2010, i, 15, 12)).toISOString()));
    const answer = await post(running.ingestUrl!, JSON.stringify({ events: await Promise.all(events.map((e) => gateway.sign(e))) }), 'application/json');
    assert.equal(answer.status, 202, JSON.stringify(answer.body).slice(0, 300));
    assert.equal(answer.body.accepted.length, 130);
    const [{ n, months }] = await rowsOf<{ n: string; months: string }>(
      ctx,
      `SELECT count() AS n, uniqExact(toYYYYMM(time)) AS months FROM ${ctx.tables.events} FINAL WHERE session_id = 'sess-months'`,
    ) as [{ n: string; months: string }];
    assert.equal(Number(n), 130);
    assert.equal(Number(months), 130);
  });

  test('a read longer than QUERY_TIMEOUT_MS is stopped by the engine and answered as QUERY_TIMEOUT, not retriable', async () => {
    const started = Date.now();
    await assert.rejects(select(withReadTimeout(ctx.storage, 1000), 'SELECT sleepEachRow(0.25) FROM numbers(40) SETTINGS max_block_size = 1'), (err: unknown) => {
      assert.ok(err instanceof ActorlogError);
      assert.equal(err.code, 'QUERY_TIMEOUT');
      assert.equal(err.statusCode, 504);
      assert.equal(err.retriable, false);
      return true;
    });
    assert.ok(Date.now() - started < 8_000, 'stopped near the limit, not after 10 s');
  });

  test('an access-log row that cannot be written: 503 in the error shape, no data, counted', async () => {
    const q = running.queryUrl!;
    const metric = async () => {
      const text = (await api(q, '/metrics', null)).body as string;
      return Number(/^actorlog_component_errors_total\{component="query",error_code="STORAGE_UNAVAILABLE",retriable="true"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    assert.equal((await api(q, '/v1/events?session=sess-months&limit=5')).status, 200);
    const before = await metric();
    await ctx.storage.command({ query: `DETACH TABLE ${ctx.tables.accessLog}` });
    try {
      const answer = await api(q, '/v1/events?session=sess-months&limit=5');
      assert.equal(answer.status, 503);
      assert.deepEqual(Object.keys(answer.body), ['error']);
      assert.equal(answer.body.error.code, 'STORAGE_UNAVAILABLE');
      assert.equal(answer.body.error.retriable, true);
      const exported = await fetch(`${q}/v1/events/export?session=sess-months&format=ndjson&from=2000-01-01T00:00:00Z`, { headers: { authorization: 'Bearer test-analyst-token' } });
      assert.equal(exported.status, 503);
      assert.doesNotMatch(await exported.text(), /sess-months/, 'no exported row leaves without its record');
      assert.equal(await metric(), before + 2);
    } finally {
      await ctx.storage.command({ query: `ATTACH TABLE ${ctx.tables.accessLog}` });
    }
    assert.equal((await api(q, '/v1/events?session=sess-months&limit=5')).status, 200);
  });
});
