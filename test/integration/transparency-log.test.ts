// The transparency log end to end in embedded mode: events stored through
// ingest become leaves once each, checkpoints are signed and written outside
// ClickHouse, the API serves proofs that verify, and `actorlog verify` (the
// real CLI, offline) catches a row deleted, altered or forged directly in
// ClickHouse and a rewritten history.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../lib/merkle/index.js';
import { cosignatureSigner, formatCheckpoint, generateNoteKey, openNote, parseCosignatureVerifierKey, parseVerifierKey, signNote } from '../../lib/note/index.js';
import { loadLogKey } from '../../transparency/log-key.js';
import { openCheckpoint } from '../../transparency/verify.js';
import { storedConsistencyProof, storedRoot } from '../../transparency/stored-proofs.js';
import { fullEvent, registeredEmitter, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { bin } from '../helpers/processes.js';
import { testIdp } from '../helpers/idp.js';
import { api, context, eventually, post, rowsOf, testConfig } from '../helpers/services.js';

function verifyCli(...args: string[]): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, [bin, 'verify', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('transparency log', () => {
  const dataDir = tempDir();
  const work = tempDir();
  const checkpointDir = path.join(tempDir(), 'published');
  let ctx: Context;
  let running: Running;
  let ingest: string;
  let query: string;
  let gateway: TestEmitter;
  let keyFile: string;
  const sent: { id: string; jws: string }[] = [];

  const send = async (n: number) => {
    const batch = await Promise.all(
      Array.from({ length: n }, async () => {
        const event = fullEvent(gateway.source);
        return { id: event.id, jws: await gateway.sign(event) };
      }),
    );
    const res = await post(ingest, JSON.stringify({ events: batch.map((b) => b.jws) }), 'application/json');
    assert.equal(res.status, 202, JSON.stringify(res.body));
    sent.push(...batch);
    return batch;
  };
  const leafCount = async () => Number((await rowsOf<{ n: number }>(ctx, `SELECT count() AS n FROM ${ctx.tables.database}.log_nodes FINAL WHERE level = 0`))[0]!.n);
  const checkpointOf = (size: number) =>
    eventually(async () => {
      const res = await api(query, '/v1/log/checkpoint');
      return res.status === 200 && (res.body as string).split('\n')[1] === String(size) ? (res.body as string) : undefined;
    }, `a checkpoint of size ${size}`);
  const exportTo = async (name: string) => {
    const res = await fetch(`${query}/v1/log/export`, { headers: { authorization: 'Bearer test-analyst-token' } });
    assert.equal(res.status, 200);
    const file = path.join(work, name);
    fs.writeFileSync(file, await res.text());
    return file;
  };
  const sql = (statement: string, params: Record<string, unknown> = {}) => ctx.storage.command({ query: statement, query_params: params, clickhouse_settings: { mutations_sync: '2' } });

  before(async () => {
    const config = testConfig({ dataDir, env: { LOG_CHECKPOINT_MS: '200', LOG_CHECKPOINT_DIR: checkpointDir, LOG_ORIGIN: 'test.example/actorlog' } });
    gateway = await registeredEmitter(config.keysFile, 'gw:log');
    ctx = await context(config);
    running = await startAll(ctx);
    ingest = running.ingestUrl!;
    query = running.queryUrl!;
    keyFile = path.join(work, 'log.key');
    fs.writeFileSync(keyFile, (await api(query, '/v1/log/key')).body as string);
  });
  after(async () => {
    await running.close();
  });

  test('each stored event is one leaf, once, however often it is delivered', async () => {
    const first = await send(5);
    await send(4);
    // The same events again, in one batch and one at a time: accepted, not logged twice.
    assert.equal((await post(ingest, JSON.stringify({ events: first.map((b) => b.jws) }), 'application/json')).status, 202);
    assert.equal((await post(ingest, first[0]!.jws, 'application/jose')).status, 202);
    assert.equal(await leafCount(), 9);
    const leaves = await rowsOf<{ idx: number; event_id: string; hash: string }>(ctx, `SELECT idx, event_id, hash FROM ${ctx.tables.database}.log_nodes FINAL WHERE level = 0 ORDER BY idx`);
    assert.deepEqual(leaves.map((l) => l.event_id), sent.map((s) => s.id), 'leaves in storage order');
    assert.deepEqual(leaves.map((l) => l.hash), sent.map((s) => leafHash(Buffer.from(s.jws)).toString('hex')), 'a leaf is the hash of the signed bytes');
  });

  test('checkpoints are signed with the log key and written outside ClickHouse, 0600', async () => {
    const note = await checkpointOf(9);
    const key = ((await api(query, '/v1/log/key')).body as string).trim();
    assert.match(key, /^test\.example\/actorlog\+[0-9a-f]{8}\+/);
    const cp = openCheckpoint(note, key);
    assert.equal(cp.size, 9);
    const file = path.join(checkpointDir, '9.checkpoint');
    assert.equal(fs.readFileSync(file, 'utf8'), note);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(checkpointDir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dataDir, 'keys', 'log-signing.key')).mode & 0o777, 0o600);
  });

  test('an inclusion proof from the API verifies against the checkpoint it names', async () => {
    const note = await checkpointOf(9);
    const key = fs.readFileSync(keyFile, 'utf8');
    const target = sent[6]!;
    const res = await api(query, `/v1/events/${target.id}/proof`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.leaf_index, 6);
    assert.equal(res.body.checkpoint, note);
    const cp = openCheckpoint(res.body.checkpoint, key);
    const proof = (res.body.proof as string[]).map((p) => Buffer.from(p, 'base64'));
    assert.ok(verifyInclusion(6, cp.size, leafHash(Buffer.from(target.jws)), proof, cp.root));
    assert.equal(verifyInclusion(6, cp.size, leafHash(Buffer.from(`${target.jws}x`)), proof, cp.root), false);
    assert.equal((await api(query, '/v1/events/no-such-event/proof')).status, 404);
  });

  test('an untouched export verifies offline', async () => {
    const note = await checkpointOf(9);
    const cpFile = path.join(work, 'cp-9');
    fs.writeFileSync(cpFile, note);
    const result = verifyCli('--key', keyFile, '--checkpoint', cpFile, '--export', await exportTo('clean.ndjson'));
    assert.equal(result.status, 0, result.out);
    assert.match(result.out, /9 of 9 leaves proven/);
    assert.match(result.out, /VERIFIED/);
  });

  test('actorlog witness co-signs each checkpoint that extends the last it saw', async () => {
    const stateDir = path.join(work, 'witness');
    const tokenFile = path.join(work, 'token');
    fs.writeFileSync(tokenFile, 'test-analyst-token');
    // Asynchronous: the query API it calls runs in this process.
    const witness = () =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [bin, 'witness', '--log', query, '--log-key', keyFile, '--state', stateDir, '--token-file', tokenFile, '--once'], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    await checkpointOf(9);
    const first = await witness();
    assert.equal(first.status, 0, `${first.stdout}${first.stderr}`);
    assert.match(first.stdout, /co-signed checkpoint size 9/);
    const witnessKey = /witness key (\S+)/.exec(first.stdout)![1]!;
    await send(2);
    await checkpointOf(11);
    const second = await witness();
    assert.equal(second.status, 0, `${second.stdout}${second.stderr}`);
    assert.match(second.stdout, /co-signed checkpoint size 11/);
    const cosigned = fs.readFileSync(path.join(stateDir, 'latest.cosigned'), 'utf8');
    const opened = openNote(cosigned, [parseVerifierKey(fs.readFileSync(keyFile, 'utf8').trim()), parseCosignatureVerifierKey(witnessKey)]);
    assert.equal(opened.verified.length, 2);
    // The auditor's side: the checkpoint carries this witness's C2SP cosignature, not another's.
    const cosignedFile = path.join(work, 'cosigned');
    fs.writeFileSync(cosignedFile, cosigned);
    const checked = verifyCli('--key', keyFile, '--checkpoint', cosignedFile, '--witness', witnessKey);
    assert.equal(checked.status, 0, checked.out);
    assert.match(checked.out, /witness actorlog-witness co-signed checkpoint size 11 at 20\d\d-/);
    const stranger = cosignatureSigner(generateNoteKey('actorlog-witness').signerKey).verifierKey;
    const refused = verifyCli('--key', keyFile, '--checkpoint', cosignedFile, '--witness', stranger);
    assert.equal(refused.status, 1, refused.out);
    assert.match(refused.out, /FAILED: witness actorlog-witness has not co-signed this checkpoint/);
    assert.equal(fs.statSync(path.join(stateDir, 'witness.key')).mode & 0o777, 0o600);
  });

  test('a newer checkpoint extends the older; a rewritten history does not', async () => {
    const olderNote = await checkpointOf(11);
    await send(4);
    const newerNote = await checkpointOf(15);
    const res = await api(query, '/v1/log/consistency?from=11&to=15');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [older, newer, proofFile] = ['older', 'newer', 'proof.json'].map((n) => path.join(work, n)) as [string, string, string];
    fs.writeFileSync(older, olderNote);
    fs.writeFileSync(newer, newerNote);
    fs.writeFileSync(proofFile, JSON.stringify(res.body));
    const good = verifyCli('--key', keyFile, '--checkpoint', newer, '--old', older, '--proof', proofFile);
    assert.equal(good.status, 0, good.out);
    assert.match(good.out, /checkpoint size 15 extends checkpoint size 11/);

    // Someone with the database and the log key rewrites leaf 2 and the nodes
    // above it, and signs a checkpoint over the result.
    await sql(`ALTER TABLE ${ctx.tables.database}.log_nodes UPDATE hash = {h:String} WHERE level = 0 AND idx = 2`, { h: leafHash(Buffer.from('rewritten')).toString('hex') });
    const rows = await rowsOf<{ level: number; idx: number }>(ctx, `SELECT level, idx FROM ${ctx.tables.database}.log_nodes FINAL WHERE level > 0 AND idx * pow(2, level) <= 2 AND (idx + 1) * pow(2, level) > 2 ORDER BY level`);
    for (const r of rows) {
      const [left, right] = await rowsOf<{ hash: string }>(ctx, `SELECT hash FROM ${ctx.tables.database}.log_nodes FINAL WHERE level = {l:UInt8} AND idx IN ({a:UInt64}, {b:UInt64}) ORDER BY idx`, { l: Number(r.level) - 1, a: Number(r.idx) * 2, b: Number(r.idx) * 2 + 1 });
      const { nodeHash } = await import('../../lib/merkle/index.js');
      await sql(`ALTER TABLE ${ctx.tables.database}.log_nodes UPDATE hash = {h:String} WHERE level = {l:UInt8} AND idx = {i:UInt64}`, {
        h: nodeHash(Buffer.from(left!.hash, 'hex'), Buffer.from(right!.hash, 'hex')).toString('hex'),
        l: Number(r.level),
        i: Number(r.idx),
      });
    }
    const key = loadLogKey(path.join(dataDir, 'keys', 'log-signing.key'), 'test.example/actorlog');
    const forgedRoot = await storedRoot(ctx.storage, ctx.tables, 15);
    assert.notEqual(forgedRoot.toString('hex'), openCheckpoint(newerNote, key.verifierKey).root.toString('hex'), 'the rewrite changed the root');
    const forgedNote = signNote(formatCheckpoint({ origin: key.origin, size: 15, root: forgedRoot, extensions: [] }), [key.signer]);
    const forgedProof = await storedConsistencyProof(ctx.storage, ctx.tables, 11, 15);
    assert.equal(verifyConsistency(11, 15, forgedProof, openCheckpoint(olderNote, key.verifierKey).root, forgedRoot), false);
    fs.writeFileSync(newer, forgedNote);
    fs.writeFileSync(proofFile, JSON.stringify({ proof: forgedProof.map((h) => h.toString('base64')) }));
    const bad = verifyCli('--key', keyFile, '--checkpoint', newer, '--old', older, '--proof', proofFile);
    assert.equal(bad.status, 1, bad.out);
    assert.match(bad.out, /FAILED: checkpoint size 15 is not an extension of checkpoint size 11: the log's history was rewritten/);
  });
});

describe('tampering in ClickHouse, caught by actorlog verify', () => {
  const dataDir = tempDir();
  const work = tempDir();
  let ctx: Context;
  let running: Running;
  let query: string;
  let keyFile: string;
  let cpFile: string;
  const sent: { id: string; jws: string }[] = [];

  const sql = (statement: string, params: Record<string, unknown> = {}) => ctx.storage.command({ query: statement, query_params: params, clickhouse_settings: { mutations_sync: '2' } });
  const verifyNow = async () => {
    const res = await fetch(`${query}/v1/log/export?size=8`, { headers: { authorization: 'Bearer test-analyst-token' } });
    assert.equal(res.status, 200);
    const file = path.join(work, `export-${Date.now()}.ndjson`);
    fs.writeFileSync(file, await res.text());
    return verifyCli('--key', keyFile, '--checkpoint', cpFile, '--export', file);
  };

  before(async () => {
    const config = testConfig({ dataDir, env: { LOG_CHECKPOINT_MS: '200', LOG_CHECKPOINT_DIR: path.join(work, 'published') } });
    const gateway = await registeredEmitter(config.keysFile, 'gw:tamper');
    ctx = await context(config);
    running = await startAll(ctx);
    query = running.queryUrl!;
    for (let i = 0; i < 8; i++) {
      const event = fullEvent(gateway.source);
      sent.push({ id: event.id, jws: await gateway.sign(event) });
    }
    assert.equal((await post(running.ingestUrl!, JSON.stringify({ events: sent.map((s) => s.jws) }), 'application/json')).status, 202);
    const note = await eventually(async () => {
      const res = await api(query, '/v1/log/checkpoint?size=8');
      return res.status === 200 ? (res.body as string) : undefined;
    }, 'checkpoint 8');
    keyFile = path.join(work, 'log.key');
    cpFile = path.join(work, 'cp-8');
    fs.writeFileSync(keyFile, (await api(query, '/v1/log/key')).body as string);
    fs.writeFileSync(cpFile, note);
    const clean = await verifyNow();
    assert.equal(clean.status, 0, clean.out);
  });
  after(async () => {
    await running.close();
  });

  test('a row deleted directly in ClickHouse', async () => {
    await sql(`ALTER TABLE ${ctx.tables.events} DELETE WHERE id = {id:String}`, { id: sent[3]!.id });
    const result = await verifyNow();
    assert.equal(result.status, 1, result.out);
    assert.match(result.out, new RegExp(`FAILED: leaf 3 logs event ${sent[3]!.id}, which the database no longer holds: it was deleted`));
  });

  test('a row altered directly in ClickHouse', async () => {
    const [header, payload, signature] = sent[5]!.jws.split('.') as [string, string, string];
    const event = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const altered = `${header}.${Buffer.from(JSON.stringify({ ...event, human: { sub: 'u-mallory', iss: 'https://login.acme.example' } })).toString('base64url')}.${signature}`;
    await sql(`ALTER TABLE ${ctx.tables.events} UPDATE raw_jws = {jws:String} WHERE id = {id:String}`, { jws: altered, id: sent[5]!.id });
    const result = await verifyNow();
    assert.equal(result.status, 1, result.out);
    assert.match(result.out, new RegExp(`FAILED: leaf 5 \\(event ${sent[5]!.id}\\): the stored signed bytes are not the ones logged: the event was altered after it was stored`));
  });

  test('a row inserted directly in ClickHouse', async () => {
    const forgedId = '01900000-0000-7000-8000-00000000f0f0';
    // A copy of a real row under a new id, written with ClickHouse's own client.
    const [row] = await rowsOf<Record<string, unknown>>(ctx, `SELECT * FROM ${ctx.tables.events} WHERE id = {id:String}`, { id: sent[0]!.id });
    await ctx.storage.insert({ table: ctx.tables.events, values: [{ ...row, id: forgedId }], format: 'JSONEachRow' });
    const result = await verifyNow();
    assert.equal(result.status, 1, result.out);
    assert.match(result.out, new RegExp(`FAILED: event ${forgedId} \\(tenant acme\\) is stored but is not in the log: it was written to the database past actorlog`));
  });
});

describe('Kafka mode: the processor appends, proofs stay within the tenants of the caller', () => {
  let ctx: Context;
  let running: Running;

  before(async () => {
    const idp = await testIdp();
    const config = testConfig({ kafka: true, env: { ...idp.env, LOG_CHECKPOINT_MS: '200' } });
    const gateway = await registeredEmitter(config.keysFile, 'gw:kafka-log');
    ctx = await context(config);
    running = await startAll(ctx);
    const acmeEvent = fullEvent(gateway.source);
    const globexEvent = fullEvent(gateway.source, { tenant: 'globex' });
    const jws = [await gateway.sign(acmeEvent), await gateway.sign(globexEvent)];
    assert.equal((await post(running.ingestUrl!, JSON.stringify({ events: jws }), 'application/json')).status, 202);
    Object.assign(state, { idp, acme: acmeEvent.id, globex: globexEvent.id, jws });
  });
  after(async () => {
    await running.close();
  });
  const state = {} as { idp: Awaited<ReturnType<typeof testIdp>>; acme: string; globex: string; jws: string[] };

  test('both events logged by the processor, a proof for an event of the caller only, hashes only', async () => {
    const ann = await state.idp.token({ sub: 'analyst-ann', roles: ['analyst'], tenant: 'acme' });
    const proof = await eventually(async () => {
      const res = await api(running.queryUrl!, `/v1/events/${state.acme}/proof`, ann);
      return res.status === 200 ? res.body : undefined;
    }, 'an inclusion proof from the Kafka processor', 60_000);
    assert.deepEqual(Object.keys(proof).sort(), ['checkpoint', 'id', 'leaf_hash', 'leaf_index', 'proof', 'tree_size']);
    assert.equal(proof.tree_size, 2);
    const key = ((await api(running.queryUrl!, '/v1/log/key', ann)).body as string).trim();
    const cp = openCheckpoint(proof.checkpoint, key);
    const mine = state.jws[proof.leaf_index === 0 ? 0 : 1]!;
    assert.ok(verifyInclusion(proof.leaf_index, cp.size, leafHash(Buffer.from(mine)), (proof.proof as string[]).map((p) => Buffer.from(p, 'base64')), cp.root));
    assert.equal((await api(running.queryUrl!, `/v1/events/${state.globex}/proof`, ann)).status, 404, 'an event of another tenant is not found');
    const acmeAdmin = await state.idp.token({ sub: 'admin-ada', roles: ['admin'], tenant: 'acme' });
    assert.equal((await api(running.queryUrl!, '/v1/log/export', acmeAdmin)).status, 403, 'the export spans every tenant');
  });
});
