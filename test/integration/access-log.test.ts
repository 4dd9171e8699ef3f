// The access log cannot be dodged: against a running query API, every answer
// (refusals by the framework included) is recorded with actorlog's own request
// id, secrets never stored, streams recorded at start and end (aborted ones
// too), tenantless refusals readable by a platform admin, and a burst followed
// by SIGTERM leaves one row per answered request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startAll, startQueryApi, type Context, type Running } from '../../cli/services.js';
import { fullEvent, registeredEmitter, tempDir } from '../helpers/fixtures.js';
import { testIdp, type TestIdp } from '../helpers/idp.js';
import { LISTENING, listening, startService } from '../helpers/processes.js';
import { ANALYST_TOKEN, context, eventually, rowsOf, testConfig } from '../helpers/services.js';

interface Answer {
  status: number;
  body: any;
  requestId: string;
}

async function call(base: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${base}${pathAndQuery}`, { headers });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: response.status, body, requestId: response.headers.get('x-request-id') ?? '' };
}

// A raw request, for URLs fetch would normalise or refuse to send.
function rawGet(base: string, rawPath: string): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: rawPath, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), requestId: String(res.headers['x-request-id'] ?? '') }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

type LogRow = { request_id: string; caller_request_id: string; phase: string; status: number; route: string; params: string; rows: number; sub: string; tenants: string[] };

describe('access log', { timeout: 180_000 }, () => {
  let ctx: Context;
  let running: Running;
  let idp: TestIdp;
  let q: string;
  let analyst: string;
  const JWT_LIKE = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJlLXNlY3JldA';

  const logRows = (requestId: string) =>
    rowsOf<LogRow>(ctx, `SELECT * FROM ${ctx.tables.accessLog} WHERE request_id = {id:String} ORDER BY phase`, { id: requestId });

  before(async () => {
    idp = await testIdp();
    ctx = await context(testConfig({ env: idp.env }));
    running = await startAll(ctx);
    q = running.queryUrl!;
    analyst = await idp.token({ sub: 'analyst-al', roles: ['analyst'], tenant: 'acme' });
  });
  after(() => running.close());

  test('request ids are actorlog’s own; the caller’s is kept apart, bounded', async () => {
    const first = await call(q, '/v1/emitters', { authorization: `Bearer ${analyst}`, 'x-request-id': 'trace-42' });
    const second = await call(q, '/v1/emitters', { authorization: `Bearer ${analyst}`, 'x-request-id': 'trace-42' });
    const long = await call(q, '/v1/emitters', { authorization: `Bearer ${analyst}`, 'x-request-id': 'x'.repeat(300) });
    for (const answer of [first, second, long]) assert.match(answer.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(first.requestId, second.requestId);
    const [a] = await logRows(first.requestId);
    const [b] = await logRows(second.requestId);
    const [c] = await logRows(long.requestId);
    assert.equal(a!.caller_request_id, 'trace-42');
    assert.equal(b!.caller_request_id, 'trace-42');
    assert.equal(c!.caller_request_id, '', 'an over-long caller id is not kept');
    assert.equal(a!.phase, 'answered');
  });

  test('tokens are never stored, wherever the caller puts them', async () => {
    const answer = await call(q, `/v1/events?access_token=${analyst}&human=u-1&client_secret=hunter2&tool=${JWT_LIKE}`, {
      authorization: `Bearer ${analyst}`,
    });
    const [row] = await logRows(answer.requestId);
    assert.ok(row, 'the call is logged');
    assert.ok(!row.params.includes(analyst) && !row.params.includes('hunter2') && !row.params.includes(JWT_LIKE), row.params);
    const params = JSON.parse(row.params);
    assert.equal(params.access_token, '[redacted]');
    assert.equal(params.client_secret, '[redacted]');
    assert.equal(params.human, 'u-1');
    // A token in an unknown path is refused as 404 and still not stored.
    const notFound = await call(q, `/v1/nothing/${analyst}?token=${analyst}`, { authorization: `Bearer ${analyst}` });
    assert.equal(notFound.status, 404);
    const [refused] = await logRows(notFound.requestId);
    assert.ok(refused);
    assert.ok(!JSON.stringify(refused).includes(analyst), JSON.stringify(refused));
  });

  test('every refusal is answered in the error shape and recorded, framework refusals included', async () => {
    const auth = { authorization: `Bearer ${analyst}` };
    const cases: [string, Answer, number, string][] = [
      ['no token', await call(q, '/v1/events'), 401, 'UNAUTHORIZED'],
      ['bad token', await call(q, '/v1/events', { authorization: 'Bearer nonsense' }), 401, 'UNAUTHORIZED'],
      ['unknown path', await call(q, '/v1/nope', auth), 404, 'NOT_FOUND'],
      ['validation', await call(q, '/v1/events?limit=0', auth), 400, 'BAD_REQUEST'],
      ['id longer than any identifier', await call(q, `/v1/events/${'a'.repeat(300)}`, auth), 400, 'BAD_REQUEST'],

      ['bad URL', await rawGet(q, '/v1/events/%E0%A4%A'), 400, 'BAD_REQUEST'],
    ];
    // A path segment beyond the router's limit: 414 in the error shape (or the
    // console's catch-all refusing an API path, 404), recorded either way.
    const huge = await call(q, `/v1/events/${'a'.repeat(2000)}`, auth);
    assert.ok(
      (huge.status === 414 && huge.body.error?.code === 'URI_TOO_LONG') || (huge.status === 404 && huge.body.error?.code === 'NOT_FOUND'),
      JSON.stringify(huge),
    );
    assert.equal((await logRows(huge.requestId)).length, 1);
    // An id of 150 characters is a valid identifier: looked up, not refused by the router.
    const mid = await call(q, `/v1/events/${'b'.repeat(150)}`, auth);
    assert.equal(mid.status, 404);
    assert.equal(mid.body.error.code, 'NOT_FOUND');
    for (const [what, answer, status, code] of cases) {
      assert.equal(answer.status, status, what);
      assert.equal(answer.body.error?.code, code, `${what}: ${JSON.stringify(answer.body)}`);
      assert.ok(answer.requestId, `${what}: has a request id`);
      const rows = await logRows(answer.requestId);
      assert.equal(rows.length, 1, `${what}: one access-log row`);
      assert.equal(rows[0]!.status, status, what);
    }

    // 429 from the rate limit.
    const limited = await startQueryApi({ ...ctx, config: { ...ctx.config, query: { ...ctx.config.query, rateLimit: 2 } } });
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await call(limited.queryUrl!, '/v1/emitters', auth));
      assert.equal(answers[2]!.status, 429);
      const [row] = await logRows(answers[2]!.requestId);
      assert.equal(row!.status, 429);
    } finally {
      await limited.close();
    }
  });

  test('refusals without a tenant are read by a platform admin, not by a tenant admin', async () => {
    const refused = await call(q, '/v1/events', { authorization: 'Bearer not-a-jwt' });
    assert.equal(refused.status, 401);
    const platform = await idp.token({ sub: 'ops', roles: ['platform_admin'] });
    const tenantAdmin = await idp.token({ sub: 'ada', roles: ['admin'], tenant: 'acme' });
    const seen = async (token: string) => {
      const answer = await call(q, '/v1/admin/access-log?limit=1000', { authorization: `Bearer ${token}` });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body.calls as { request_id: string }[]).some((c) => c.request_id === refused.requestId);
    };
    assert.equal(await seen(platform), true);
    assert.equal(await seen(tenantAdmin), false);
  });

  test('a streamed export is recorded at its start and at its end; an aborted one with the rows sent', async () => {
    const emitter = await registeredEmitter(ctx.config.keysFile, 'gw:export');
    const total = 6_000;
    for (let start = 0; start < total; start += 500) {
      const lines = await Promise.all(
        Array.from({ length: 500 }, () => emitter.sign(fullEvent('gw:export', { context: { session_id: 'sess-export' } }))),
      );
      const response = await fetch(`${running.ingestUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: emitter.authorization() }, body: lines.join('\n') });
      assert.equal(response.status, 202);
    }
    const auth = { authorization: `Bearer ${analyst}` };

    const whole = await fetch(`${q}/v1/events/export?session=sess-export&format=ndjson&from=2000-01-01T00:00:00Z`, { headers: auth });
    const text = await whole.text();
    assert.equal(text.trim().split('\n').length, total);
    const wholeId = whole.headers.get('x-request-id')!;
    const completed = await eventually(async () => {
      const rows = await logRows(wholeId);
      return rows.length === 2 ? rows : undefined;
    }, 'the end of the export logged');
    assert.deepEqual(
      completed.map((r) => [r.phase, r.status]),
      [
        ['stream_completed', 200],
        ['stream_started', 200],
      ],
    );
    assert.equal(completed[0]!.rows, total);

    const abort = new AbortController();
    const partial = await fetch(`${q}/v1/events/export?session=sess-export&format=ndjson&from=2000-01-01T00:00:00Z`, { headers: auth, signal: abort.signal });
    const partialId = partial.headers.get('x-request-id')!;
    const reader = partial.body!.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length > 0);
    abort.abort();
    const aborted = await eventually(async () => {
      const rows = await logRows(partialId);
      return rows.length === 2 ? rows : undefined;
    }, 'the aborted export logged');
    assert.deepEqual(
      aborted.map((r) => r.phase),
      ['stream_aborted', 'stream_started'],
    );
    assert.ok(aborted[0]!.rows > 0, 'the rows handed over before the abort are counted');
  });
});

