// The processor's memory across batches and restarts, against the real
// ClickHouse engine: replayed ids, sequence gaps and late arrivals, silence,
// revocations, token reuse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProcessorState, prepareBatch, storeBatch, type Batch, type BatchDeps } from '../../processor/batch.js';
import { KeyResolver } from '../../processor/key-resolver.js';
import { markSilentEmitters } from '../../store/state/sequences.js';
import type { Context } from '../../cli/services.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import { fullEvent, registeredEmitter, type TestEmitter } from '../helpers/fixtures.js';
import { context, rowsOf, testConfig } from '../helpers/services.js';

// Long enough that no test here sees its emitter go quiet between two events,
// however slow the machine; the silence test uses a short one of its own.
const SILENT_AFTER_MS = 60_000;
const QUIET_AFTER_MS = 2_000;

describe('processor state', () => {
  let ctx: Context;
  let deps: BatchDeps;
  let emitter: TestEmitter;
  let seq = 0;

  const fresh = () => {
    deps = {
      storage: ctx.storage,
      tables: ctx.tables,
      keys: new KeyResolver(ctx.config.keysFile),
      eventMaxBytes: 65536,
      skew: { futureMs: 300_000, pastMs: 86_400_000 },
      // A new state object is what a restarted processor starts from.
      state: createProcessorState(ctx.storage, ctx.tables, { ...ctx.config.processor, emitterSilentAfterMs: SILENT_AFTER_MS }),
    };
  };
  const run = async (jwsList: string[], receivedAt = Date.now()): Promise<Batch> => {
    const batch = await prepareBatch(jwsList.map((jws) => ({ value: Buffer.from(jws), receivedAt })), deps);
    await storeBatch(ctx.storage, ctx.tables, batch);
    batch.commit();
    return batch;
  };
  const event = (overrides: Partial<ActorlogEvent> = {}): ActorlogEvent => ({ ...fullEvent(emitter.source), seq: ++seq, ...overrides }) as ActorlogEvent;
  const flagsOf = (batch: Batch) => batch.rows.map((r) => r.flags);
  const one = async (e: ActorlogEvent, receivedAt?: number) => (await run([await emitter.sign(e)], receivedAt)).rows[0]?.flags ?? [];

  before(async () => {
    const config = testConfig();
    emitter = await registeredEmitter(config.keysFile, 'gw:state');
    ctx = await context(config);
    fresh();
  });
  after(() => ctx.storage.close());

  test('the same event delivered twice is stored once and answered as accepted both times', async () => {
    const jws = await emitter.sign(event());
    const first = await run([jws, jws]);
    assert.equal(first.rows.length, 1);
    assert.equal(first.redelivered, 1);
    const again = await run([jws]);
    assert.equal(again.rows.length, 0);
    assert.deepEqual(again.outcomes.map((o) => o.ok), [true]);
    const id = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).id;
    const rows = await rowsOf(ctx, `SELECT id FROM ${ctx.tables.events} WHERE id = {id:String}`, { id });
    assert.equal(rows.length, 1, 'one row even without FINAL');
  });

  test('a different event reusing a stored id is quarantined as replayed_id', async () => {
    const original = event();
    await run([await emitter.sign(original)]);
    const forged = await run([await emitter.sign({ ...original, human: { sub: 'u-mallory', iss: 'x' } })]);
    assert.equal(forged.rows.length, 0);
    assert.equal(forged.quarantined[0]?.reason, 'replayed_id');
  });

  test('an event reusing another tenant’s id is a replayed_id too', async () => {
    const original = event({ tenant: 'acme' });
    await run([await emitter.sign(original)]);
    const other = await run([await emitter.sign({ ...original, tenant: 'globex' })]);
    assert.equal(other.rows.length, 0);
    assert.equal(other.quarantined[0]?.reason, 'replayed_id');
    const rows = await rowsOf(ctx, `SELECT tenant FROM ${ctx.tables.events} WHERE id = {id:String}`, { id: original.id });
    assert.deepEqual(rows, [{ tenant: 'acme' }]);
  });

  test('sequence gaps are recorded and filled by late arrivals, across a restart', async () => {
    const base = seq;
    const mk = (n: number) => event({ seq: base + n });
    const [e1, e2, e5, e3, e4, e6, e9] = [mk(1), mk(2), mk(5), mk(3), mk(4), mk(6), mk(9)];
    seq = base + 9;
    const batch = await run(await Promise.all([e1, e2, e5].map((e) => emitter.sign(e))));
    assert.deepEqual(flagsOf(batch), [[], [], ['sequence_gap']]);
    const gap = async () =>
      (await rowsOf<any>(ctx, `SELECT * FROM ${ctx.tables.sequenceGaps} FINAL WHERE source = {s:String} AND gap_from = {f:UInt64}`, { s: emitter.source, f: base + 3 }))[0];
    assert.deepEqual([Number((await gap()).gap_to), Number((await gap()).missing), (await gap()).detected_by_event], [base + 4, 2, e5.id]);

    fresh(); // restart: the open gap and the last seq come back from storage
    assert.deepEqual(await one(e3), []);
    assert.deepEqual((await gap()).late_arrivals.map(Number), [base + 3]);
    assert.equal((await gap()).closed_at, null);
    await one(e4);
    assert.equal(Number((await gap()).missing), 0);
    assert.notEqual((await gap()).closed_at, null);
    assert.deepEqual(await one(e6), []);
    assert.deepEqual(await one(e9), ['sequence_gap']);
  });

  test('a heartbeat exposes events lost at the tail', async () => {
    await one(event());
    const lost = event(); // signed, never delivered
    const beat = await one(event({ type: 'emitter.heartbeat', human: null, agent: undefined, token: undefined, target: undefined, decision: undefined, delegation: undefined, context: undefined }));
    assert.deepEqual(beat, ['sequence_gap']);
    const [gap] = await rowsOf<any>(ctx, `SELECT gap_from, gap_to FROM ${ctx.tables.sequenceGaps} FINAL WHERE source = {s:String} AND gap_from = {f:UInt64}`, { s: emitter.source, f: lost.seq });
    assert.deepEqual([Number(gap.gap_from), Number(gap.gap_to)], [lost.seq, lost.seq]);
  });

  test('an emitter that goes quiet is marked silent, and its next event carries emitter_silent', async () => {
    const quiet = await registeredEmitter(ctx.config.keysFile, 'gw:quiet');
    const state = createProcessorState(ctx.storage, ctx.tables, { ...ctx.config.processor, emitterSilentAfterMs: QUIET_AFTER_MS });
    let n = 0;
    const send = async () => {
      const batch = await prepareBatch([{ value: Buffer.from(await quiet.sign({ ...fullEvent(quiet.source), seq: ++n } as ActorlogEvent)), receivedAt: Date.now() }], { ...deps, state });
      await storeBatch(ctx.storage, ctx.tables, batch);
      batch.commit();
      return batch.rows[0]!.flags;
    };
    const silentSince = async () => (await rowsOf<any>(ctx, `SELECT silent_since FROM ${ctx.tables.emitterState} FINAL WHERE source = {s:String}`, { s: quiet.source }))[0].silent_since;

    await send();
    await markSilentEmitters(ctx.storage, ctx.tables, QUIET_AFTER_MS);
    assert.equal(await silentSince(), null, 'not yet quiet for long enough');
    await sleep(QUIET_AFTER_MS + 200);
    await markSilentEmitters(ctx.storage, ctx.tables, QUIET_AFTER_MS);
    assert.notEqual(await silentSince(), null);
    assert.deepEqual(await send(), ['emitter_silent']);
    assert.equal(await silentSince(), null);
    assert.deepEqual(await send(), []);
  });

  test('after_revocation: a revoked grant, a revoked consent, an offboarded human; re-granting clears it', async () => {
    const now = Date.now();
    const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();
    const grant = { mode: 'oauth' as const, grant_id: 'grant-rv', consent_id: 'consent-rv', scopes: ['crm.read'] };
    const call = (offsetMs: number, extra: Partial<ActorlogEvent> = {}) => event({ time: at(offsetMs), delegation: grant, ...extra });
    const idp = (type: ActorlogEvent['type'], offsetMs: number, extra: Partial<ActorlogEvent> = {}) =>
      event({ type, time: at(offsetMs), delegation: grant, token: undefined, target: undefined, decision: undefined, ...extra });

    await one(idp('delegation.granted', -10_000));
    assert.deepEqual(await one(call(-9_000)), []);
    await one(idp('delegation.revoked', -8_000));
    assert.deepEqual(await one(call(-7_000)), ['after_revocation']);
    // Dated before the revocation (arriving late): not after it.
    assert.deepEqual(await one(call(-8_500)), []);
    fresh(); // the revocation is remembered across a restart
    assert.deepEqual(await one(call(-6_000)), ['after_revocation']);
    await one(idp('delegation.granted', -5_000));
    assert.deepEqual(await one(call(-4_000)), []);

    await one(idp('consent.revoked', -3_000));
    assert.deepEqual(await one(call(-2_500)), ['after_revocation']);
    await one(idp('consent.granted', -2_000));

    const carol = { sub: 'u-carol-rv', iss: 'https://login.acme.example' };
    await one(idp('identity.lifecycle', -1_500, { human: carol, delegation: undefined, lifecycle: { change: 'leaver' } }));
    assert.deepEqual(await one(call(-1_000, { human: carol })), ['after_revocation']);
    assert.deepEqual(await one(call(-1_000)), [], 'another human is not affected');
  });

  test('jti_reuse: one token id presented at two servers; other tenants are separate', async () => {
    const token = (jti: string, audience: string) => ({ ...fullEvent(emitter.source).token!, jti, aud: [audience] });
    const at = (server: string, jti: string, tenant = 'acme') =>
      event({ tenant, token: token(jti, `https://${server}`), target: { server: { id: server, audience: `https://${server}` }, tool: { name: 't', intent: 'read' } } });
    assert.deepEqual(await one(at('mcp:crm', 'jti-r1')), []);
    assert.deepEqual(await one(at('mcp:crm', 'jti-r1')), []);
    assert.deepEqual(await one(at('mcp:files', 'jti-r1')), ['jti_reuse']);
    fresh();
    assert.deepEqual(await one(at('mcp:crm', 'jti-r1')), ['jti_reuse']);
    assert.deepEqual(await one(at('mcp:files', 'jti-r1', 'globex')), []);
    // Within one batch too.
    const batch = await run([await emitter.sign(at('mcp:a', 'jti-r2')), await emitter.sign(at('mcp:b', 'jti-r2'))]);
    assert.deepEqual(flagsOf(batch), [[], ['jti_reuse']]);
  });
});
