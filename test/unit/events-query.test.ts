import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEventSearch } from '../../store/search.js';
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
    assert.equal(params[name], hostile, name);
    assert.match(query, new RegExp(`\\{${name}:String\\}`));
  }
  assert.equal(params.from, '2026-01-01 00:00:00.000');
  assert.equal(params.to, '2026-01-31 23:00:00.000');
  assert.equal(params.cursor_id, hostile);
  assert.equal(params.limit_plus_one, 101);
});

test('no filters: every tenant of the scope, newest first, limit + 1', () => {
  const { query, params } = buildEventSearch('db.events', eventSearchSchema.parse({ limit: '5' }), { tenants: null });
  assert.match(query, /WHERE 1\s/);
  assert.match(query, /ORDER BY time DESC, id DESC/);
  assert.equal(params.limit_plus_one, 6);
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