describe('access log across a clean stop', { timeout: 300_000 }, () => {
  test('a burst then SIGTERM leaves one row per answered request; no token in the request log', async () => {
    const dataDir = tempDir();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      INGEST_PORT: '0',
      QUERY_PORT: '0',
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: '',
      ACTORLOG_ANALYST_TOKEN: ANALYST_TOKEN,
      // A loaded machine may take long to answer the burst; a clean stop is the point, not its speed.
      STOP_TIMEOUT_MS: '150000',
    };
    const service = await startService(['start'], env, LISTENING);
    let stopped = false;
    try {
      const q = listening(service.output()).query_api!.replace(/\/v1\/events$/, '');
      const secret = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJsZWFrIn0.c2VjcmV0LXNpZ25hdHVyZQ';
      const answered: string[] = [];
      let failed = 0;
      const one = async (i: number) => {
        const pathAndQuery = i % 3 === 0 ? `/v1/events?limit=1&access_token=${secret}` : i % 3 === 1 ? '/v1/emitters' : '/v1/nope';
        try {
          const answer = await call(q, pathAndQuery, i % 5 === 0 ? {} : { authorization: `Bearer ${ANALYST_TOKEN}` });
          answered.push(answer.requestId);
        } catch {
          failed++; // refused at the socket while stopping: never answered
        }
      };
      const burst = Array.from({ length: 200 }, (_, i) => one(i));
      // SIGTERM while the burst is in flight.
      await eventually(async () => (answered.length >= 30 ? true : undefined), 'the first answers', 30_000);
      const stopping = service.stop(160_000);
      await Promise.all(burst);
      const how = await stopping;
      stopped = true;
      assert.ok(how.clean, `a clean stop: ${JSON.stringify(how)}\n${service.output().slice(-2000)}`);
      assert.ok(answered.length >= 30);
      assert.equal(answered.length + failed, 200);
      assert.ok(!service.output().includes(secret), 'the request log never carries a token');

      const ctx = await context(testConfig({ dataDir }));
      try {
        const rows = await rowsOf<{ request_id: string; n: number }>(
          ctx,
          `SELECT request_id, count() AS n FROM ${ctx.tables.accessLog} WHERE request_id IN {ids:Array(String)} GROUP BY request_id`,
          { ids: answered },
        );
        const counts = new Map(rows.map((r) => [r.request_id, Number(r.n)]));
        const missing = answered.filter((id) => counts.get(id) !== 1);
        assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered requests without exactly one row`);
        const stored = await rowsOf<{ params: string }>(ctx, `SELECT params FROM ${ctx.tables.accessLog}`);
        assert.ok(stored.every((r) => !r.params.includes(secret)));
      } finally {
        await ctx.storage.close();
      }
    } finally {
      if (!stopped) await service.stop(5_000);
    }
  });
});
