// Bounded report and export work through the real query API: definitions
// limited per tenant and in how often they run; changed, paused, resumed and
// deleted (a delete recorded with who and when, runs and files kept), each
// answer in the access log; exports and report runs bounded per tenant and in
// all (429 and 503 in the error shape, counted in /metrics).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { runDemo } from '../../cli/demo.js';
import { ReportService } from '../../reports/service.js';
import { loadReportKey } from '../../reports/signing.js';
import { createLogger } from '../../lib/logger.js';
import { testIdp, type TestIdp } from '../helpers/idp.js';
import { callApi, context, eventually, rowsOf, testConfig } from '../helpers/services.js';
import { generateEvents } from '../helpers/generated-events.js';
import type { Config } from '../../lib/config.js';

describe('report definitions and export bounds', { timeout: 300_000 }, () => {
  let config: Config;
  let ctx: Context;
  let running: Running;
  let idp: TestIdp;
  let q: string;
  let officer: string;

  const call = (method: string, p: string, body?: unknown, token = officer) => callApi(q, method, p, token, body);
  const define = (extra: Record<string, unknown> = {}, token = officer) =>
    call('POST', '/v1/reports', { name: 'weekly denials', kind: 'denied_actions', tenant: 'acme', period: 'P7D', schedule: '0 6 * * 1', format: 'csv', ...extra }, token);
  const logged = async (requestId: string) => {
    const rows = await rowsOf<{ sub: string; method: string; route: string; status: number }>(
      ctx,
      `SELECT sub, method, route, status FROM ${ctx.tables.accessLog} WHERE request_id = {id:String}`,
      { id: requestId },
    );
    assert.equal(rows.length, 1, `one access-log row for ${requestId}`);
    return rows[0]!;
  };

  before(async () => {
    idp = await testIdp();
    // Defaults but for the small bounds a test can reach.
    config = testConfig({ env: { ...idp.env, REPORT_MAX_DEFINITIONS: '3', EXPORT_CONCURRENCY_PER_TENANT: '1', EXPORT_CONCURRENCY_TOTAL: '2' } });
    ctx = await context(config);
    running = await startAll(ctx);
    q = running.queryUrl!;
    await runDemo({ endpoint: running.ingestUrl!, dataDir: config.dataDir, registryFile: config.keysFile });
    officer = await idp.token({ sub: 'officer-olga', roles: ['compliance'], tenant: 'acme' });
  });
  after(async () => {
    await running.close();
  });

  test('a schedule may not run more often than REPORT_MIN_INTERVAL_MINUTES (60 by default)', async () => {
    const every5 = await define({ schedule: '*/5 * * * *' });
    assert.equal(every5.status, 400);
    assert.equal(every5.body.error.code, 'BAD_REQUEST');
    assert.match(every5.body.error.message, /runs 5 minutes apart; the shortest allowed is 60 \(REPORT_MIN_INTERVAL_MINUTES\)/);
    assert.equal((await define({ schedule: '0 * * * *' })).status, 201, 'hourly is allowed');
    const created = (await call('GET', '/v1/reports')).body.reports[0];
    const patched = await call('PATCH', `/v1/reports/${created.id}`, { schedule: '*/30 * * * *' });
    assert.equal(patched.status, 400);
    assert.match(patched.body.error.message, /runs 30 minutes apart/);
    assert.equal((await call('DELETE', `/v1/reports/${created.id}`)).status, 200);
  });

  test('at most REPORT_MAX_DEFINITIONS per tenant (409), counted without the deleted ones', async () => {
    const globex = await idp.token({ sub: 'gus', roles: ['compliance'], tenant: 'globex' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await define({ name: `g${i}`, tenant: 'globex' }, globex)).body.id);
    const fourth = await define({ name: 'g3', tenant: 'globex' }, globex);
    assert.equal(fourth.status, 409);
    assert.deepEqual(Object.keys(fourth.body), ['error']);
    assert.equal(fourth.body.error.code, 'TOO_MANY_DEFINITIONS');
    assert.match(fourth.body.error.message, /tenant globex has 3 \(REPORT_MAX_DEFINITIONS\)/);
    assert.equal((await call('DELETE', `/v1/reports/${ids[0]}`, undefined, globex)).status, 200);
    assert.equal((await define({ name: 'g3', tenant: 'globex' }, globex)).status, 201, 'a deleted definition frees its place');
  });

  test('change, pause, resume, delete: tenant-confined, versioned, access-logged; runs and files outlive the definition', async () => {
    const created = await define({ name: 'to change' });
    assert.equal(created.status, 201);
    const id = created.body.id;
    assert.deepEqual([created.body.paused, created.body.updated_by, created.body.updated_at], [false, null, null]);

    // Another tenant's officer cannot see, change or delete it.
    const globex = await idp.token({ sub: 'gus', roles: ['compliance'], tenant: 'globex' });
    for (const [method, p, body] of [
      ['PATCH', `/v1/reports/${id}`, { name: 'x' }],
      ['POST', `/v1/reports/${id}/pause`, undefined],
      ['DELETE', `/v1/reports/${id}`, undefined],
    ] as const) {
      const refused = await call(method, p, body, globex);
      assert.equal(refused.status, 404, `${method} ${p}`);
      assert.equal(refused.body.error.code, 'NOT_FOUND');
    }
    const analyst = await idp.token({ sub: 'ann', roles: ['analyst'], tenant: 'acme' });
    assert.equal((await call('DELETE', `/v1/reports/${id}`, undefined, analyst)).status, 403);

    // Change: checked as a whole; tenant and kind cannot change.
    assert.equal((await call('PATCH', `/v1/reports/${id}`, { tenant: 'globex' })).status, 400);
    assert.equal((await call('PATCH', `/v1/reports/${id}`, { kind: 'saved_search' })).status, 400);
    assert.equal((await call('PATCH', `/v1/reports/${id}`, {})).status, 400);
    const wrongFormat = await call('PATCH', `/v1/reports/${id}`, { format: 'ocsf' });
    assert.equal(wrongFormat.status, 400);
    assert.match(wrongFormat.body.error.message, /only a saved_search report has them/);
    const changed = await call('PATCH', `/v1/reports/${id}`, { name: 'changed', period: 'P1D', format: 'ndjson' });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual([changed.body.name, changed.body.period, changed.body.format, changed.body.updated_by], ['changed', 'P1D', 'ndjson', 'officer-olga']);
    assert.deepEqual(await logged(changed.requestId), { sub: 'officer-olga', method: 'PATCH', route: '/v1/reports/:id', status: 200 });
    const listed = (await call('GET', '/v1/reports')).body.reports.find((r: any) => r.id === id);
    assert.deepEqual([listed.name, listed.format, listed.created_by], ['changed', 'ndjson', 'officer-olga']);

    // Paused: not run on schedule (a second instance two days on), still run now; resumed: runs on schedule again.
    const paused = await call('POST', `/v1/reports/${id}/pause`);
    assert.equal(paused.body.paused, true);
    assert.equal((await logged(paused.requestId)).route, '/v1/reports/:id/pause');
    const scheduler = new ReportService({ ...ctx, key: await loadReportKey(config.reports.signingKeyFile), logger: createLogger('test', 'silent'), claimSettleMs: 10 });
    const later = Date.now() + 9 * 86_400_000;
    const ranPaused = await scheduler.runDue(later);
    const runsOf = async () => (await call('GET', `/v1/reports/${id}/runs`)).body.runs as any[];
    assert.ok(!(await runsOf()).some((r) => r.trigger === 'schedule'), `a paused definition ran on schedule: ${ranPaused}`);
    const ranNow = await call('POST', `/v1/reports/${id}/run`);
    assert.equal(ranNow.status, 201);
    const resumed = await call('POST', `/v1/reports/${id}/resume`);
    assert.equal(resumed.body.paused, false);
    await scheduler.runDue(later);
    assert.ok((await runsOf()).some((r) => r.trigger === 'schedule'), 'resumed, it runs on schedule');

    // Deleted: no longer listed, run or changed; who and when kept; runs, files and manifests stay.
    const deleted = await call('DELETE', `/v1/reports/${id}`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.deleted.by, 'officer-olga');
    assert.ok(Math.abs(Date.parse(deleted.body.deleted.at) - Date.now()) < 60_000);
    assert.deepEqual(await logged(deleted.requestId), { sub: 'officer-olga', method: 'DELETE', route: '/v1/reports/:id', status: 200 });
    assert.ok(!(await call('GET', '/v1/reports')).body.reports.some((r: any) => r.id === id));
    const withDeleted = (await call('GET', '/v1/reports?deleted=true')).body.reports.find((r: any) => r.id === id);
    assert.deepEqual(withDeleted.deleted, deleted.body.deleted);
    assert.equal((await call('POST', `/v1/reports/${id}/run`)).status, 404);
    assert.equal((await call('PATCH', `/v1/reports/${id}`, { name: 'again' })).status, 404);
    assert.equal((await call('DELETE', `/v1/reports/${id}`)).status, 404);
    const runs = await runsOf();
    assert.equal(runs.length, 2, 'the manual and the scheduled run stay');
    for (const run of runs) {
      const file = await call('GET', `/v1/reports/runs/${run.run_id}/file`);
      assert.equal(file.status, 200);
      assert.equal(Buffer.byteLength(file.text), run.bytes);
      assert.equal((await call('GET', `/v1/reports/runs/${run.run_id}/manifest`)).status, 200);
    }
    // There is no route that deletes runs.
    assert.equal((await call('DELETE', `/v1/reports/runs/${runs[0].run_id}`)).status, 404);
  });

  test('exports and report runs at once: per tenant 429, in all 503, counted; a place comes back when a stream ends', async () => {
    // Enough rows that an export nobody reads stays open (the socket fills).
    for (const tenant of ['acme', 'globex']) await generateEvents(ctx.storage, ctx.tables, { tenant, source: `gw:bulk-${tenant}`, count: 60_000 });
    const analyst = (tenant: string) => idp.token({ sub: `ann-${tenant}`, roles: ['analyst', 'compliance'], tenant });
    const [acme, globex, initech] = await Promise.all(['acme', 'globex', 'initech'].map(analyst));
    const open = async (token: string, signal?: AbortSignal) => fetch(`${q}/v1/events/export?format=ndjson`, { headers: { authorization: `Bearer ${token}` }, signal });

    const holdAcme = new AbortController();
    const first = await open(acme!, holdAcme.signal);
    assert.equal(first.status, 200);
    const second = await open(acme!);
    assert.equal(second.status, 429);
    const refusal = (await second.json()) as any;
    assert.equal(refusal.error.code, 'TOO_MANY_EXPORTS');
    assert.equal(refusal.error.retriable, true);
    // A report run of the same tenant counts against the same bound.
    const reportId = (await define({ name: 'bounded run' })).body.id;
    const run = await call('POST', `/v1/reports/${reportId}/run`, undefined, acme);
    assert.equal(run.status, 429);
    assert.equal(run.body.error.code, 'TOO_MANY_EXPORTS');

    const holdGlobex = new AbortController();
    const other = await open(globex!, holdGlobex.signal);
    assert.equal(other.status, 200, 'another tenant has its own place');
    const third = await open(initech!);
    assert.equal(third.status, 503);
    assert.equal(((await third.json()) as any).error.code, 'EXPORTS_BUSY');

    const metrics = await (await fetch(`${q}/metrics`)).text();
    assert.match(metrics, /actorlog_work_refused_total\{work="export_or_report",limit="tenant"\} 2/);
    assert.match(metrics, /actorlog_work_refused_total\{work="export_or_report",limit="total"\} 1/);

    // Aborted or read to the end, an export gives its place back.
    holdAcme.abort();
    const again = await eventually(async () => {
      const response = await open(acme!);
      if (response.status === 200) return response;
      await response.body?.cancel();
      return undefined;
    }, 'a place for acme after its export was aborted');
    const lines = (await again.text()).trim().split('\n').length;
    assert.ok(lines > 60_000, `the whole export: ${lines} lines`);
    holdGlobex.abort();
    await eventually(async () => ((await call('POST', `/v1/reports/${reportId}/run`, undefined, acme)).status === 201 ? true : undefined), 'a report run once the exports ended');
  });
});
