// Emitter hash chains: a withheld stretch shows as a chain break even when
// the later seq values were forged to look continuous, apart from sequence
// gaps; `actorlog verify` finds the same break in an export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { verifyExport } from '../../transparency/verify.js';
import { verifyReport } from '../../reports/signing.js';
import { generateNoteKey } from '../../lib/note/index.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import { fullEvent, registeredEmitter, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, eventually, post, rowsOf, testConfig } from '../helpers/services.js';

const digest = (jws: string) => createHash('sha256').update(jws).digest('hex');

describe('emitter hash chains', () => {
  let ctx: Context;
  let running: Running;
  let gateway: TestEmitter;
  const signed: { event: ActorlogEvent; jws: string }[] = [];

  // The emitter's own chain: seq 1..6, each naming its predecessor.
  const chained = async (seq: number, prev: string | undefined) => {
    const event = { ...fullEvent(gateway.source), seq, ...(prev ? { prev } : {}) } as ActorlogEvent;
    return { event, jws: await gateway.sign(event) };
  };
  const prevEventIdOf = async (id: string) =>
    (await rowsOf<{ prev_event_id: string }>(ctx, `SELECT prev_event_id FROM ${ctx.tables.events} FINAL WHERE id = {id:String}`, { id }))[0]?.prev_event_id;
  const flagsOf = async (id: string) => (await rowsOf<{ flags: string[] }>(ctx, `SELECT flags FROM ${ctx.tables.events} FINAL WHERE id = {id:String}`, { id }))[0]?.flags;

  before(async () => {
    const config = testConfig({ env: { LOG_CHECKPOINT_MS: '200' } });
    gateway = await registeredEmitter(config.keysFile, 'gw:chain');
    ctx = await context(config);
    running = await startAll(ctx);
    let prev: string | undefined;
    for (let seq = 1; seq <= 6; seq++) {
      const e = await chained(seq, prev);
      signed.push(e);
      prev = digest(e.jws);
    }
  });
  after(async () => {
    await running.close();
  });

  test('an unbroken chain raises nothing', async () => {
    assert.equal((await post(running.ingestUrl!, JSON.stringify({ events: signed.slice(0, 3).map((s) => s.jws) }), 'application/json')).status, 202);
    for (const s of signed.slice(0, 3)) assert.deepEqual(await flagsOf(s.event.id), []);
    // each verified link names its predecessor; the first event has none
    assert.deepEqual(
      await Promise.all(signed.slice(0, 3).map((s) => prevEventIdOf(s.event.id))),
      ['', signed[0]!.event.id, signed[1]!.event.id],
    );
  });

  test('seq 4 and 5 withheld, seq 6 renumbered 4: a chain break, not a gap', async () => {
    // The emitter's key signs what the one in the middle hands it: event 6's
    // content and prev, with seq 4 so the sequence looks continuous.
    const forged = { event: { ...signed[5]!.event, id: `${signed[5]!.event.id.slice(0, -4)}beef`, seq: 4 } as ActorlogEvent, jws: '' };
    forged.jws = await gateway.sign(forged.event);
    assert.equal((await post(running.ingestUrl!, forged.jws, 'application/jose')).status, 202);
    assert.deepEqual(await flagsOf(forged.event.id), ['chain_break']);
    assert.equal(await prevEventIdOf(forged.event.id), '', 'a broken link names no predecessor');
    const heads = await rowsOf<{ last_seq: number; last_id: string }>(ctx, `SELECT last_seq, last_id FROM ${ctx.tables.emitterChains} FINAL WHERE source = 'gw:chain'`);
    assert.deepEqual(heads.map((h) => ({ ...h, last_seq: Number(h.last_seq) })), [{ last_seq: 4, last_id: forged.event.id }]);
    const breaks = await rowsOf<{ source: string; seq: number; event_id: string; expected: string; got: string }>(ctx, `SELECT source, seq, event_id, expected, got FROM ${ctx.tables.chainBreaks} FINAL`);
    assert.deepEqual(breaks.map((b) => ({ ...b, seq: Number(b.seq) })), [
      { source: 'gw:chain', seq: 4, event_id: forged.event.id, expected: digest(signed[2]!.jws), got: digest(signed[4]!.jws) },
    ]);
    const gaps = await rowsOf(ctx, `SELECT * FROM ${ctx.tables.sequenceGaps} FINAL WHERE source = 'gw:chain'`);
    assert.equal(gaps.length, 0, 'the forged seq hides the gap; only the chain shows it');

    // The auditor finds the same break from an export alone.
    const note = await eventually(async () => {
      const res = await api(running.queryUrl!, '/v1/log/checkpoint');
      return res.status === 200 && (res.body as string).split('\n')[1] === '4' ? (res.body as string) : undefined;
    }, 'checkpoint 4');
    const key = ((await api(running.queryUrl!, '/v1/log/key')).body as string).trim();
    const exported = await (await fetch(`${running.queryUrl}/v1/log/export`, { headers: { authorization: 'Bearer test-analyst-token' } })).text();
    const verdict = verifyExport(exported.split('\n'), note, key);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.problems, [
      `emitter gw:chain: seq 4 (event ${forged.event.id}) does not chain to seq 3 (event ${signed[2]!.event.id}): events were withheld or replaced between them`,
    ]);
  });

  test('a real gap is a sequence gap, not a chain break', async () => {
    const late = await chained(9, digest(signed[5]!.jws));
    assert.equal((await post(running.ingestUrl!, late.jws, 'application/jose')).status, 202);
    assert.deepEqual(await flagsOf(late.event.id), ['sequence_gap']);
    assert.equal(await prevEventIdOf(late.event.id), '', 'across a gap the link is not checked, so names no predecessor');
  });

  test("a report's manifest states its coverage, and verifies with the log key", async () => {
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${running.queryUrl}${route}`, {
        method,
        headers: { authorization: 'Bearer test-analyst-token', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, text: await res.text() };
    };
    const created = await call('POST', '/v1/reports', { name: 'chain coverage', kind: 'denied_actions', tenant: 'acme', period: 'P1D', schedule: '0 6 * * 1', format: 'ndjson' });
    assert.equal(created.status, 201, created.text);
    const run = await call('POST', `/v1/reports/${JSON.parse(created.text).id}/run`);
    assert.equal(run.status, 201, run.text);
    const runId = JSON.parse(run.text).run_id as string;
    const file = Buffer.from((await call('GET', `/v1/reports/runs/${runId}/file`)).text);
    const manifest = (await call('GET', `/v1/reports/runs/${runId}/manifest`)).text;
    const jwks = JSON.parse((await call('GET', '/v1/reports/jwks')).text);
    const logKey = ((await api(running.queryUrl!, '/v1/log/key')).body as string).trim();

    const verdict = await verifyReport(file, manifest, jwks, logKey);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    const c = verdict.manifest.coverage!;
    assert.ok(c.checkpoint && c.checkpoint.size >= 4, 'names the checkpoint it was computed against');
    assert.deepEqual(c.emitters, [{ source: 'gw:chain', first_seq: 1, last_seq: 9, events: 5 }]);
    assert.deepEqual(c.chain_breaks.map((b) => b.seq), [4]);
    assert.deepEqual(c.gaps.map((g) => [g.gap_from, g.gap_to]), [[5, 8]]);
    assert.equal(c.quarantined, 0);
    const otherLog = generateNoteKey('actorlog.localhost/log').verifierKey;
    const wrong = await verifyReport(file, manifest, jwks, otherLog);
    assert.equal(wrong.ok, false);
    assert.match((wrong as { reason: string }).reason, /the manifest's checkpoint does not verify: the checkpoint is not signed by the log key/);
  });
});
