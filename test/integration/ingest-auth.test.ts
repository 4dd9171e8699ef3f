// The intake is authenticated and bounded: only an emitter proving it holds a
// registered key may send, and only its own events; floods are rate limited
// per address and per emitter; nothing of a refused request is stored, and
// every refusal is counted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmitterClient, ingestToken, INGEST_TOKEN_TYP } from '@actorlog/sdk';
import { startIngest, startQueryApi, type Context, type Running } from '../../cli/services.js';
import { updateEmitterKeys } from '../../keys/registry.js';
import { b64url, fullEvent, registeredEmitter, tempDir, toolCall, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, post, rowsOf, testConfig } from '../helpers/services.js';

const metric = async (base: string, line: string): Promise<number> => {
  const text = (await api(base, '/metrics', null)).body as string;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
};

describe('ingest authenticates the emitter', { timeout: 180_000 }, () => {
  let ctx: Context;
  let running: Running;
  let ingest: string;
  let gateway: TestEmitter;
  let other: TestEmitter;
  const stored = async () => Number((await rowsOf<{ n: string }>(ctx, `SELECT count() AS n FROM ${ctx.tables.events}`))[0]!.n);
  const quarantined = async () => Number((await rowsOf<{ n: string }>(ctx, `SELECT count() AS n FROM ${ctx.tables.quarantine}`))[0]!.n);

  before(async () => {
    ctx = await context(testConfig());
    gateway = await registeredEmitter(ctx.config.keysFile, 'gw:auth');
    other = await registeredEmitter(ctx.config.keysFile, 'gw:auth-other');
    running = await startIngest(ctx);
    ingest = running.ingestUrl!;
  });
  after(async () => {
    await running?.close();
    await ctx?.storage.close();
  });

  test('a request without a valid emitter token is refused 401, counted, and nothing of it is stored', async () => {
    const jws = await gateway.sign(fullEvent(gateway.source));
    const now = Date.now();
    const signed = (header: Record<string, unknown>, claims: Record<string, unknown>) => {
      // A token made by hand with the gateway's real key, so only the named fault differs.
      const input = `${b64url(header)}.${b64url(claims)}`;
      const token = ingestToken(gateway.signer, gateway.source, now);
      return `Bearer ${input}.${token.split('.')[2]}`;
    };
    const iat = Math.floor(now / 1000);
    const good = { iss: gateway.source, sub: gateway.source, aud: 'actorlog-ingest', iat, exp: iat + 300 };
    const header = { alg: 'EdDSA', kid: gateway.key.kid, typ: INGEST_TOKEN_TYP };
    const cases: [string, string | null][] = [
      ['no token', null],
      ['not a JWT', 'Bearer nonsense'],
      ['an event JWS as the token', `Bearer ${jws}`],
      ['claims altered after signing', signed(header, { ...good, iss: other.source })],
      ['another emitter signed for this one', `Bearer ${ingestToken(other.signer, gateway.source)}`],
      ['expired', `Bearer ${ingestToken(gateway.signer, gateway.source, now - 3_600_000)}`],
      ['lives too long', `Bearer ${ingestToken(gateway.signer, gateway.source, now, 86_400)}`],
    ];
    const errorsBefore = await metric(ingest, 'actorlog_component_errors_total{component="ingest",error_code="UNAUTHORIZED",retriable="false"}');
    const [storedBefore, quarantinedBefore] = [await stored(), await quarantined()];
    for (const [name, authorization] of cases) {
      const response = await fetch(`${ingest}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/jose', ...(authorization ? { authorization } : {}) },
        body: jws,
      });
      const body = (await response.json()) as { error: { code: string; retriable: boolean } };
      assert.equal(response.status, 401, name);
      assert.equal(body.error.code, 'UNAUTHORIZED', name);
      assert.equal(body.error.retriable, false, name);
    }
    assert.equal(await metric(ingest, 'actorlog_component_errors_total{component="ingest",error_code="UNAUTHORIZED",retriable="false"}'), errorsBefore + cases.length);
    assert.equal(await stored(), storedBefore);
    assert.equal(await quarantined(), quarantinedBefore, 'nothing of a refused request reaches quarantine');

    const accepted = await post(ingest, jws, 'application/jose', gateway);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  });

  test("an emitter sending another emitter's events is refused 403 whole; its own garbage is quarantined", async () => {
    const [storedBefore, quarantinedBefore] = [await stored(), await quarantined()];
    const mine = await gateway.sign(fullEvent(gateway.source));
    const theirs = await other.sign(fullEvent(other.source));
    const mixed = await post(ingest, JSON.stringify({ events: [mine, theirs] }), 'application/json', gateway);
    assert.equal(mixed.status, 403);
    assert.equal(mixed.body.error.code, 'FORBIDDEN');
    assert.match(mixed.body.error.message, /event 1 claims source "gw:auth-other"/);
    assert.equal(await stored(), storedBefore);
    assert.equal(await quarantined(), quarantinedBefore);

    const garbage = await post(ingest, JSON.stringify({ events: [mine, 'not-a-jws'] }), 'application/json', gateway);
    assert.equal(garbage.status, 202);
    assert.equal(garbage.body.rejected[0].code, 'jws_malformed');
    assert.equal(await quarantined(), quarantinedBefore + 1);
  });

  test('the SDK sends its token by itself', async () => {
    const client = new EmitterClient({ endpoint: ingest, source: gateway.source, privateJwk: gateway.key.privateJwk, stateDir: tempDir() });
    const id = await client.emit(toolCall());
    const result = await client.close();
    assert.equal(result.error, undefined);
    assert.equal(result.sent, 1);
    assert.equal((await rowsOf(ctx, `SELECT id FROM ${ctx.tables.events} WHERE id = {id:String}`, { id })).length, 1);
  });

  test('a revoked key no longer opens the door', async () => {
    const emitter = await registeredEmitter(ctx.config.keysFile, 'gw:auth-revoked');
    const authorization = emitter.authorization();
    const jws = await emitter.sign(fullEvent(emitter.source));
    assert.equal((await post(ingest, jws, 'application/jose', emitter)).status, 202);
    updateEmitterKeys(ctx.config.keysFile, emitter.source, (keys) => keys.map((k) => ({ ...k, state: 'revoked', revoked_at: new Date().toISOString() })));
    const refused = await fetch(`${ingest}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/jose', authorization }, body: jws });
    assert.equal(refused.status, 401);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /revoked/);
  });
});

describe('ingest rate limits and the development switch', { timeout: 180_000 }, () => {
  // Each case on its own instance, so one bucket's spending never leaks into another's.
  async function withIngest(env: Record<string, string>, run: (ctx: Context, ingest: string) => Promise<void>): Promise<void> {
    const ctx = await context(testConfig({ env }));
    const running = await startIngest(ctx);
    try {
      await run(ctx, running.ingestUrl!);
    } finally {
      await running.close();
      await ctx.storage.close();
    }
  }

  test('per emitter: 429 with Retry-After once its bucket is spent, counted; other emitters go on', async () => {
    // 2 a minute: the burst is 2 and a token comes back every 30 s.
    await withIngest({ INGEST_RATE_LIMIT_EMITTER: '2' }, async (ctx, ingest) => {
      const a = await registeredEmitter(ctx.config.keysFile, 'gw:rate-a');
      const b = await registeredEmitter(ctx.config.keysFile, 'gw:rate-b');
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await post(ingest, await a.sign(fullEvent(a.source)), 'application/jose', a));
      assert.deepEqual(answers.map((x) => x.status), [202, 202, 429]);
      assert.equal(answers[2]!.body.error.code, 'RATE_LIMITED');
      assert.equal(answers[2]!.body.error.retriable, true);
      const limited = await fetch(`${ingest}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/jose', authorization: a.authorization() }, body: 'x' });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await post(ingest, await b.sign(fullEvent(b.source)), 'application/jose', b)).status, 202);
      assert.equal(await metric(ingest, 'actorlog_rate_limited_total{stage="ingest",by="emitter"}'), 2);
    });
  });

  test('per address: a flood without a token spends the address bucket, then 429; nothing is stored', async () => {
    await withIngest({ INGEST_RATE_LIMIT_ADDRESS: '3' }, async (ctx, ingest) => {
      const flood = [];
      for (let i = 0; i < 6; i++) flood.push((await post(ingest, 'garbage', 'application/jose', null)).status);
      assert.deepEqual(flood, [401, 401, 401, 429, 429, 429]);
      assert.equal(await metric(ingest, 'actorlog_rate_limited_total{stage="ingest",by="address"}'), 3);
      assert.equal(await metric(ingest, 'actorlog_component_errors_total{component="ingest",error_code="UNAUTHORIZED",retriable="false"}'), 3);
      assert.equal(Number((await rowsOf<{ n: string }>(ctx, `SELECT count() AS n FROM ${ctx.tables.quarantine}`))[0]!.n), 0);
    });
  });

  test('INGEST_AUTH=off (development) takes events without a token', async () => {
    await withIngest({ INGEST_AUTH: 'off' }, async (ctx, ingest) => {
      const dev = await registeredEmitter(ctx.config.keysFile, 'gw:dev');
      assert.equal((await post(ingest, await dev.sign(fullEvent(dev.source)), 'application/jose', null)).status, 202);
    });
  });

  test("the query API's rate limit covers calls without a valid token", async () => {
    const ctx = await context(testConfig({ env: { QUERY_RATE_LIMIT: '3' } }));
    const running = await startQueryApi(ctx);
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await api(running.queryUrl!, '/v1/events', i % 2 ? 'wrong' : null)).status);
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      const limited = await fetch(`${running.queryUrl}/v1/events`);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
      assert.equal(await metric(running.queryUrl!, 'actorlog_rate_limited_total{stage="query",by="address"}'), 3);
    } finally {
      await running.close();
      await ctx.storage.close();
    }
  });
});
