// The console as the query API serves it: the built files at `/` with their
// caching and Content-Security-Policy, the application for any console path,
// and the API's own paths never swallowed by it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startQueryApi, type Context, type Running } from '../../cli/services.js';
import { CONSOLE_DIR } from '../../query-api/console.js';
import { context, testConfig } from '../helpers/services.js';

describe('console serving', { timeout: 120_000 }, () => {
  let ctx: Context;
  let running: Running;
  let q: string;

  before(async () => {
    ctx = await context(testConfig());
    running = await startQueryApi(ctx);
    q = running.queryUrl!;
  });
  after(async () => {
    await running.close();
    await ctx.storage.close();
  });

  test('index.html at / and at any console path, revalidated, with a strict CSP', async () => {
    const index = fs.readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
    for (const p of ['/', '/search?human=u-bob&since=1h', '/sessions/sess-1', '/events/abc', '/admin/access-log']) {
      const r = await fetch(`${q}${p}`);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type')!, /^text\/html/);
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      const csp = r.headers.get('content-security-policy')!;
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(await r.text(), index);
    }
  });

  test('hashed assets are immutable, compressed when asked, and revalidate by ETag', async () => {
    const index = fs.readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    assert.ok(script, 'index.html names its script');
    const plain = await fetch(`${q}${script}`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type')!, /^text\/javascript/);
    assert.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const body = Buffer.from(await plain.arrayBuffer());
    assert.deepEqual(body, fs.readFileSync(path.join(CONSOLE_DIR, script)));
    // fetch decodes what it asked for; the header says it was compressed.
    const br = await fetch(`${q}${script}`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(br.headers.get('content-encoding'), 'br');
    assert.deepEqual(Buffer.from(await br.arrayBuffer()), body);
    const again = await fetch(`${q}${script}`, { headers: { 'if-none-match': plain.headers.get('etag')! } });
    assert.equal(again.status, 304);
  });

  test('API paths keep their answers: JSON 404s, health, metrics, OpenAPI, reference', async () => {
    for (const p of ['/v1/nothing-here', '/v1', '/assets/missing.js', '/favicon.ico']) {
      const r = await fetch(`${q}${p}`, { headers: { accept: 'text/html' } });
      assert.equal(r.status, 404, p);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'NOT_FOUND', p);
    }
    assert.equal((await fetch(`${q}/v1/events`)).status, 401);
    assert.deepEqual(await (await fetch(`${q}/healthz`)).json(), { status: 'ok' });
    assert.match(await (await fetch(`${q}/metrics`)).text(), /^#|actorlog_/m);
    const doc = (await (await fetch(`${q}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/v1/events']);
    assert.ok(!Object.keys(doc.paths).some((p) => p === '/' || p === '/*'), 'console routes are not API operations');
    assert.match(await (await fetch(`${q}/docs/`)).text(), /swagger/i);
  });

  test('every OpenAPI operation has a unique operationId and its error answers in the one error shape', async () => {
    const doc = (await (await fetch(`${q}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>;
      components: { schemas: Record<string, { properties: { error: { required: string[] } } }> };
    };
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        assert.ok(op.operationId, `${method} ${path} has an operationId`);
        ids.push(op.operationId!);
        for (const status of ['400', '401', '403', '429', '500']) assert.equal(op.responses?.[status]?.content?.['application/json']?.schema.$ref, '#/components/schemas/Error', `${method} ${path} ${status}`);
      }
    }
    assert.ok(ids.includes('getV1Events') && ids.includes('getV1SessionsIdGraphDot'), ids.join());
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.deepEqual(doc.components.schemas.Error!.properties.error.required, ['code', 'message', 'retriable']);
  });

  test('the console learns how to sign in, and never the token', async () => {
    const r = await fetch(`${q}/console/config.json`);
    const body = await r.text();
    assert.deepEqual(JSON.parse(body), { auth: { mode: 'token' } });
    assert.ok(!body.includes('test-analyst-token'));
  });
});
