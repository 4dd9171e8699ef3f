// The query API as analysts and admins use it, with JWTs from an identity
// provider, on seeded data in two tenants: every endpoint's answers, role
// checks, tenant isolation under hostile parameters, the access log, the rate
// limit, the OpenAPI document.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import { EmitterClient } from '@actorlog/sdk';
import { startAll, startQueryApi, type Context, type Running } from '../../cli/services.js';
import { runDemo, traceIdOf } from '../../cli/demo.js';
import { registeredEmitter, tempDir, toolCall } from '../helpers/fixtures.js';
import { testIdp, type TestIdp } from '../helpers/idp.js';
import { api, context, eventually, post, testConfig } from '../helpers/services.js';

describe('query API', { timeout: 120_000 }, () => {
  let ctx: Context;
  let running: Running;
  let idp: TestIdp;
  let q: string;
  let acme: string; // analyst token for tenant acme
  let globexEventId: string;
  let keysFile: string;
  const get = (path: string, token: string | null = acme) => api(q, path, token);

  before(async () => {
    idp = await testIdp();
    const config = testConfig({ env: idp.env });
    ctx = await context(config);
    running = await startAll(ctx);
    q = running.queryUrl!;
    // acme: the demo's traffic; globex: events of its own.
    await runDemo({ endpoint: running.ingestUrl!, dataDir: config.dataDir, registryFile: config.keysFile });
    keysFile = config.keysFile;
    const globex = await registeredEmitter(config.keysFile, 'gw:globex');
    const client = new EmitterClient({ endpoint: running.ingestUrl!, source: globex.source, privateJwk: globex.key.privateJwk, stateDir: tempDir() });
    globexEventId = await client.emit(toolCall({ tenant: 'globex', human: { sub: 'u-alice', iss: 'https://login.globex.example' }, context: { session_id: 'sess-alice-1' } }));
    await client.close();
    await post(running.ingestUrl!, 'garbage-for-quarantine', 'application/jose', globex);
    acme = await idp.token({ sub: 'analyst-ann', roles: ['analyst'], tenant: 'acme' });
  });
  after(() => running.close());

  test('authentication: issuer, audience, expiry and signature are checked', async () => {
    assert.equal((await get('/v1/events', null)).status, 401);
    for (const opts of [{ issuer: 'https://evil.example' }, { audience: 'someone-else' }, { expiresIn: '-1m' }, { foreignKey: true }]) {
      const bad = await idp.token({ sub: 'x', roles: ['analyst'], tenant: 'acme' }, opts);
      const answer = await get('/v1/events', bad);
      assert.equal(answer.status, 401, JSON.stringify(opts));
      assert.equal(answer.body.error.code, 'UNAUTHORIZED');
    }
    // The development token is off once a JWKS is configured.
    assert.equal((await get('/v1/events', 'test-analyst-token')).status, 401);
  });

  test('roles: analysts read events, not the access log; compliance does not read events', async () => {
    const compliance = await idp.token({ sub: 'carl', roles: ['compliance'], tenant: 'acme' });
    assert.equal((await get('/v1/events', compliance)).body.error.code, 'FORBIDDEN');
    assert.equal((await get('/v1/admin/access-log')).body.error.code, 'FORBIDDEN');
    const noTenant = await idp.token({ sub: 'nobody', roles: ['analyst'] });
    assert.equal((await get('/v1/events', noTenant)).status, 403);
  });

  test('tenant isolation holds whatever the parameters say', async () => {
    const all = await get('/v1/events?limit=1000');
    assert.ok(all.body.events.length > 10);
    assert.ok(all.body.events.every((e: any) => e.tenant === 'acme'));
    assert.equal((await get('/v1/events?tenant=globex')).status, 403);
    assert.equal((await get(`/v1/events/${globexEventId}`)).status, 404);
    const globexAnalyst = await idp.token({ sub: 'gina', roles: ['analyst'], tenant: 'globex' });
    assert.deepEqual((await get('/v1/events', globexAnalyst)).body.events.map((e: any) => e.id), [globexEventId]);

    const injections = ["' OR 1=1 --", "acme' OR tenant='globex", "x') OR ('1'='1", '\\', "'; DROP TABLE actorlog.events; --", '%27%20OR%201%3D1'];
    for (const value of injections) {
      const v = encodeURIComponent(value);
      for (const filter of ['human', 'agent', 'actor', 'server', 'tool', 'session', 'trace', 'jti', 'grant', 'consent']) {
        const answer = await get(`/v1/events?${filter}=${v}`);
        assert.equal(answer.status, 200, `${filter}=${value}`);
        assert.deepEqual(answer.body.events, [], `${filter}=${value}`);
      }
      assert.equal((await get(`/v1/events?tenant=${v}`)).status, 403);
      for (const path of [`/v1/humans/${v}/activity`, `/v1/agents/${v}/activity`, `/v1/blast-radius?jti=${v}`, `/v1/blast-radius?grant=${v}`, `/v1/quarantine?source=${v}`]) {
        const answer = await get(path);
        assert.equal(answer.status, 200, path);
        // The answer echoes the parameter; apart from that, nothing of globex.
        const echoed = JSON.stringify(value).slice(1, -1);
        assert.ok(!JSON.stringify(answer.body).replaceAll(echoed, '').includes('globex'), path);
      }
      assert.equal((await get(`/v1/sessions/${v}/graph`)).status, 404);
      assert.equal((await get(`/v1/events/${v}`)).status, 404);
    }
    // Alice of globex shares a user id and a session id with acme's Alice: never mixed.
    const alice = await get('/v1/humans/u-alice/activity');
    assert.ok(alice.body.agents.length > 0);
    assert.ok(!alice.body.agents.some((a: any) => a.agent_id === 'agent:research'), "globex's agent is not in acme's Alice's activity");
    const graph = await get('/v1/sessions/sess-alice-1/graph');
    assert.ok(!graph.body.nodes.some((n: any) => n.label === 'agent:research'), 'the globex agent is not in acme\'s session graph');
    // The events table is still there.
    assert.equal((await get('/v1/events?limit=1')).status, 200);
  });

  test('human activity: agents, delegations, servers and tools, allowed vs denied, flags, by day', async () => {
    const { status, body } = await get('/v1/humans/u-bob/activity');
    assert.equal(status, 200);
    const support = body.agents.find((a: any) => a.agent_id === 'agent:support-bot');
    assert.ok(support.events >= 6);
    assert.equal(support.denied, 1);
    assert.ok(support.grants.includes('grant-bob-support'));
    assert.ok(support.servers.includes('mcp:crm') && support.servers.includes('mcp:files'));
    assert.ok(support.tools.includes('crm.export_contacts'));
    assert.equal(body.flags.after_revocation, 1);
    assert.equal(body.flags.jti_reuse, 1);
    assert.ok(body.by_day.reduce((n: number, d: any) => n + d.events, 0) >= support.events);
  });

  test('agent activity: on whose behalf, runtime identities, tools, denials', async () => {
    const { body } = await get('/v1/agents/agent:support-bot/activity');
    assert.deepEqual(body.on_behalf_of.map((p: any) => p.human_sub).sort(), ['u-bob', 'u-carol']);
    assert.deepEqual(body.runtime_identities.map((r: any) => `${r.kind}:${r.id}`), ['workload:k8s:support/support-bot']);
    const exportTool = body.tools.find((t: any) => t.tool_name === 'crm.export_contacts');
    assert.deepEqual([exportTool.events, exportTool.denied, exportTool.intent, exportTool.sensitivity], [2, 1, 'export', 'restricted']);
    assert.equal(body.flags.impersonation, 1);
  });

  test('session graph: human -> agent -> sub-agent -> server -> tool, with times', async () => {
    const { body } = await get('/v1/sessions/sess-alice-1/graph');
    const ids = body.nodes.map((n: any) => n.id);
    for (const id of ['human:u-alice', 'agent:agent:research-assistant', 'agent:agent:summarizer', 'server:mcp:crm', 'server:mcp:files', 'tool:mcp:files/files.summarize_document']) {
      assert.ok(ids.includes(id), id);
    }
    const edge = (from: string, to: string) => body.edges.find((e: any) => e.from === from && e.to === to);
    assert.equal(edge('human:u-alice', 'agent:agent:research-assistant').kind, 'acted_for');
    assert.equal(edge('agent:agent:research-assistant', 'agent:agent:summarizer').kind, 'delegated_to');
    assert.equal(edge('agent:agent:summarizer', 'server:mcp:files').kind, 'called');
    assert.ok(Date.parse(edge('human:u-alice', 'agent:agent:research-assistant').first) <= Date.parse(edge('human:u-alice', 'agent:agent:research-assistant').last));
    assert.equal((await get(`/v1/traces/${traceIdOf('sess-bob-1')}/graph`)).status, 200);
  });

  test('blast radius of a token, a grant, an agent', async () => {
    const jti = await get('/v1/blast-radius?jti=jti-bob-crm');
    assert.deepEqual(jti.body.summary.servers.sort(), ['mcp:crm', 'mcp:files']);
    assert.deepEqual(jti.body.summary.humans, ['u-bob']);
    assert.ok(jti.body.summary.flags.includes('jti_reuse'));
    assert.ok(jti.body.summary.resources.includes('doc:pricing'));
    const grant = await get('/v1/blast-radius?grant=grant-alice-research');
    assert.ok(grant.body.summary.events >= 5);
    assert.ok(grant.body.tools.some((t: any) => t.tool_name === 'crm.search_contacts'));
    const agent = await get('/v1/blast-radius?agent=agent:support-bot');
    assert.equal(agent.body.summary.denied, 1);
    assert.equal((await get('/v1/blast-radius?jti=a&grant=b')).body.error.code, 'BAD_REQUEST');
  });

  test('findings by flag and by human; emitter health; quarantine', async () => {
    const byFlag = await get('/v1/findings');
    const flags = Object.fromEntries(byFlag.body.findings.map((f: any) => [f.flag, f.events]));
    for (const f of ['impersonation', 'token_passthrough', 'jti_reuse', 'after_revocation', 'scope_exceeded', 'identity_context_loss']) assert.ok(flags[f] >= 1, f);
    const byHuman = await get('/v1/findings?group_by=human&flag=impersonation');
    assert.deepEqual(byHuman.body.findings.map((f: any) => [f.human, f.flag]), [['u-carol', 'impersonation']]);

    const emitters = await get('/v1/emitters');
    const sources = emitters.body.emitters.map((e: any) => e.source).sort();
    assert.deepEqual(sources, ['gw:demo-gateway', 'idp:demo-okta', 'mcp:demo-crm']);
    assert.ok(emitters.body.emitters.every((e: any) => e.last_seq >= 1 && e.open_gaps === 0 && e.silent === false));

    // The garbage had no tenant to claim: the development scope would see it, a tenant's analyst does not,
    // a platform admin (no tenant claim of its own) does.
    assert.deepEqual((await get('/v1/quarantine')).body.quarantined, []);
    const platform = await idp.token({ sub: 'olga', roles: ['platform_admin'] });
    const whole = await get('/v1/quarantine', platform);
    assert.equal(whole.status, 200, JSON.stringify(whole.body));
    const garbage = whole.body.quarantined.find((r: any) => Buffer.from(r.raw_base64, 'base64').toString() === 'garbage-for-quarantine');
    assert.equal(garbage?.claimed_tenant, '');
    assert.equal(garbage?.caller, 'gw:globex', 'filed under the emitter that sent it');
  });

  test("an emitter shared by two tenants shows each tenant's analyst its own activity only", async () => {
    const shared = await registeredEmitter(keysFile, 'gw:shared');
    const client = new EmitterClient({ endpoint: running.ingestUrl!, source: shared.source, privateJwk: shared.key.privateJwk, stateDir: tempDir() });
    const acmeId = await client.emit(toolCall({ context: { session_id: 'sess-shared' } }));
    await client.flush();
    for (let i = 0; i < 3; i++) await client.emit(toolCall({ tenant: 'globex', human: { sub: 'u-gus', iss: 'https://login.globex.example' } }));
    await client.close();
    const [mine] = (await get('/v1/events?session=sess-shared')).body.events;
    assert.equal(mine.id, acmeId);
    const emitter = (await get('/v1/emitters')).body.emitters.find((e: any) => e.source === 'gw:shared');
    assert.equal(emitter.last_seq, 1, "acme's own last event, not globex's seq 4");
    assert.equal(emitter.last_seen, mine.time);
  });

  test('export: the same search streamed as NDJSON and CSV', async () => {
    const search = await get('/v1/events?human=u-bob&limit=1000');
    const ndjson = await get('/v1/events/export?human=u-bob&format=ndjson');
    const lines = (ndjson.body as string).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.id), search.body.events.map((e: any) => e.id));
    const csv = await fetch(`${q}/v1/events/export?human=u-bob&format=csv`, { headers: { authorization: `Bearer ${acme}` } });
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const rows = (await csv.text()).trim().split('\r\n');
    assert.equal(rows.length, search.body.events.length + 1);
    assert.match(rows[0]!, /^id,tenant,type,time/);
  });

  test('who approved this export: the event names its approval grant, the grant names the approver', async () => {
    const [allowed] = (await get('/v1/events?tool=crm.export_contacts&outcome=allow_with_obligations')).body.events;
    assert.equal(allowed.delegation_mode, 'jit_approval');
    assert.deepEqual(allowed.obligations, ['watermark', 'notify-dpo']);
    const approvals = await get(`/v1/events?grant=${allowed.grant_id}&type=delegation.granted`);
    assert.deepEqual(approvals.body.events.map((e: any) => [e.source, e.attrs.approved_by, e.attrs.ticket]), [['idp:demo-okta', 'u-dana', 'SEC-1234']]);
  });

  test('several values per filter, relative time, attrs and free text', async () => {
    const humans = (r: { body: { events: { human_sub: string }[] } }) => [...new Set(r.body.events.map((e) => e.human_sub))].sort();
    assert.deepEqual(humans(await get('/v1/events?human=u-alice&human=u-carol&limit=1000')), ['u-alice', 'u-carol']);
    const flagged = (await get('/v1/events?flag=impersonation&flag=jti_reuse')).body.events as { flags: string[] }[];
    assert.ok(flagged.length >= 2 && flagged.every((e) => e.flags.includes('impersonation') || e.flags.includes('jti_reuse')));
    // The demo's events are minutes old: inside the last hour, none in the future.
    assert.ok((await get('/v1/events?since=1h')).body.events.length > 0);
    assert.equal((await get('/v1/events?since=1h&from=2026-01-01T00:00:00Z')).body.error.code, 'BAD_REQUEST');
    assert.equal((await get('/v1/events?since=1y')).status, 400);
    const approved = (await get('/v1/events?attr=approved_by:u-dana&attr=ticket:SEC-1234')).body.events as { type: string; grant_id: string }[];
    assert.deepEqual(approved.map((e) => [e.type, e.grant_id]), [['delegation.granted', 'approval-bob-42']]);
    assert.equal((await get('/v1/events?attr=approved_by:u-nobody')).body.events.length, 0);
    // Free text: part of an id or an attrs value, any case; confined like every search.
    assert.ok((await get('/v1/events?q=SEC-12')).body.events.some((e: { grant_id: string }) => e.grant_id === 'approval-bob-42'));
    assert.ok(!(await get('/v1/events?q=globex')).body.events.some((e: { tenant: string }) => e.tenant !== 'acme'));
  });

  test('histogram of a search over its window', async () => {
    const all = await get('/v1/events/histogram?since=2h&buckets=8');
    assert.equal(all.status, 200);
    assert.equal(all.body.buckets.length, 8);
    assert.equal(all.body.step_ms, 15 * 60_000);
    const total = (await get('/v1/events?since=2h&limit=1000')).body.events.length;
    assert.equal(all.body.buckets.reduce((n: number, b: { events: number }) => n + b.events, 0), total);
    const denied = await get('/v1/events/histogram?since=2h&buckets=8&outcome=deny');
    assert.equal(denied.body.buckets.reduce((n: number, b: { events: number; denied: number }) => n + b.events - b.denied, 0), 0);
    assert.ok(denied.body.buckets.some((b: { denied: number }) => b.denied > 0));
  });

  test('session graph as Graphviz DOT, denials red', async () => {
    const r = await fetch(`${q}/v1/sessions/sess-carol-2/graph.dot`, { headers: { authorization: `Bearer ${acme}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/vnd\.graphviz/);
    const dot = await r.text();
    assert.match(dot, /^digraph "session sess-carol-2" \{/);
    assert.match(dot, /"server:mcp:github" -> "tool:mcp:github\/github\.delete_repo" \[label="invoked 1 \(1 denied\)", color="#b91c1c"/);
    assert.equal((await get('/v1/sessions/sess-nothing/graph.dot')).status, 404);
  });

  test('401 answers name the Bearer scheme (RFC 6750)', async () => {
    const none = await fetch(`${q}/v1/events`);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="actorlog"');
    const bad = await fetch(`${q}/v1/events`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="actorlog", error="invalid_token"');
  });

  test('live tail: new matching events of your tenants as Server-Sent Events, recorded in the access log', async () => {
    const abort = new AbortController();
    const response = await fetch(`${q}/v1/events/tail?human=u-tail&human=u-tail-2`, { headers: { authorization: `Bearer ${acme}` }, signal: abort.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    const emitter = await registeredEmitter(keysFile, 'gw:tail-test');
    const client = new EmitterClient({ endpoint: running.ingestUrl!, source: emitter.source, privateJwk: emitter.key.privateJwk, stateDir: tempDir() });
    const wanted = await client.emit(toolCall({ human: { sub: 'u-tail', iss: 'https://login.acme.example' } }));
    await client.emit(toolCall({ human: { sub: 'u-other', iss: 'https://login.acme.example' } }));
    const otherTenant = await client.emit(toolCall({ tenant: 'globex', human: { sub: 'u-tail', iss: 'https://login.globex.example' } }));
    await client.close();
    const deadline = Date.now() + 20_000;
    while (!text.includes(`id: ${wanted}`) && Date.now() < deadline) {
      const { value, done } = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no tail data within 20 s')), 20_000))]);
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    const events = text.split('\n\n').filter((block) => block.startsWith('event: event'));
    assert.equal(events.length, 1, text);
    assert.match(events[0]!, new RegExp(`id: ${wanted}`));
    assert.ok(!text.includes(otherTenant), 'another tenant is never tailed');
    const admin = await idp.token({ sub: 'admin-tail', roles: ['admin'], tenant: 'acme' });
    // Recorded when it started, and again when the client closed it, with what it had sent.
    const phases = async () => ((await get('/v1/admin/access-log?route=/v1/events/tail', admin)).body.calls as { phase: string; rows: number }[]);
    const until = Date.now() + 10_000;
    while (!(await phases()).some((c) => c.phase === 'stream_aborted') && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const calls = await phases();
    assert.deepEqual(calls.map((c) => c.phase).sort(), ['stream_aborted', 'stream_started']);
  });

  test('one event in full: row, signed event, the key that verified it', async () => {
    const [first] = (await get('/v1/events?flag=impersonation')).body.events;
    const { body } = await get(`/v1/events/${first.id}`);
    assert.equal(body.event.id, first.id);
    assert.deepEqual(body.flags, ['impersonation']);
    assert.equal(body.signed.payload.id, first.id);
    assert.equal(body.verified_by.emitter, 'gw:demo-gateway');
    assert.equal(body.verified_by.alg, 'EdDSA');
    assert.equal(body.verified_by.state_now, 'active');
    assert.equal(body.verified_by.public_jwk.d, undefined);
  });

  test('the real answers of the main routes validate against their schemas in /openapi.json', async () => {
    type Op = { operationId: string; responses: Record<string, { content?: Record<string, { schema: object }> }> };
    const doc = (await (await fetch(`${q}/openapi.json`)).json()) as { paths: Record<string, Record<string, Op>> };
    // OpenAPI 3.0 schemas: `nullable` is Ajv's own keyword; formats are documentation here.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const admin = await idp.token({ sub: 'admin-schemas', roles: ['admin', 'analyst'], tenant: 'acme' });
    const compliance = await idp.token({ sub: 'carl-schemas', roles: ['compliance'], tenant: 'acme' });
    const [flagged] = (await get('/v1/events?flag=impersonation')).body.events;
    const calls: [string, string, string, string?][] = [
      ['/v1/events', 'get', '/v1/events?since=7d&limit=20'],
      ['/v1/events/histogram', 'get', '/v1/events/histogram?since=24h&buckets=12'],
      ['/v1/events/{id}', 'get', `/v1/events/${flagged.id}`],
      ['/v1/humans/{sub}/activity', 'get', '/v1/humans/u-bob/activity'],
      ['/v1/agents/{id}/activity', 'get', '/v1/agents/agent:support-bot/activity'],
      ['/v1/sessions/{id}/graph', 'get', '/v1/sessions/sess-alice-1/graph'],
      ['/v1/traces/{id}/graph', 'get', `/v1/traces/${traceIdOf('sess-bob-1')}/graph`],
      ['/v1/blast-radius', 'get', '/v1/blast-radius?jti=jti-bob-crm'],
      ['/v1/blast-radius', 'get', '/v1/blast-radius?agent=nobody-at-all'],
      ['/v1/findings', 'get', '/v1/findings'],
      ['/v1/findings', 'get', '/v1/findings?group_by=human'],
      ['/v1/emitters', 'get', '/v1/emitters'],
      ['/v1/quarantine', 'get', '/v1/quarantine', admin],
      ['/v1/admin/access-log', 'get', '/v1/admin/access-log?limit=50', admin],
      ['/v1/admin/keys', 'get', '/v1/admin/keys', admin],
      ['/v1/admin/webhooks/deliveries', 'get', '/v1/admin/webhooks/deliveries', admin],
      ['/v1/reports', 'get', '/v1/reports', compliance],
      ['/v1/reports/jwks', 'get', '/v1/reports/jwks', compliance],
    ];
    for (const [path, method, url, token] of calls) {
      const answer = await get(url, token ?? acme);
      assert.equal(answer.status, 200, `${url}: ${JSON.stringify(answer.body).slice(0, 200)}`);
      const schema = doc.paths[path]?.[method]?.responses['200']?.content?.['application/json']?.schema;
      assert.ok(schema, `${method} ${path} declares its answer`);
      const validate = ajv.compile(schema);
      assert.ok(validate(answer.body), `${url}: ${ajv.errorsText(validate.errors)}`);
    }
    // And the check can fail: an answer with a field of the wrong type does not pass.
    const events = ajv.compile(doc.paths['/v1/events']!.get!.responses['200']!.content!['application/json']!.schema);
    const { body } = await get('/v1/events?limit=1');
    assert.equal(events({ ...body, events: [{ ...body.events[0], time: 42 }] }), false);
  });

  test('every call is in the access log, with who, what and how many rows; admins read it', async () => {
    const token = await idp.token({ sub: 'analyst-audited', roles: ['analyst'], tenant: 'acme' });
    await get('/v1/events?human=u-bob&limit=3', token);
    await get('/v1/events?tenant=globex', token);
    const admin = await idp.token({ sub: 'admin-ada', roles: ['admin'], tenant: 'acme' });
    const { status, body } = await get('/v1/admin/access-log?sub=analyst-audited', admin);
    assert.equal(status, 200);
    const calls = body.calls.sort((a: any, b: any) => a.time.localeCompare(b.time));
    assert.deepEqual(
      calls.map((c: any) => [c.route, c.status, c.rows, c.params.human ?? c.params.tenant]),
      [
        ['/v1/events', 200, 3, 'u-bob'],
        ['/v1/events', 403, -1, 'globex'],
      ],
    );
    assert.deepEqual(calls[0].tenants, ['acme']);
    assert.equal(calls[0].via, 'jwt');
    const keys = await get('/v1/admin/keys', admin);
    assert.equal(keys.status, 200);
  });

  test('admins register a KMS-held public key over the API; analysts and other tenants cannot; the call is access-logged', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'kms-api-1' };
    const send = (token: string, body: unknown) =>
      fetch(`${q}/v1/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const admin = await idp.token({ sub: 'admin-kms', roles: ['admin'], tenant: 'acme' });
    const analyst = await idp.token({ sub: 'analyst-kms', roles: ['analyst'], tenant: 'acme' });
    assert.equal((await send(analyst, { emitter: 'gw:kms-api', jwk, tenants: ['acme'] })).status, 403);
    assert.equal((await send(admin, { emitter: 'gw:kms-api', jwk, tenants: ['globex'] })).status, 403);
    const secret = await send(admin, { emitter: 'gw:kms-api', jwk: { ...jwk, d: 'x' }, tenants: ['acme'] });
    assert.equal(secret.status, 400);
    assert.match(((await secret.json()) as any).error.message, /private members/);
    const created = await send(admin, { emitter: 'gw:kms-api', jwk, tenants: ['acme'] });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { emitter: 'gw:kms-api', kid: 'kms-api-1', alg: 'EdDSA' });
    const listed = await get('/v1/admin/keys', admin);
    assert.ok(listed.body.keys.some((k: any) => k.emitter === 'gw:kms-api' && k.kid === 'kms-api-1'));
    const log = await get('/v1/admin/access-log?sub=admin-kms', admin);
    assert.ok(log.body.calls.some((c: any) => c.route === '/v1/admin/keys' && c.status === 201));
  });

  test("admins register an emitter's JWKS URL; events signed with a key it publishes pass ingest and come back", async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const kid = 'kms-url-1';
    const jwks = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/jwk-set+json');
      res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
      const send = (token: string, body: unknown) =>
        fetch(`${q}/v1/admin/keys/jwks-url`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const admin = await idp.token({ sub: 'admin-jwks', roles: ['admin'], tenant: 'acme' });
      assert.equal((await send(acme, { emitter: 'kms:url', url, tenants: ['acme'] })).status, 403);
      const plain = await send(admin, { emitter: 'kms:url', url: 'http://keys.example/jwks', tenants: ['acme'] });
      assert.equal(plain.status, 400);
      assert.match(((await plain.json()) as any).error.message, /https/);
      const created = await send(admin, { emitter: 'kms:url', url, tenants: ['acme'] });
      assert.equal(created.status, 201);
      assert.deepEqual(await created.json(), { emitter: 'kms:url', jwks_url: url });

      const client = new EmitterClient({ endpoint: running.ingestUrl!, source: 'kms:url', privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' } as any, stateDir: tempDir() });
      const id = await client.emit(toolCall({ attrs: { provisioned: 'jwks-url' } }));
      const closed = await client.close();
      assert.equal(closed.pending, 0, 'ingest took the events: the ingest token verified against the published key');
      const row = await eventually(async () => (await get(`/v1/events?attr=provisioned:jwks-url`)).body.events?.[0], 'the event signed with the published key');
      assert.deepEqual([row.id, row.source, row.kid], [id, 'kms:url', kid]);
    } finally {
      jwks.closeAllConnections();
      jwks.close();
    }
  });

  test('rate limit per caller, with the documented error shape', async () => {
    // A second query API on the same storage with a small limit, so the
    // window cannot pass before the limit is reached, however slow the machine.
    const limitedApi = await startQueryApi({ ...ctx, config: { ...ctx.config, query: { ...ctx.config.query, rateLimit: 5 } } });
    try {
      const token = await idp.token({ sub: 'hasty', roles: ['analyst'], tenant: 'acme' });
      const statuses: number[] = [];
      let limited;
      for (let i = 0; i < 6; i++) {
        const answer = await api(limitedApi.queryUrl!, '/v1/emitters', token);
        statuses.push(answer.status);
        if (answer.status === 429) limited = answer;
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429], 'the sixth call in a minute is refused');
      assert.deepEqual(limited!.body.error.code, 'RATE_LIMITED');
      assert.equal(limited!.body.error.retriable, true);
      // Others are not affected.
      assert.equal((await api(limitedApi.queryUrl!, '/v1/emitters', acme)).status, 200);
    } finally {
      await limitedApi.close();
    }
  });

  test('OpenAPI document and browsable reference', async () => {
    const doc = await get('/openapi.json', null);
    assert.equal(doc.body.openapi.startsWith('3'), true);
    for (const path of ['/v1/events', '/v1/events/export', '/v1/humans/{sub}/activity', '/v1/agents/{id}/activity', '/v1/sessions/{id}/graph', '/v1/blast-radius', '/v1/findings', '/v1/emitters', '/v1/quarantine', '/v1/admin/access-log']) {
      assert.ok(doc.body.paths[path], path);
    }
    const ui = await fetch(`${q}/docs/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });
});
