// The CLI as a user runs it: `keys generate`, then `start` on the same
// DATA_DIR, then `emit` and `demo`, answered by the query API. Real processes,
// embedded storage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { tempDir, toolCall } from '../helpers/fixtures.js';
import { bin, LISTENING, listening, startService, type Service } from '../helpers/processes.js';
import { api } from '../helpers/services.js';

describe('actorlog CLI', { timeout: 120_000 }, () => {
  const dataDir = tempDir();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, INGEST_PORT: '0', QUERY_PORT: '0', LOG_LEVEL: 'warn', KAFKA_BROKERS: '' };
  delete env.ACTORLOG_ANALYST_TOKEN;
  const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8' });
  let server: Service | undefined;
  let ingest = '';
  let query = '';
  let token = '';

  before(async () => {
    const generated = run(['keys', 'generate', '--emitter', 'gw:cli']);
    assert.equal(generated.status, 0, generated.stderr);
    fs.writeFileSync(path.join(dataDir, 'gw.jwk'), generated.stdout, { mode: 0o600 });

    server = await startService(['start'], env, LISTENING);
    const out = server.output();
    const where = listening(out);
    ingest = where.ingest!.replace(/\/v1\/events$/, '');
    query = where.query_api!.replace(/\/v1\/events$/, '');
    assert.match(where.analyst_auth!, /^token in \S+analyst-token$/);
    token = fs.readFileSync(path.join(dataDir, 'analyst-token'), 'utf8').trim();
    assert.ok(!out.includes(token), 'the token itself is never printed');
  });

  after(() => server?.stop());

  test('the data folder and every engine file are the owner’s alone (0700 / 0600)', () => {
    const loose: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isSymbolicLink()) continue; // the engine's table links; their targets are walked
        if ((fs.lstatSync(full).mode & 0o077) !== 0) loose.push(`${full} ${(fs.lstatSync(full).mode & 0o777).toString(8)}`);
        if (entry.isDirectory()) walk(full);
      }
    };
    walk(path.join(dataDir, 'clickhouse'));
    assert.equal(fs.statSync(path.join(dataDir, 'clickhouse')).mode & 0o777, 0o700);
    assert.deepEqual(loose.filter((f) => !f.includes('gw.jwk')), []);
  });

  test('report verify without --jwks never creates a key where it runs', () => {
    const cwd = tempDir();
    fs.writeFileSync(path.join(cwd, 'r.csv'), 'a\r\n');
    fs.writeFileSync(path.join(cwd, 'r.manifest.jws'), 'x.y.z');
    const bare: NodeJS.ProcessEnv = { ...env };
    delete bare.DATA_DIR;
    const verified = spawnSync(process.execPath, [bin, 'report', 'verify', '--file', 'r.csv', '--manifest', 'r.manifest.jws'], { env: bare, cwd, encoding: 'utf8' });
    assert.equal(verified.status, 1);
    assert.match(verified.stderr, /--jwks/);
    assert.deepEqual(fs.readdirSync(cwd).sort(), ['r.csv', 'r.manifest.jws']);
  });

  test('keys generate prints a private JWK and registers only the public half', () => {
    const jwk = JSON.parse(fs.readFileSync(path.join(dataDir, 'gw.jwk'), 'utf8'));
    assert.equal(jwk.alg, 'EdDSA');
    assert.ok(jwk.d && jwk.kid);
    const registry = JSON.parse(fs.readFileSync(path.join(dataDir, 'keys', 'emitters.json'), 'utf8'));
    const [key] = registry.emitters['gw:cli'].keys;
    assert.equal(key.kid, jwk.kid);
    assert.equal(key.public_jwk.d, undefined);
  });

  test('emit signs events from stdin and they are queryable', async () => {
    const events = [toolCall({ context: { session_id: 'cli-1' } }), toolCall({ context: { session_id: 'cli-1' }, human: null })];
    const emitted = run(['emit', '--emitter', 'gw:cli', '--key', path.join(dataDir, 'gw.jwk'), '--endpoint', ingest, '-'], events.map((e) => JSON.stringify(e)).join('\n'));
    assert.equal(emitted.status, 0, emitted.stderr);
    const ids = emitted.stdout.trim().split('\n');
    assert.equal(ids.length, 2);

    const { body } = await api(query, '/v1/events?session=cli-1', token);
    assert.deepEqual(new Set(body.events.map((e: any) => e.id)), new Set(ids));
    const lost = body.events.find((e: any) => e.human_sub === '');
    assert.deepEqual(lost.flags, ['identity_context_loss']);
  });

  test('keys rotate, revoke and list: events signed with a revoked key are refused', async () => {
    const rotated = run(['keys', 'rotate', '--emitter', 'gw:rotating']);
    assert.equal(rotated.status, 0, rotated.stderr);
    const second = run(['keys', 'rotate', '--emitter', 'gw:rotating']);
    const kid1 = JSON.parse(rotated.stdout).kid;
    const kid2 = JSON.parse(second.stdout).kid;
    assert.equal(run(['keys', 'revoke', '--emitter', 'gw:rotating', `--kid=${kid2}`]).status, 0);
    const listed = run(['keys', 'list', '--emitter', 'gw:rotating']).stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(listed.map((l) => [l[1], l[3]]), [[kid1, 'retired'], [kid2, 'revoked']]);
    assert.ok(listed.every((l) => !l.join(' ').includes('"d"')), 'no private key material in the listing');

    fs.writeFileSync(path.join(dataDir, 'revoked.jwk'), second.stdout);
    // A revoked key no longer authenticates to ingest: nothing is sent, the event stays in the outbox.
    const emitted = run(['emit', '--emitter', 'gw:rotating', '--key', path.join(dataDir, 'revoked.jwk'), '--endpoint', ingest, '--state-dir', tempDir(), '-'], JSON.stringify(toolCall()));
    assert.equal(emitted.status, 2);
    assert.match(emitted.stderr, /not sent \(1 events kept in .*401 UNAUTHORIZED .*the key is revoked/);
  });

  test('keys import registers a KMS-held public key; sign prints a JWS that curl-style POSTs are stored from', async () => {
    // The private half stays with the "KMS" (here: this test); only the public JWK is imported.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const publicJwk = publicKey.export({ format: 'jwk' });
    assert.equal(run(['keys', 'import', '--emitter', 'gw:kms', '-'], JSON.stringify({ ...publicJwk, d: 'secret' })).status, 1, 'private members refused');
    const imported = run(['keys', 'import', '--emitter', 'gw:kms', '-'], JSON.stringify({ ...publicJwk, kid: 'kms-key-1' }));
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal(imported.stdout.trim(), 'kms-key-1');

    fs.writeFileSync(path.join(dataDir, 'kms.jwk'), JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'kms-key-1' }), { mode: 0o600 });
    const signed = run(['sign', '--emitter', 'gw:kms', '--key', path.join(dataDir, 'kms.jwk'), '--seq', '1', '--alg', 'Ed25519', '-'], JSON.stringify(toolCall({ context: { session_id: 'cli-kms' } })));
    assert.equal(signed.status, 0, signed.stderr);
    const jws = signed.stdout.trim();
    assert.match(jws, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const unauthenticated = await fetch(`${ingest}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
    assert.equal(unauthenticated.status, 401, 'ingest takes events only from an authenticated emitter');
    const printed = run(['ingest-token', '--emitter', 'gw:kms', '--key', path.join(dataDir, 'kms.jwk'), '--alg', 'Ed25519']);
    assert.equal(printed.status, 0, printed.stderr);
    const authorization = `Bearer ${printed.stdout.trim()}`;
    const posted = await fetch(`${ingest}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/jose', authorization }, body: jws });
    assert.equal(posted.status, 202, await posted.clone().text());
    const { id } = ((await posted.json()) as { accepted: { id: string }[] }).accepted[0]!;
    // Embedded mode answers 202 only once the event is stored.
    const { body } = await api(query, '/v1/events?session=cli-kms', token);
    assert.deepEqual(body.events.map((e: any) => [e.id, e.source, e.kid]), [[id, 'gw:kms', 'kms-key-1']]);
  });

  test('emit exits non-zero and names the event when ingest refuses it, 2 when ingest refuses the caller', () => {
    const wrongKey = run(['keys', 'generate', '--emitter', 'gw:other']).stdout;
    fs.writeFileSync(path.join(dataDir, 'other.jwk'), wrongKey);
    // gw:other's key claiming to be gw:cli: ingest refuses the caller, nothing is sent.
    const impostor = run(['emit', '--emitter', 'gw:cli', '--key', path.join(dataDir, 'other.jwk'), '--endpoint', ingest, '--state-dir', tempDir(), '-'], JSON.stringify(toolCall()));
    assert.equal(impostor.status, 2);
    assert.match(impostor.stderr, /401 UNAUTHORIZED .*no registered key of this emitter has this kid/);
    // Its own key, another tenant than it is registered for: the event is refused and named.
    const tenanted = run(['keys', 'generate', '--emitter', 'gw:tenanted', '--tenant', 'globex']).stdout;
    fs.writeFileSync(path.join(dataDir, 'tenanted.jwk'), tenanted);
    const emitted = run(['emit', '--emitter', 'gw:tenanted', '--key', path.join(dataDir, 'tenanted.jwk'), '--endpoint', ingest, '--state-dir', tempDir(), '-'], JSON.stringify(toolCall()));
    assert.equal(emitted.status, 1);
    assert.match(emitted.stderr, /rejected .*: tenant_not_allowed/);
  });

  test('demo sends traffic a new user can query: denials, an impersonation, delegated chains', async () => {
    const demo = run(['demo', '--endpoint', ingest]);
    assert.equal(demo.status, 0, demo.stderr);
    assert.match(demo.stdout, /demo: \d+ events accepted, 0 refused/);

    const denied = await api(query, '/v1/events?outcome=deny', token);
    assert.ok(denied.body.events.length >= 2);
    const impersonation = await api(query, '/v1/events?flag=impersonation', token);
    assert.deepEqual(impersonation.body.events.map((e: any) => [e.human_sub, e.agent_id]), [['u-carol', 'agent:support-bot']]);
    const chained = await api(query, '/v1/events?actor=agent:summarizer', token);
    assert.ok(chained.body.events.some((e: any) => e.human_sub === 'u-alice' && e.actor_chain.join('>') === 'agent:summarizer>agent:research-assistant'));
    const passthrough = await api(query, '/v1/events?flag=token_passthrough', token);
    assert.equal(passthrough.body.events.length, 1);
    const reused = await api(query, '/v1/events?flag=jti_reuse', token);
    assert.deepEqual(reused.body.events.map((e: any) => [e.token_jti, e.server_id]), [['jti-bob-crm', 'mcp:files']]);
    const afterLeaving = await api(query, '/v1/events?flag=after_revocation', token);
    assert.deepEqual(afterLeaving.body.events.map((e: any) => [e.human_sub, e.tool_name]), [['u-bob', 'github.read_repo']]);
    const exceeded = await api(query, '/v1/events?flag=scope_exceeded', token);
    assert.deepEqual(exceeded.body.events.map((e: any) => [e.tool_name, e.outcome]), [['crm.export_contacts', 'deny']]);
  });

  test('report run writes a file and its signed manifest; report verify proves them unaltered', async () => {
    const created = await fetch(`${query}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'denials', kind: 'denied_actions', tenant: 'acme', period: 'P1D', schedule: '0 6 * * *', format: 'csv' }),
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    // The embedded engine has one process per data folder: stop the service first.
    const stopped = await server!.stop();
    assert.ok(stopped.clean, `start stops cleanly on SIGTERM: ${JSON.stringify(stopped)}\n${server!.output().slice(-2000)}`);

    const out = tempDir();
    const ran = run(['report', 'run', '--id', id, '--out', out]);
    assert.equal(ran.status, 0, ran.stderr);
    const [file, manifest] = ran.stdout.trim().split('\n');
    assert.equal(fs.readFileSync(file!, 'utf8').trim().split('\r\n').length, 3, 'a header and the two denials');
    const verified = run(['report', 'verify', '--file', file!, '--manifest', manifest!]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /verified: denials \(denied_actions, tenant acme\)/);
    fs.appendFileSync(file!, 'x');
    const tampered = run(['report', 'verify', '--file', file!, '--manifest', manifest!]);
    assert.equal(tampered.status, 1);
    assert.match(tampered.stderr, /NOT VERIFIED/);
  });
});
