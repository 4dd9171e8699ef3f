// Retention and legal hold against the real engine: the expiry job removes a
// tenant's old events except what a hold covers, signs a record of what it
// removed, keeps every leaf, and `actorlog verify` (the real CLI, offline)
// reports expired rows as expired under that record, a row deleted past
// actorlog still as deleted, and refuses a forged record.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { leafHash, verifyInclusion } from '../../lib/merkle/index.js';
import { generateNoteKey, openNote, parseSignerKey, parseVerifierKey, signNote } from '../../lib/note/index.js';
import { expireAll } from '../../transparency/expiry.js';
import { parseExpiryRecord } from '../../transparency/expiry-record.js';
import { loadLogKey } from '../../transparency/log-key.js';
import { openCheckpoint } from '../../transparency/verify.js';
import { fullEvent, registeredEmitter, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { bin } from '../helpers/processes.js';
import { ANALYST_TOKEN, api, context, eventually, post, rowsOf, testConfig } from '../helpers/services.js';

const DAY = 86_400_000;

function verifyCli(...args: string[]): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, [bin, 'verify', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

async function send(base: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}`, { method: 'POST', headers: { authorization: `Bearer ${ANALYST_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('retention, legal hold and signed expiry records', () => {
  const dataDir = tempDir();
  const work = tempDir();
  const checkpointDir = path.join(tempDir(), 'published');
  const origin = 'test.example/retention';
  let ctx: Context;
  let running: Running;
  let ingest: string;
  let query: string;
  let gateway: TestEmitter;
  let keyFile: string;
  const ids = { expiring: [] as string[], held: [] as string[], bob: [] as string[], recent: [] as string[], globex: [] as string[], carol: [] as string[], ranged: [] as string[] };
  let recordId = '';

  const event = async (over: { tenant?: string; session?: string; human?: string; ageDays: number }) => {
    const e = fullEvent(gateway.source, {
      tenant: over.tenant ?? 'acme',
      ...(over.human ? { human: { sub: over.human, iss: 'https://login.acme.example' } } : {}),
      context: { session_id: over.session ?? 'sess-old' },
    });
    return { ...e, time: new Date(Date.now() - over.ageDays * DAY).toISOString() };
  };
  const leafCount = async () => Number((await rowsOf<{ n: number }>(ctx, `SELECT count() AS n FROM ${ctx.tables.database}.log_nodes FINAL WHERE level = 0`))[0]!.n);
  const storedIds = async () => new Set((await rowsOf<{ id: string }>(ctx, `SELECT id FROM ${ctx.tables.events} FINAL`)).map((r) => r.id));
  const checkpointOf = (size: number) =>
    eventually(async () => {
      const res = await api(query, '/v1/log/checkpoint');
      return res.status === 200 && (res.body as string).split('\n')[1] === String(size) ? (res.body as string) : undefined;
    }, `a checkpoint of size ${size}`);
  const exportTo = async (name: string) => {
    const res = await fetch(`${query}/v1/log/export`, { headers: { authorization: `Bearer ${ANALYST_TOKEN}` } });
    assert.equal(res.status, 200);
    const file = path.join(work, name);
    fs.writeFileSync(file, await res.text());
    return file;
  };
  const keyOfLog = () => loadLogKey(path.join(dataDir, 'keys', 'log-signing.key'), origin);

  before(async () => {
    const config = testConfig({ dataDir, env: { LOG_CHECKPOINT_MS: '200', LOG_CHECKPOINT_DIR: checkpointDir, LOG_ORIGIN: origin, RETENTION: 'acme=30', RETENTION_CHECK_MS: '3600000' } });
    gateway = await registeredEmitter(config.keysFile, 'gw:retention');
    ctx = await context(config);
    running = await startAll(ctx);
    ingest = running.ingestUrl!;
    query = running.queryUrl!;
    keyFile = path.join(work, 'log.key');
    fs.writeFileSync(keyFile, (await api(query, '/v1/log/key')).body as string);

    const plan: [keyof typeof ids, Parameters<typeof event>[0]][] = [
      ['expiring', { ageDays: 100 }],
      ['held', { ageDays: 90, session: 'sess-held' }],
      ['ranged', { ageDays: 80 }],
      ['bob', { ageDays: 70, human: 'u-bob' }],
      ['globex', { ageDays: 100, tenant: 'globex' }],
      ['held', { ageDays: 60, session: 'sess-held' }],
      ['expiring', { ageDays: 45 }],
      ['recent', { ageDays: 2 }],
      ['recent', { ageDays: 0 }],
      ['carol', { ageDays: 100, human: 'u-carol' }],
    ];
    const signed: string[] = [];
    for (const [kind, over] of plan) {
      const e = await event(over);
      ids[kind].push(e.id);
      signed.push(await gateway.sign(e));
    }
    const res = await post(ingest, JSON.stringify({ events: signed }), 'application/json');
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await checkpointOf(plan.length);
  });
  after(async () => {
    await running.close();
  });

  test('holds are placed and released through the admin API, every one kept with who, when and why', async () => {
    const session = await send(`${query}/v1/holds`, { tenant: 'acme', session_id: 'sess-held', reason: 'litigation 2026-117' });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    assert.equal(session.body.session_id, 'sess-held');
    assert.equal(session.body.created_by.length > 0, true);
    const carol = await send(`${query}/v1/holds`, { tenant: 'acme', human_sub: 'u-carol', reason: 'regulator request' });
    assert.equal(carol.status, 201, JSON.stringify(carol.body));
    const range = await send(`${query}/v1/holds`, { tenant: 'acme', from: new Date(Date.now() - 85 * DAY).toISOString(), to: new Date(Date.now() - 75 * DAY).toISOString(), reason: 'audit of Q3' });
    assert.equal(range.status, 201, JSON.stringify(range.body));
    assert.equal((await send(`${query}/v1/holds`, { tenant: 'acme', from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z', reason: 'backwards' })).status, 400);
    const bob = await send(`${query}/v1/holds`, { tenant: 'acme', human_sub: 'u-bob', reason: 'HR inquiry' });
    assert.equal(bob.status, 201);
    const released = await send(`${query}/v1/holds/${bob.body.hold_id}/release`, { reason: 'inquiry closed' });
    assert.equal(released.status, 200, JSON.stringify(released.body));
    assert.equal(released.body.release_reason, 'inquiry closed');
    assert.ok(released.body.released_at);
    const again = await send(`${query}/v1/holds/${bob.body.hold_id}/release`, { reason: 'twice' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'HOLD_RELEASED');
    assert.equal((await send(`${query}/v1/holds`, { tenant: 'acme', reason: '' })).status, 400, 'a hold needs a reason');

    const listed = await api(query, '/v1/holds?tenant=acme');
    assert.equal(listed.status, 200);
    const all = [session, carol, range, bob].map((h) => h.body.hold_id as string);
    assert.deepEqual(listed.body.holds.map((h: { hold_id: string }) => h.hold_id).sort(), [...all].sort(), 'a released hold stays on record');
    const active = await api(query, '/v1/holds?tenant=acme&active=true');
    assert.deepEqual(active.body.holds.map((h: { hold_id: string }) => h.hold_id).sort(), all.slice(0, 3).sort());
    // Every call is in the access log.
    const calls = await eventually(async () => {
      const res = await api(query, '/v1/admin/access-log?route=/v1/holds/:id/release');
      return res.body.calls?.length === 2 ? res.body.calls : undefined;
    }, 'the releases in the access log');
    assert.equal(calls.length, 2);
  });

  test('the API has no route that deletes events, holds or the log', async () => {
    const doc = await api(query, '/openapi.json', null);
    for (const [route, methods] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      if (/^\/v1\/(events|log|holds|admin\/expiry)/.test(route)) assert.equal('delete' in methods, false, route);
    }
  });

  test('expiry removes the old unheld events, signs a record, and keeps every leaf', async () => {
    const done = await expireAll({ storage: ctx.storage, tables: ctx.tables, key: keyOfLog(), dir: checkpointDir }, ctx.config.retention);
    assert.equal(done.length, 1);
    assert.equal(done[0]!.tenant, 'acme');
    assert.equal(done[0]!.count, ids.expiring.length + ids.bob.length);
    recordId = done[0]!.record_id;

    const stored = await storedIds();
    for (const id of [...ids.expiring, ...ids.bob]) assert.equal(stored.has(id), false, `${id} expired`);
    for (const id of [...ids.held, ...ids.recent, ...ids.globex, ...ids.carol, ...ids.ranged]) assert.equal(stored.has(id), true, `${id} kept`);
    assert.equal(await leafCount(), 10, 'the leaves stay');

    // The record: in ClickHouse (through the API) and beside the checkpoints, signed by the log key.
    const listed = await api(query, '/v1/admin/expiry-records?tenant=acme');
    assert.equal(listed.body.records.length, 1);
    const note = listed.body.records[0].note as string;
    const file = path.join(checkpointDir, `expiry-${recordId}.note`);
    assert.equal(fs.readFileSync(file, 'utf8'), note);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const record = parseExpiryRecord(openNote(note, [parseVerifierKey(fs.readFileSync(keyFile, 'utf8').trim())]).text);
    assert.equal(record.tenant, 'acme');
    assert.equal(record.checkpoint.size, 10);
    assert.deepEqual(record.leaves, [0, 3, 6]);

    // A second run finds nothing more to expire.
    assert.deepEqual(await expireAll({ storage: ctx.storage, tables: ctx.tables, key: keyOfLog(), dir: checkpointDir }, ctx.config.retention), []);
  });

  test('an export after expiry verifies offline: expired rows named under their record, proofs of the rest valid', async () => {
    const note = await checkpointOf(10);
    const cpFile = path.join(work, 'cp-10');
    fs.writeFileSync(cpFile, note);
    const result = verifyCli('--key', keyFile, '--checkpoint', cpFile, '--export', await exportTo('expired.ndjson'));
    assert.equal(result.status, 0, result.out);
    assert.match(result.out, new RegExp(`leaf 0 \\(event ${ids.expiring[0]}, tenant acme\\) expired under record ${recordId}`));
    assert.match(result.out, /7 of 10 leaves proven, 3 expired under signed records/);
    assert.match(result.out, /VERIFIED/);

    // The same export without its records: the copies written beside the
    // checkpoints (--records) prove the expiry; without them, rows are deleted.
    const bare = path.join(work, 'bare.ndjson');
    fs.writeFileSync(bare, fs.readFileSync(path.join(work, 'expired.ndjson'), 'utf8').split('\n').filter((l) => !l.startsWith('{"expiry_record"')).join('\n'));
    const withCopies = verifyCli('--key', keyFile, '--checkpoint', cpFile, '--export', bare, '--records', checkpointDir);
    assert.equal(withCopies.status, 0, withCopies.out);
    assert.match(withCopies.out, new RegExp(`expired under record ${recordId}`));
    const without = verifyCli('--key', keyFile, '--checkpoint', cpFile, '--export', bare);
    assert.equal(without.status, 1, without.out);
    assert.match(without.out, new RegExp(`FAILED: leaf 0 logs event ${ids.expiring[0]}, which the database no longer holds: it was deleted`));

    // An inclusion proof of a held event, from the API, still verifies.
    const held = ids.held[0]!;
    const res = await api(query, `/v1/events/${held}/proof`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const cp = openCheckpoint(res.body.checkpoint, fs.readFileSync(keyFile, 'utf8'));
    const jws = (await rowsOf<{ raw_jws: string }>(ctx, `SELECT raw_jws FROM ${ctx.tables.events} FINAL WHERE id = {id:String}`, { id: held }))[0]!.raw_jws;
    assert.ok(verifyInclusion(res.body.leaf_index, cp.size, leafHash(Buffer.from(jws)), res.body.proof.map((p: string) => Buffer.from(p, 'base64')), cp.root));
  });

  test('a row deleted directly in ClickHouse is still named deleted, beside the expired ones', async () => {
    const victim = ids.recent[0]!;
    await ctx.storage.command({ query: `DELETE FROM ${ctx.tables.events} WHERE id = {id:String}`, query_params: { id: victim } });
    const cpFile = path.join(work, 'cp-10');
    const result = verifyCli('--key', keyFile, '--checkpoint', cpFile, '--export', await exportTo('deleted.ndjson'));
    assert.equal(result.status, 1, result.out);
    assert.match(result.out, new RegExp(`FAILED: leaf 7 logs event ${victim}, which the database no longer holds: it was deleted`));
    assert.match(result.out, new RegExp(`expired under record ${recordId}`));
    assert.doesNotMatch(result.out, /leaf 0 logs event .* it was deleted/);
  });

  test('a forged expiry record is refused and the row it would cover stays deleted', async () => {
    const exported = fs.readFileSync(path.join(work, 'deleted.ndjson'), 'utf8').split('\n');
    const genuine = JSON.parse(exported[1]!).expiry_record as string;
    const text = genuine.slice(0, genuine.lastIndexOf('\n\n') + 1);
    // The same statement about leaf 7, signed by a key with the log's name that is not the log key.
    const impostor = parseSignerKey(generateNoteKey(origin).signerKey);
    const forgedText = text.replace(/^count .*$/m, 'count 1').replace(/^leaves .*$/m, 'leaves 7');
    const forged = signNote(forgedText, [impostor]);
    // And the genuine record with its leaves changed under the log key's signature.
    const altered = genuine.replace(/^leaves .*$/m, 'leaves 0,3,6-7').replace(/^count .*$/m, 'count 4');
    const file = path.join(work, 'forged.ndjson');
    fs.writeFileSync(file, [exported[0], JSON.stringify({ expiry_record: forged }), JSON.stringify({ expiry_record: altered }), ...exported.slice(1)].join('\n'));
    const result = verifyCli('--key', keyFile, '--checkpoint', path.join(work, 'cp-10'), '--export', file);
    assert.equal(result.status, 1, result.out);
    const refusals = result.out.match(/an expiry record in the export is not signed by the log key .*: refused/g) ?? [];
    assert.equal(refusals.length, 2, result.out);
    assert.match(result.out, /FAILED: leaf 7 logs event .*: it was deleted/);
  });

  test('a released hold lets the next run expire what it held, under a second record', async () => {
    const holds = await api(query, '/v1/holds?tenant=acme&active=true');
    const hold = holds.body.holds.find((h: { session_id: string | null }) => h.session_id === 'sess-held').hold_id as string;
    assert.equal((await send(`${query}/v1/holds/${hold}/release`, { reason: 'case settled' })).status, 200);
    const done = await expireAll({ storage: ctx.storage, tables: ctx.tables, key: keyOfLog(), dir: checkpointDir }, ctx.config.retention);
    assert.equal(done.length, 1);
    assert.equal(done[0]!.count, ids.held.length);
    const stored = await storedIds();
    for (const id of ids.held) assert.equal(stored.has(id), false);
    for (const id of [...ids.carol, ...ids.ranged]) assert.equal(stored.has(id), true, 'the holds still in force keep theirs');
    assert.equal(stored.has(ids.globex[0]!), true, 'a tenant without retention keeps everything');
  });
});

describe('the expiry job runs on its own where the log is appended', () => {
  let running: Running;
  let ctx: Context;
  after(async () => {
    await running?.close();
  });

  test('with RETENTION set, an old event expires under a record without anyone asking', async () => {
    const config = testConfig({ env: { LOG_CHECKPOINT_MS: '200', RETENTION: 'acme=30', RETENTION_CHECK_MS: '300' } });
    const gateway = await registeredEmitter(config.keysFile, 'gw:retention-job');
    ctx = await context(config);
    running = await startAll(ctx);
    const old = { ...fullEvent(gateway.source), time: new Date(Date.now() - 40 * DAY).toISOString() };
    const fresh = fullEvent(gateway.source);
    const res = await post(running.ingestUrl!, JSON.stringify({ events: [await gateway.sign(old), await gateway.sign(fresh)] }), 'application/json');
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const records = await eventually(async () => {
      const listed = await api(running.queryUrl!, '/v1/admin/expiry-records?tenant=acme');
      return listed.body.records?.length > 0 ? listed.body.records : undefined;
    }, 'an expiry record');
    assert.equal(records[0].count, 1);
    const ids = (await rowsOf<{ id: string }>(ctx, `SELECT id FROM ${ctx.tables.events} FINAL`)).map((r) => r.id);
    assert.deepEqual(ids, [fresh.id]);
    assert.equal(Number((await rowsOf<{ n: number }>(ctx, `SELECT count() AS n FROM ${ctx.tables.database}.log_nodes WHERE level = 0`))[0]!.n), 2);
  });
});
