// Event rows written as TabSeparated read back exactly as the same rows
// written as JSONEachRow, hostile strings included, in the real engine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { eventById, insertEvents, storedJws } from '../../store/events.js';
import { eventsByIds } from '../../store/transparency-log.js';
import { searchPage } from '../../store/search.js';
import { eventSchema } from '../../schemas/event.js';
import { eventSearchSchema } from '../../schemas/search.js';
import { insertRows } from '../../store/client.js';
import { normalise } from '../../processor/normalise.js';
import type { Context } from '../../cli/services.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import type { EventRow } from '../../schemas/row.js';
import { fullEvent, registeredEmitter } from '../helpers/fixtures.js';
import { context, rowsOf, testConfig } from '../helpers/services.js';

const HOSTILE = ["it's", 'back\\slash', 'tab\there', 'new\nline', 'cr\rhere', "\\'", '\\t literal', '\\N', '"quoted"', 'ünïcødé ✓ 𝄞', '[not,an,array]', "{'k':'v'}", ''];

describe('events as TabSeparated', () => {
  let ctx: Context;
  before(async () => {
    ctx = await context(testConfig());
  });
  after(() => ctx.storage.close());

  test('hostile strings in every kind of column survive the round trip, the same as JSONEachRow', async () => {
    const meta = { kid: 'k\tid', rawJws: 'a.b.c', ingestedAt: Date.now(), skew: { futureMs: 300_000, pastMs: 86_400_000 } };
    const rows: EventRow[] = HOSTILE.map((s, i) => {
      const row = normalise(fullEvent('gw:tsv', { context: { session_id: `tsv-${i}` } }) as ActorlogEvent, meta);
      return {
        ...row,
        human_sub: s,
        decision_reason: s,
        actor_chain: [s, `${s}2`],
        token_aud: [s],
        attrs: { [s || 'empty']: s, plain: 'v' },
        event_json: JSON.stringify({ s }),
        token_exp: i === 0 ? null : row.token_exp,
        payload_bytes: i === 1 ? 0 : null,
      };
    });
    const viaJson = `${ctx.tables.database}.events_json`;
    await ctx.storage.command({ query: `CREATE TABLE ${viaJson} AS ${ctx.tables.events}` });
    await insertEvents(ctx.storage, ctx.tables, rows);
    await insertRows(ctx.storage, viaJson, rows);

    const both = (a: string, b: string) => rowsOf<{ id: string }>(ctx, `SELECT id FROM (SELECT * FROM ${a} WHERE id IN {ids:Array(String)} EXCEPT SELECT * FROM ${b})`, { ids: rows.map((r) => r.id) });
    assert.deepEqual(await both(ctx.tables.events, viaJson), []);
    assert.deepEqual(await both(viaJson, ctx.tables.events), []);
    const back = await rowsOf<EventRow>(ctx, `SELECT * FROM ${ctx.tables.events} WHERE id IN {ids:Array(String)}`, { ids: rows.map((r) => r.id) });
    assert.equal(back.length, rows.length);
    for (const row of rows) {
      const got = back.find((b) => b.id === row.id)!;
      assert.equal(got.human_sub, row.human_sub);
      assert.equal(got.kid, row.kid);
      assert.deepEqual(got.actor_chain, row.actor_chain);
      assert.deepEqual(got.attrs, row.attrs);
      assert.equal(got.event_json, row.event_json);
    }
  });

  test('one copy of the event: a payload equal to event_json is left out on disk and every read gives back the exact signed bytes', async () => {
    const emitter = await registeredEmitter(path.join(ctx.config.dataDir, 'keys.json'), 'gw:detached');
    const skew = { futureMs: 300_000, pastMs: 86_400_000 };
    // As the SDK signs and the processor stores: both serialise the schema's parse.
    const same = eventSchema.parse(fullEvent(emitter.source, { context: { session_id: 'detached-1' } }));
    const sameJws = await emitter.sign(same);
    // A payload in another serialiser's spacing: kept whole.
    const other = eventSchema.parse(fullEvent(emitter.source, { context: { session_id: 'detached-2' } }));
    const [h, , sig] = (await emitter.sign(other)).split('.');
    const otherJws = `${h}.${Buffer.from(JSON.stringify(other, null, 1)).toString('base64url')}.${sig}`;
    const rows = [normalise(same, { kid: emitter.key.kid, rawJws: sameJws, ingestedAt: Date.now(), skew }), normalise(other, { kid: emitter.key.kid, rawJws: otherJws, ingestedAt: Date.now(), skew })];
    await insertEvents(ctx.storage, ctx.tables, rows);

    const onDisk = await rowsOf<{ id: string; raw_jws: string }>(ctx, `SELECT id, raw_jws FROM ${ctx.tables.events} WHERE id IN {ids:Array(String)}`, { ids: [same.id, other.id] });
    assert.match(onDisk.find((r) => r.id === same.id)!.raw_jws, /^[\w-]+\.\.[\w-]+$/, 'stored without its payload');
    assert.equal(onDisk.find((r) => r.id === other.id)!.raw_jws, otherJws, 'a payload that differs is stored whole');

    const expected = new Map([[same.id, sameJws], [other.id, otherJws]]);
    assert.deepEqual(await storedJws(ctx.storage, ctx.tables, [same.id, other.id]), expected);
    for (const [id, jws] of expected) assert.equal((await eventById(ctx.storage, ctx.tables, { tenants: null }, id))!.raw_jws, jws);
    const logged = await eventsByIds(ctx.storage, ctx.tables, [same.id, other.id]);
    assert.deepEqual(new Map(logged.map((r) => [r.id, r.raw_jws])), expected);
    const search = eventSearchSchema.parse({ session: ['detached-1', 'detached-2'], limit: 10 });
    const { page } = await searchPage(ctx.storage, ctx.tables.events, search, { tenants: null }, { withStoredEvent: true });
    assert.deepEqual(new Map(page.map((r) => [r.id, r.raw_jws])), expected);
  });
});
