// The demo, stored by the real engine, exported as OCSF (every line valid
// against the pinned definitions, its attestation verifiable with the
// emitter's key), as CloudEvents, and as an OCSF report file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compactVerify, importJWK, type JWK } from 'jose';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { runDemo } from '../../cli/demo.js';
import { validateOcsf } from '../../schemas/ocsf/validate.js';
import { testIdp, type TestIdp } from '../helpers/idp.js';
import { context, testConfig } from '../helpers/services.js';

describe('OCSF and CloudEvents exports', { timeout: 180_000 }, () => {
  let ctx: Context;
  let running: Running;
  let idp: TestIdp;
  let analyst: string;
  let demoSent = 0;

  const get = async (path: string, token = analyst) => {
    const response = await fetch(`${running.queryUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  const lines = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);

  before(async () => {
    idp = await testIdp();
    const config = testConfig({ env: idp.env });
    ctx = await context(config);
    running = await startAll(ctx);
    const { sent, rejected } = await runDemo({ endpoint: running.ingestUrl!, dataDir: config.dataDir, registryFile: config.keysFile });
    assert.equal(rejected, 0);
    demoSent = sent;
    analyst = await idp.token({ sub: 'ann', roles: ['analyst'], tenant: 'acme' });
  });
  after(async () => {
    await running.close();
  });

  test('the OCSF export of the demo: one event per stored event, every one valid', async () => {
    const rows = lines((await get('/v1/events/export?format=ndjson')).text);
    assert.equal(rows.length, demoSent);
    const ocsf = await get('/v1/events/export?format=ocsf');
    assert.equal(ocsf.status, 200);
    assert.match(ocsf.type ?? '', /application\/x-ndjson/);
    const events = lines(ocsf.text);
    assert.deepEqual(events.map((e) => e.metadata.uid).sort(), rows.map((r) => r.id).sort());
    for (const event of events) {
      const { errors } = validateOcsf(event);
      assert.deepEqual(errors, [], `${event.metadata.event_code} ${event.metadata.uid}`);
    }
    const classes = new Set(events.map((e) => e.class_uid));
    assert.ok(classes.has(6003) && classes.has(3003) && classes.has(3007), [...classes].join(','));
    // the demo's flagged events are alerts with their flags as enrichments
    const impersonation = events.find((e) => e.enrichments?.some((x: any) => x.value === 'impersonation'));
    assert.ok(impersonation && impersonation.is_alert === true && impersonation.severity_id === 4);
    // a filter narrows it as it narrows the row export
    const denied = lines((await get('/v1/events/export?format=ocsf&outcome=deny')).text);
    assert.ok(denied.length > 0 && denied.every((e) => e.disposition_id === 2 && e.action_id === 2));
  });

  test("an exported event's attestation is the emitter's signature, verifiable with its registered key", async () => {
    const [event] = lines((await get('/v1/events/export?format=ocsf&type=mcp.tool.call')).text);
    assert.ok(event);
    const [attestation] = event.attestation_list;
    assert.equal(createHash('sha256').update(event.raw_data).digest('hex'), attestation.fingerprint.value);
    const full = JSON.parse((await get(`/v1/events/${event.metadata.uid}`)).text);
    assert.equal(full.verified_by.emitter, attestation.authority_uid);
    const key = await importJWK(full.verified_by.public_jwk as JWK, full.verified_by.alg);
    const { payload } = await compactVerify(event.raw_data, key);
    assert.equal(JSON.parse(new TextDecoder().decode(payload)).id, event.metadata.uid);
  });

  test('the CloudEvents export: structured mode, required attributes, the signed event as data', async () => {
    const events = lines((await get('/v1/events/export?format=cloudevents')).text);
    assert.equal(events.length, demoSent);
    for (const ce of events) {
      assert.equal(ce.specversion, '1.0');
      for (const attr of ['id', 'source', 'type']) assert.ok(typeof ce[attr] === 'string' && ce[attr] !== '', attr);
      assert.match(ce.source, /^[a-z][a-z0-9+.-]*:\S+$/i, 'source is an absolute URI');
      assert.ok(!Number.isNaN(Date.parse(ce.time)) && /Z$/.test(ce.time));
      assert.equal(ce.datacontenttype, 'application/json');
      // context attribute names are lowercase letters and digits, values never objects
      for (const [name, value] of Object.entries(ce)) {
        if (name === 'data') continue;
        assert.match(name, /^[a-z0-9]{1,20}$/);
        assert.notEqual(typeof value, 'object');
      }
      assert.equal(ce.data.id, ce.id);
      assert.equal(ce.type, `actorlog.${ce.data.type}`);
      assert.equal(ce.sequence, String(ce.data.seq));
    }
  });

  test('an OCSF report: saved searches only, and its file validates', async () => {
    const officer = await idp.token({ sub: 'olga', roles: ['compliance'], tenant: 'acme' });
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${running.queryUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${officer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      return { status: response.status, text, body: response.headers.get('content-type')?.includes('application/json') ? JSON.parse(text) : undefined };
    };
    const base = { tenant: 'acme', period: 'P7D', schedule: '0 6 * * 1', format: 'ocsf' };
    const refused = await call('POST', '/v1/reports', { ...base, name: 'denied as ocsf', kind: 'denied_actions' });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /saved_search/);
    const created = await call('POST', '/v1/reports', { ...base, name: 'gateway traffic', kind: 'saved_search', search: { type: 'mcp.tool.call' } });
    assert.equal(created.status, 201, created.text);
    const ran = await call('POST', `/v1/reports/${created.body.id}/run`);
    assert.equal(ran.status, 201, ran.text);
    assert.equal(ran.body.format, 'ocsf');
    const file = await call('GET', `/v1/reports/runs/${ran.body.run_id}/file`);
    const events = lines(file.text);
    assert.equal(events.length, ran.body.row_count);
    assert.ok(events.length > 0);
    for (const event of events) {
      assert.equal(event.metadata.event_code, 'mcp.tool.call');
      assert.deepEqual(validateOcsf(event).errors, []);
    }
  });
});
