import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEventSearch, searchWindow } from '../../store/search.js';
import { eventSearchSchema } from '../../schemas/search.js';
import { decodeCursor, encodeCursor } from '../../store/cursor.js';
import { ActorlogError } from '../../lib/errors.js';

const hostile = "x' OR 1=1 --";

test('every filter value travels as a query parameter, never in the SQL text', () => {
  const search = eventSearchSchema.parse({
    human: hostile,
    agent: hostile,
    actor: hostile,
    server: hostile,
    tool: hostile,
    session: hostile,
    trace: hostile,
    jti: hostile,
    grant: hostile,
    consent: hostile,
    tenant: hostile,
    outcome: 'deny',
    flag: 'impersonation',
    type: 'mcp.tool.call',
    from: '2026-01-01T00:00:00Z',
    to: '2026-02-01T00:00:00.000+01:00',
    cursor: encodeCursor({ time: '2026-01-15 10:00:00.000', id: hostile }),
  });
  const { query, params } = buildEventSearch('actorlog.events', search, { tenants: [hostile] });
  assert.ok(!query.includes(hostile), 'no caller value in the SQL');
  assert.ok(!query.includes('deny'));
  assert.deepEqual(params.scope_tenants, [hostile]);
  for (const name of ['human', 'agent', 'actor', 'server', 'tool', 'session', 'trace', 'jti', 'grant', 'consent']) {
    assert.deepEqual(params[name], [hostile], name);
    assert.match(query, new RegExp(`\\{${name}:Array\\(String\\)\\}`));
  }
  assert.equal(params.from, '2026-01-01 00:00:00.000');
  assert.equal(params.to, '2026-01-31 23:00:00.000');
  assert.equal(params.cursor_id, hostile);
  assert.equal(params.keys_limit, 101);
});

test('no filters: every tenant of the scope, newest first, limit + 1', () => {
  const { query, params } = buildEventSearch('db.events', eventSearchSchema.parse({ limit: '5' }), { tenants: null });
  assert.match(query, /WHERE 1\s/);
  assert.match(query, /ORDER BY time DESC, id DESC/);
  assert.equal(params.keys_limit, 6);
});

test('unknown parameters, bad enums and oversized limits are refused', () => {
  assert.equal(eventSearchSchema.safeParse({ humans: 'x' }).success, false);
  assert.equal(eventSearchSchema.safeParse({ outcome: 'maybe' }).success, false);
  assert.equal(eventSearchSchema.safeParse({ flag: 'nope' }).success, false);
  assert.equal(eventSearchSchema.safeParse({ limit: '100000' }).success, false);
  assert.equal(eventSearchSchema.safeParse({ from: 'last tuesday' }).success, false);
});

test('cursors round-trip, and a forged cursor is a typed error', () => {
  const cursor = { time: '2026-01-15 10:00:00.123', id: 'e-1' };
  assert.deepEqual(decodeCursor(encodeCursor(cursor)), cursor);
  for (const forged of ['', 'not-base64!', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["2026", "x"]').toString('base64url')]) {
    assert.throws(() => decodeCursor(forged), (err: unknown) => err instanceof ActorlogError && err.code === 'INVALID_CURSOR');
  }
});

test('several values per filter match any; attrs pairs must all match; free text and attrs values stay parameters', () => {
  const search = eventSearchSchema.parse({
    human: ['u-alice', hostile],
    flag: ['impersonation', 'jti_reuse'],
    outcome: 'deny',
    attr: ['approved_by:u-carol', `ticket:${hostile}`],
    q: hostile,
  });
  const { query, params } = buildEventSearch('db.events', search, { tenants: null });
  assert.ok(!query.includes(hostile) && !query.includes('approved_by') && !query.includes('u-carol'));
  assert.deepEqual(params.human, ['u-alice', hostile]);
  assert.match(query, /human_sub IN \{human:Array\(String\)\}/);
  assert.match(query, /hasAny\(flags, \{flag:Array\(String\)\}\)/);
  assert.deepEqual(params.outcome, ['deny']);
  assert.deepEqual([params.attr_key_0, params.attr_value_0, params.attr_key_1, params.attr_value_1], ['approved_by', 'u-carol', 'ticket', hostile]);
  assert.match(query, /mapValues\(attrs\)/);
  assert.equal(params.q, hostile);
  assert.equal(eventSearchSchema.safeParse({ attr: 'no-colon' }).success, false);
  assert.equal(eventSearchSchema.safeParse({ human: Array.from({ length: 51 }, (_, i) => `u-${i}`) }).success, false);
});

test('since is a window back from now, and never together with from/to', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  assert.deepEqual(searchWindow(eventSearchSchema.parse({ since: '15m' }), now), { from: now - 15 * 60_000 });
  assert.deepEqual(searchWindow(eventSearchSchema.parse({ since: '7d' }), now), { from: now - 7 * 86_400_000 });
  for (const bad of ['0h', '1w', '15', 'h', '99999d']) assert.equal(eventSearchSchema.safeParse({ since: bad }).success, false, bad);
  assert.throws(() => searchWindow(eventSearchSchema.parse({ since: '1h', from: '2026-01-01T00:00:00Z' })), (err: unknown) => err instanceof ActorlogError && err.code === 'BAD_REQUEST');
});
