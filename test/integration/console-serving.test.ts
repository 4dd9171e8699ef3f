// The console as the query API serves it: the built files at `/` with their
// caching and Content-Security-Policy, the application for any console path,
// and the API's own paths never swallowed by it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import openapiTS, { astToString } from 'openapi-typescript';
import { startQueryApi, type Context, type Running } from '../../cli/services.js';
import { CONSOLE_DIR } from '../../query-api/console.js';
import { context, testConfig } from '../helpers/services.js';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

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

  test('every OpenAPI operation declares its success answer', async () => {
    const doc = (await (await fetch(`${q}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string; content?: Record<string, { schema?: { type?: string; properties?: object } }> }> }>>;
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
        assert.equal(success.length, 1, `${method} ${path}: one success answer`);
        const [status, answer] = success[0]!;
        assert.notEqual(answer.description, 'Default Response', `${method} ${path} ${status} is described`);
        const content = Object.entries(answer.content ?? {});
        assert.ok(content.length > 0, `${method} ${path} ${status} has content`);
        for (const [media, { schema }] of content) {
          assert.ok(schema, `${method} ${path} ${status} ${media} has a schema`);
          if (media === 'application/json') assert.ok(schema.properties, `${method} ${path}: the JSON answer's fields are described`);
        }
      }
    }
  });

  test('a TypeScript client generated from /openapi.json type-checks a program using it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-client-'));
    const document = await (await fetch(`${q}/openapi.json`)).json();
    fs.writeFileSync(path.join(dir, 'actorlog-api.ts'), astToString(await openapiTS(document as Parameters<typeof openapiTS>[0])));
    const program = (extra: string) => `import type { paths } from './actorlog-api.js';
type Search = paths['/v1/events']['get'];
type Page = Search['responses'][200]['content']['application/json'];
type Refused = Search['responses'][401]['content']['application/json'];
type Graph = paths['/v1/sessions/{id}/graph']['get']['responses'][200]['content']['application/json'];
type Detail = paths['/v1/events/{id}']['get']['responses'][200]['content']['application/json'];

export async function page(base: string, token: string, query: NonNullable<Search['parameters']['query']>): Promise<{ ids: string[]; next: string | null; denied: number }> {
  const url = new URL('/v1/events', base);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  const response = await fetch(url, { headers: { authorization: \`Bearer \${token}\` } });
  if (!response.ok) throw new Error(((await response.json()) as Refused).error.code);
  const body = (await response.json()) as Page;
  return { ids: body.events.map((e) => e.id), next: body.next_cursor, denied: body.events.filter((e) => e.outcome === 'deny').length };
}
export const kinds = (g: Graph): ('human' | 'agent' | 'server' | 'tool')[] => g.nodes.map((n) => n.kind);
export const signedBy = (d: Detail): string => \`\${d.verified_by.emitter} \${d.verified_by.kid} \${d.event.time}\`;
${extra}
`;
    const tsc = (source: string) => {
      fs.writeFileSync(path.join(dir, 'program.ts'), source);
      return spawnSync(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', path.join(dir, 'program.ts')], { encoding: 'utf8', timeout: 120_000 });
    };
    const good = tsc(program(''));
    assert.equal(good.status, 0, good.stdout + good.stderr);
    // The types are precise: a field the answer does not have is an error.
    const bad = tsc(program('export const wrong = (p: Page) => p.events[0]?.no_such_column;'));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /no_such_column/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the console learns how to sign in, and never the token', async () => {
    const r = await fetch(`${q}/console/config.json`);
    const body = await r.text();
    assert.deepEqual(JSON.parse(body), { auth: { mode: 'token' } });
    assert.ok(!body.includes('test-analyst-token'));
  });
});
