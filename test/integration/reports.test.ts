// Compliance reports end to end: definitions through the API, each kind run
// on seeded data, the scheduler producing a run once per due time even with
// two instances, files downloaded and verified against their signed
// manifests (through the API, the library and the CLI), tampering caught.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { runDemo } from '../../cli/demo.js';
import { ReportService } from '../../reports/service.js';
import { loadReportKey, verifyReport } from '../../reports/signing.js';
import { createLogger } from '../../lib/logger.js';
import { tempDir } from '../helpers/fixtures.js';
import { testIdp, type TestIdp } from '../helpers/idp.js';
import { callApi, context, eventually, rowsOf, testConfig } from '../helpers/services.js';
import type { Config } from '../../lib/config.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/actorlog.js');

describe('compliance reports', { timeout: 180_000 }, () => {
  let config: Config;
  let ctx: Context;
  let running: Running;
  let idp: TestIdp;
  let q: string;
  let officer: string;

  const call = (method: string, p: string, body?: unknown, token = officer) => callApi(q, method, p, token, body);
  const define = (kind: string, extra: Record<string, unknown> = {}) =>
    call('POST', '/v1/reports', { name: `weekly ${kind}`, kind, tenant: 'acme', period: 'P7D', schedule: '0 6 * * 1', format: 'csv', ...extra });
  const csvRows = (text: string) => text.trim().split('\r\n').slice(1);

  before(async () => {
    idp = await testIdp();
    config = testConfig({ env: { ...idp.env, REPORT_TICK_MS: '300', REPORT_MIN_INTERVAL_MINUTES: '1' } });
    ctx = await context(config);
    running = await startAll(ctx);
    q = running.queryUrl!;
    await runDemo({ endpoint: running.ingestUrl!, dataDir: config.dataDir, registryFile: config.keysFile });
    officer = await idp.token({ sub: 'officer-olga', roles: ['compliance'], tenant: 'acme' });
  });
  after(async () => {
    await running.close();
  });

  test('definitions are validated, role-checked and tenant-confined', async () => {
    assert.equal((await define('denied_actions', { schedule: '61 * * * *' })).status, 400);
    assert.equal((await define('denied_actions', { period: '7 days' })).status, 400);
    assert.equal((await define('saved_search')).status, 400, 'a saved search needs its filters');
    assert.equal((await define('denied_actions', { search: { human: 'x' } })).status, 400, 'only a saved search has filters');
    assert.equal((await define('denied_actions', { tenant: 'globex' })).body.error.code, 'FORBIDDEN');
    const analyst = await idp.token({ sub: 'ann', roles: ['analyst'], tenant: 'acme' });
    assert.equal((await call('GET', '/v1/reports', undefined, analyst)).status, 403);
    const created = await define('denied_actions');
    assert.equal(created.status, 201);
    const listed = await call('GET', '/v1/reports');
    assert.ok(listed.body.reports.some((r: any) => r.id === created.body.id && r.created_by === 'officer-olga'));
    const globexOfficer = await idp.token({ sub: 'gus', roles: ['compliance'], tenant: 'globex' });
    assert.deepEqual((await call('GET', '/v1/reports', undefined, globexOfficer)).body.reports, []);
    assert.equal((await call('POST', `/v1/reports/${created.body.id}/run`, undefined, globexOfficer)).status, 404);
  });

  test('each kind, run now, answers from the seeded data', async () => {
    const run = async (kind: string, extra: Record<string, unknown> = {}) => {
      const { body } = await define(kind, extra);
      const ran = await call('POST', `/v1/reports/${body.id}/run`);
      assert.equal(ran.status, 201, JSON.stringify(ran.body));
      const file = await call('GET', `/v1/reports/runs/${ran.body.run_id}/file`);
      return { run: ran.body, text: file.text };
    };
    const denied = await run('denied_actions');
    assert.equal(denied.run.row_count, 2);
    assert.deepEqual(csvRows(denied.text).map((r) => r.includes('export-needs-approval') || r.includes('admin intent is not delegable')), [true, true]);

    const after = await run('after_revocation', { format: 'ndjson' });
    const afterRows = after.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(afterRows.map((r) => [r.human_sub, r.tool_name]), [['u-bob', 'github.read_repo']]);

    const inventory = await run('agent_inventory', { format: 'ndjson' });
    const support = inventory.text.trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.agent_id === 'agent:support-bot');
    assert.deepEqual(support.principals, ['u-bob', 'u-carol']);
    assert.deepEqual(support.runtime_identities, ['workload:k8s:support/support-bot']);

    const privileged = await run('privileged_tool_use', { format: 'ndjson' });
    const tools = privileged.text.trim().split('\n').map((l) => JSON.parse(l).tool_name);
    for (const t of ['crm.export_contacts', 'files.delete_document', 'github.delete_repo']) assert.ok(tools.includes(t), t);
    assert.ok(!tools.includes('crm.search_contacts'), 'an internal search is not privileged');

    const review = await run('access_review', { format: 'ndjson' });
    const grants = review.text.trim().split('\n').map((l) => JSON.parse(l));
    const alice = grants.find((g) => g.human_sub === 'u-alice' && g.agent_id === 'agent:research-assistant' && g.consent_id === 'consent-alice-crm');
    assert.deepEqual([alice.grant_id, alice.grants, alice.actions, alice.scopes], ['grant-alice-research', 2, 4, ['crm.read', 'files.read']]);
    assert.match(alice.first_seen, /Z$/);
    const bob = grants.find((g) => g.grant_id === 'grant-bob-support');
    assert.deepEqual([bob.denied, bob.after_revocation], [1, 1]);

    const saved = await run('saved_search', { search: { flag: 'impersonation' } });
    assert.equal(saved.run.row_count, 1);
  });

  test('a scheduled report runs once per due time, and its file verifies against the signed manifest', async () => {
    const { body } = await define('denied_actions', { schedule: '* * * * *', name: 'every minute' });
    const scheduled = await eventually(async () => {
      const runs = await call('GET', `/v1/reports/${body.id}/runs`);
      return runs.body.runs.find((r: any) => r.trigger === 'schedule' && r.status === 'ok');
    }, 'the scheduled run', 90_000);
    assert.equal(Date.parse(scheduled.period_to) - Date.parse(scheduled.period_from), 7 * 86_400_000);
    assert.equal(new Date(scheduled.due_at).getUTCSeconds(), 0);

    const file = await fetch(`${q}/v1/reports/runs/${scheduled.run_id}/file`, { headers: { authorization: `Bearer ${officer}` } });
    const bytes = new Uint8Array(await file.arrayBuffer());
    const manifest = (await call('GET', `/v1/reports/runs/${scheduled.run_id}/manifest`)).text;
    const jwks = (await call('GET', '/v1/reports/jwks')).body;
    assert.equal(jwks.keys[0].d, undefined, 'only the public key is served');

    const verdict = await verifyReport(bytes, manifest, jwks);
    assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
    assert.equal(verdict.manifest.row_count, 2);
    assert.equal(verdict.manifest.run_id, scheduled.run_id);
    assert.equal(verdict.manifest.report.kind, 'denied_actions');

    // Tampering with the file or the manifest is caught.
    const altered = Buffer.from(bytes);
    altered[altered.length - 3] = altered[altered.length - 3]! ^ 1;
    assert.match((await verifyReport(altered, manifest, jwks) as { reason: string }).reason, /SHA-256/);
    const [h, p, s] = manifest.split('.');
    const forged = JSON.parse(Buffer.from(p!, 'base64url').toString());
    forged.row_count = 0;
    assert.match((await verifyReport(bytes, `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`, jwks) as { reason: string }).reason, /signature/);

    // The CLI says the same to an auditor holding the three files.
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'report.csv'), bytes);
    fs.writeFileSync(path.join(dir, 'report.manifest.jws'), manifest);
    fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(jwks));
    fs.writeFileSync(path.join(dir, 'altered.csv'), altered);
    const verify = (file: string) =>
      spawnSync(process.execPath, [bin, 'report', 'verify', '--file', path.join(dir, file), '--manifest', path.join(dir, 'report.manifest.jws'), '--jwks', path.join(dir, 'jwks.json')], {
        encoding: 'utf8',
        env: { ...process.env, DATA_DIR: dir },
      });
    const good = verify('report.csv');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /verified: every minute \(denied_actions, tenant acme\).* 2 rows/);
    const bad = verify('altered.csv');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /NOT VERIFIED/);
  });

  test('report verify rechecks the coverage against the file: every event of the period, counted per emitter; a tampered claim fails', async () => {
    const { body } = await define('saved_search', { name: 'everything', search: {}, format: 'ndjson' });
    const ran = await call('POST', `/v1/reports/${body.id}/run`);
    assert.equal(ran.status, 201);
    const bytes = Buffer.from(await (await fetch(`${q}/v1/reports/runs/${ran.body.run_id}/file`, { headers: { authorization: `Bearer ${officer}` } })).arrayBuffer());
    const manifest = (await call('GET', `/v1/reports/runs/${ran.body.run_id}/manifest`)).text;
    const jwks = (await call('GET', '/v1/reports/jwks')).body;
    const verdict = await verifyReport(bytes, manifest, jwks);
    assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
    const claimed = verdict.manifest;
    // The file's events per emitter, counted here from the file itself.
    const perEmitter = new Map<string, number[]>();
    for (const line of bytes.toString().trim().split('\n')) {
      const row = JSON.parse(line);
      perEmitter.set(row.source, [...(perEmitter.get(row.source) ?? []), Number(row.seq)]);
    }
    assert.ok(perEmitter.size >= 2, 'the demo has several emitters');
    assert.deepEqual(
      claimed.coverage!.emitters,
      [...perEmitter].sort(([a], [b]) => (a < b ? -1 : 1)).map(([source, seqs]) => ({ source, first_seq: Math.min(...seqs), last_seq: Math.max(...seqs), events: seqs.length })),
    );
    assert.deepEqual(claimed.contents!.emitters, claimed.coverage!.emitters);

    // The installation signs a manifest whose coverage claims one event more than the file holds.
    const key = await loadReportKey(config.reports.signingKeyFile);
    const forged = structuredClone(claimed);
    forged.coverage!.emitters[0]!.events += 1;
    forged.coverage!.emitters[0]!.last_seq += 1;
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'report.ndjson'), bytes);
    fs.writeFileSync(path.join(dir, 'report.manifest.jws'), manifest);
    fs.writeFileSync(path.join(dir, 'forged.manifest.jws'), await key.sign(forged));
    fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(jwks));
    const verify = (manifestFile: string) =>
      spawnSync(process.execPath, [bin, 'report', 'verify', '--file', path.join(dir, 'report.ndjson'), '--manifest', path.join(dir, manifestFile), '--jwks', path.join(dir, 'jwks.json')], {
        encoding: 'utf8',
        env: { ...process.env, DATA_DIR: dir },
      });
    const good = verify('report.manifest.jws');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /checked: the events per emitter and seq ranges the manifest states, recounted from the file, within the coverage \(equal to it: the file is every event of the period\)/);
    const bad = verify('forged.manifest.jws');
    assert.equal(bad.status, 1);
    const first = forged.coverage!.emitters[0]!;
    assert.match(bad.stderr, new RegExp(`NOT VERIFIED: emitter ${first.source}: the coverage says the period holds ${first.events} events, seq ${first.first_seq}-${first.last_seq}, the file \\(every event of the period\\) has ${first.events - 1} events`));
  });

  test('two instances due at the same time: one runs it, one run recorded', async () => {
    const { body } = await define('agent_inventory', { schedule: '0 0 * * *', name: 'daily inventory' });
    const key = await loadReportKey(config.reports.signingKeyFile);
    const logger = createLogger('test', 'silent');
    const a = new ReportService({ ...ctx, key, logger, instance: 'instance-a', claimSettleMs: 2_000 });
    const b = new ReportService({ ...ctx, key, logger, instance: 'instance-b', claimSettleMs: 2_000 });
    // Two days on, the definition is due (that day's 00:00, after its creation;
    // the service's own scheduler, living in the present, is not yet due).
    const now = Date.now() + 2 * 86_400_000;
    const [ranA, ranB] = await Promise.all([a.runDue(now), b.runDue(now)]);
    // Whichever instance won the claim ran it; the other did not.
    const runs = await rowsOf<{ run_id: string; generated_by: string }>(
      ctx,
      `SELECT run_id, generated_by FROM ${ctx.tables.reportRuns} FINAL WHERE report_id = {id:String} AND trigger = 'schedule'`,
      { id: body.id },
    );
    assert.equal(runs.length, 1);
    const runId = runs[0]!.run_id;
    assert.equal([ranA.includes(runId), ranB.includes(runId)].filter(Boolean).length, 1, 'exactly one instance ran it');
    assert.equal(runs[0]!.generated_by, `scheduler:${ranA.includes(runId) ? 'instance-a' : 'instance-b'}`);
    // Asked again for the same due time, neither runs it.
    const again = await Promise.all([a.runDue(now + 1000), b.runDue(now + 1000)]);
    assert.ok(!again.flat().includes(runId));
  });
});
