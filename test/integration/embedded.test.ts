// Embedded mode end to end: SDK -> ingest -> pipeline -> embedded ClickHouse
// -> query API, in one process, with real storage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmitterClient } from '@actorlog/sdk';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { fullEvent, registeredEmitter, tamper, tempDir, toolCall, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, post, rowsOf, testConfig } from '../helpers/services.js';

describe('embedded mode', () => {
  const dataDir = tempDir();
  let ctx: Context;
  let running: Running;
  let ingest: string;
  let query: string;
  let gateway: TestEmitter;
  let client: EmitterClient;

  before(async () => {
    const config = testConfig({ dataDir, env: { INGEST_BODY_LIMIT: String(64 * 1024), INGEST_MAX_EVENTS: '50' } });
    gateway = await registeredEmitter(config.keysFile, 'gw:embedded');
    ctx = await context(config);
    running = await startAll(ctx);
    ingest = running.ingestUrl!;
    query = running.queryUrl!;
    client = new EmitterClient({ endpoint: ingest, source: gateway.source, privateJwk: gateway.key.privateJwk, stateDir: tempDir() });
  });
  after(async () => {
    await client.close();
    await running.close();
  });

  test('events from the SDK come back from the query API attributed to the right human and agent', async () => {
    const alice = await client.emit(toolCall());
    const bob = await client.emit(
      toolCall({
        human: { sub: 'u-bob', iss: 'https://login.acme.example' },
        agent: { id: 'agent:support', runtime: { kind: 'workload', id: 'k8s:support' } },
        target: { server: { id: 'mcp:github', audience: 'https://github.mcp' }, tool: { name: 'github.create_issue', intent: 'write' } },
        decision: { outcome: 'deny', policy: { id: 'tools', version: '3' }, decided_by: 'gateway' },
        context: { session_id: 'sess-bob' },
        token: undefined,
      }),
    );
    await client.flush();

    const byHuman = await api(query, '/v1/events?human=u-bob');
    assert.equal(byHuman.status, 200);
    assert.deepEqual(byHuman.body.events.map((e: any) => e.id), [bob]);
    const row = byHuman.body.events[0];
    assert.equal(row.agent_id, 'agent:support');
    assert.equal(row.outcome, 'deny');
    assert.equal(row.source, 'gw:embedded');
    assert.match(row.time, /Z$/);

    for (const [filter, expected] of [
      ['agent=agent:research', alice],
      ['tool=github.create_issue', bob],
      ['server=mcp:crm', alice],
      ['session=sess-bob', bob],
      ['outcome=allow', alice],
      ['actor=agent:summarizer', alice],
    ] as const) {
      const { body } = await api(query, `/v1/events?${filter}`);
      assert.deepEqual(body.events.map((e: any) => e.id), [expected], filter);
    }

    // A time window: both events are inside the last minute, none before it.
    const since = new Date(Date.now() - 60_000).toISOString();
    const recent = await api(query, `/v1/events?from=${since}&to=${new Date(Date.now() + 60_000).toISOString()}&tenant=acme`);
    assert.ok([alice, bob].every((id) => recent.body.events.some((e: any) => e.id === id)));
    const old = await api(query, `/v1/events?to=${since}`);
    assert.deepEqual(old.body.events, []);

    const one = await api(query, `/v1/events/${alice}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.event.human_sub, 'u-alice');
    assert.deepEqual(one.body.event.actor_chain, ['agent:summarizer', 'agent:research']);
    assert.equal(one.body.signed.payload.id, alice);
    assert.equal(one.body.signed.jws.split('.').length, 3);
  });

  test('a tampered event is refused, quarantined with its bytes, and never stored as valid', async () => {
    const event = fullEvent(gateway.source, { human: { sub: 'u-victim', iss: 'x' } });
    const forged = tamper(await gateway.sign(event));
    const answer = await post(ingest, forged, 'application/jose');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'ALL_EVENTS_REJECTED');
    assert.equal(answer.body.rejected[0].code, 'signature_invalid');

    const stored = await rowsOf(ctx, `SELECT id FROM ${ctx.tables.events} FINAL WHERE id = {id:String}`, { id: event.id });
    assert.equal(stored.length, 0);
    const [q] = await rowsOf<any>(ctx, `SELECT * FROM ${ctx.tables.quarantine} FINAL WHERE claimed_id = {id:String}`, { id: event.id });
    assert.equal(q.reason, 'signature_invalid');
    assert.equal(Buffer.from(q.raw_base64, 'base64').toString(), forged);
    assert.equal(q.claimed_source, 'gw:embedded');

    const listed = await api(query, '/v1/quarantine?reason=signature_invalid&source=gw:embedded');
    assert.deepEqual(listed.body.quarantined.map((r: any) => [r.claimed_id, r.reason, r.stage]), [[event.id, 'signature_invalid', 'processor']]);
  });

  test('a mixed batch: valid events are stored, each bad one is named by index and quarantined', async () => {
    const good1 = fullEvent(gateway.source);
    const good2 = fullEvent(gateway.source);
    const items = [await gateway.sign(good1), 'not a jws', await gateway.sign(good2), { an: 'object' }];
    const answer = await post(ingest, JSON.stringify({ events: items }), 'application/json');
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body.accepted, [
      { index: 0, id: good1.id },
      { index: 2, id: good2.id },
    ]);
    assert.deepEqual(
      answer.body.rejected.map((r: any) => [r.index, r.code]),
      [
        [1, 'jws_malformed'],
        [3, 'jws_malformed'],
      ],
    );
    const quarantined = await rowsOf<any>(ctx, `SELECT raw_base64 FROM ${ctx.tables.quarantine} FINAL WHERE stage = 'ingest'`);
    const raws = quarantined.map((q) => Buffer.from(q.raw_base64, 'base64').toString());
    assert.ok(raws.includes('not a jws'));
    assert.ok(raws.includes('{"an":"object"}'));
  });

  test('NDJSON bodies carry one event a line', async () => {
    const events = [fullEvent(gateway.source), fullEvent(gateway.source)];
    const body = `${await gateway.sign(events[0]!)}\n\n"${await gateway.sign(events[1]!)}"\n`;
    const answer = await post(ingest, body, 'application/x-ndjson');
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body.accepted.map((a: any) => a.id), events.map((e) => e.id));
  });

  test('request-level errors: media type, size, count, empty', async () => {
    const jws = await gateway.sign(fullEvent(gateway.source));
    assert.equal((await post(ingest, jws, 'text/plain')).body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const big = await post(ingest, JSON.stringify({ events: [jws.repeat(1), 'x'.repeat(70 * 1024)] }), 'application/json');
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'BODY_TOO_LARGE');
    const many = await post(ingest, JSON.stringify({ events: Array(51).fill('x') }), 'application/json', gateway);
    assert.equal(many.body.error.code, 'TOO_MANY_EVENTS');
    assert.equal((await post(ingest, JSON.stringify({ events: [] }), 'application/json', gateway)).body.error.code, 'NO_EVENTS');
    assert.equal((await post(ingest, '{"events": "x"}', 'application/json', gateway)).body.error.code, 'BAD_REQUEST');
  });

  test('cursor pagination walks every event once, newest first', async () => {
    const session = `sess-page-${Date.now()}`;
    const base = Date.now() - 100_000;
    for (let i = 0; i < 23; i++) {
      // Two events share each timestamp, so the id must break ties.
      await client.emit(toolCall({ time: new Date(base + Math.floor(i / 2) * 1000).toISOString(), context: { session_id: session } }));
    }
    await client.flush();
    const seen: string[] = [];
    const times: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { body: { events: { id: string; time: string }[]; next_cursor: string | null } } = await api(
        query,
        `/v1/events?session=${session}&limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.events.map((e) => e.id));
      times.push(...page.body.events.map((e) => e.time));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 5);
    assert.equal(seen.length, 23);
    assert.equal(new Set(seen).size, 23);
    assert.deepEqual([...times].sort().reverse(), times);
  });

  test('the query API refuses missing or wrong tokens, bad filters and forged cursors', async () => {
    assert.equal((await api(query, '/v1/events', null)).status, 401);
    assert.equal((await api(query, '/v1/events', 'wrong')).body.error.code, 'UNAUTHORIZED');
    assert.equal((await api(query, '/v1/events?outcome=perhaps')).body.error.code, 'BAD_REQUEST');
    assert.equal((await api(query, '/v1/events?cursor=abc')).body.error.code, 'INVALID_CURSOR');
    assert.equal((await api(query, '/v1/events/nope')).status, 404);
    const injection = await api(query, `/v1/events?human=${encodeURIComponent("' OR 1=1 --")}`);
    assert.equal(injection.status, 200);
    assert.deepEqual(injection.body.events, []);
  });

  test('health, readiness and metrics', async () => {
    assert.equal((await api(ingest, '/healthz', null)).body.status, 'ok');
    assert.equal((await api(query, '/readyz', null)).body.status, 'ready');
    assert.equal((await api(ingest, '/readyz', null)).body.status, 'ready');
    const metrics = await api<string>(ingest, '/metrics', null);
    assert.match(metrics.body, /^actorlog_component_received_events_total\{component="ingest"\} \d+$/m);
    assert.match(metrics.body, /^actorlog_component_discarded_events_total\{component="processor",reason="signature_invalid"\} 1$/m);
  });

  test('stored events survive a restart on the same DATA_DIR', async () => {
    const before = await rowsOf<{ c: string }>(ctx, `SELECT count() AS c FROM ${ctx.tables.events} FINAL`);
    await client.flush();
    await running.close();
    ctx = await context(testConfig({ dataDir }));
    running = await startAll(ctx);
    query = running.queryUrl!;
    ingest = running.ingestUrl!;
    client = new EmitterClient({ endpoint: ingest, source: gateway.source, privateJwk: gateway.key.privateJwk, stateDir: tempDir() });
    const afterRestart = await rowsOf<{ c: string }>(ctx, `SELECT count() AS c FROM ${ctx.tables.events} FINAL`);
    assert.equal(afterRestart[0]!.c, before[0]!.c);
    assert.ok(Number(afterRestart[0]!.c) > 20);
  });
});
