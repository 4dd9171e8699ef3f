// Small faults a hostile test found, each pinned: impossible cursor times,
// query times outside storage's range, the CSV formula guard, tokens pasted
// into an event's free text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from '../../store/cursor.js';
import { eventSearchSchema } from '../../schemas/search.js';
import { rowEncoder } from '../../lib/row-format.js';
import { normalise } from '../../processor/normalise.js';
import { ActorlogError } from '../../lib/errors.js';
import { fullEvent } from '../helpers/fixtures.js';
import type { ActorlogEvent } from '../../schemas/event.js';

test('a cursor with an impossible time is refused', () => {
  for (const time of ['2026-13-45 99:99:99.999', '2026-02-30 10:00:00.000', '0000-01-01 00:00:00.000', '9999-12-31 23:59:59.999']) {
    assert.throws(() => decodeCursor(encodeCursor({ time, id: 'e-1' })), (err: unknown) => err instanceof ActorlogError && err.code === 'INVALID_CURSOR', time);
  }
  assert.deepEqual(decodeCursor(encodeCursor({ time: '2024-02-29 23:59:59.999', id: 'e-1' })), { time: '2024-02-29 23:59:59.999', id: 'e-1' });
});

test('query times outside the years storage keeps are a 400, not a 500', () => {
  for (const to of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2300-01-01T00:00:01Z', '9999-12-31T23:59:59Z']) {
    assert.equal(eventSearchSchema.safeParse({ to }).success, false, to);
  }
  assert.equal(eventSearchSchema.safeParse({ from: '1970-01-01T00:00:00Z', to: '2299-12-31T23:59:59Z' }).success, true);
});

test('CSV: every cell a spreadsheet could run as a formula gets a leading quote', () => {
  const encode = rowEncoder('csv');
  encode({ v: 'header' });
  const dangerous = ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', '  =1', ' \u3000=1', '\uFF1D1+1', '\uFF0B1', '\uFF0D1', '\uFF201', '|calc', '%0A', '\uFF5Ccalc'];
  for (const value of dangerous) {
    const line = encode({ v: value }).replace(/\r\n$/, '');
    const cell = line.startsWith('"') ? line.slice(1, -1) : line;
    assert.ok(cell.startsWith("'"), `${JSON.stringify(value)} -> ${JSON.stringify(line)}`);
  }
  for (const value of ['alice', 'a=b', 'crm.search', '1.5']) assert.equal(encode({ v: value }), `${value}\r\n`);
});

test('a JWT pasted into attrs, user_agent or a reason is not stored verbatim; the claims object is kept', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LWFsaWNlIn0.c2lnbmF0dXJl';
  const event = {
    ...fullEvent('gw:1'),
    attrs: { note: `Bearer ${jwt}`, [jwt]: 'as a key', ticket: 'T-1' },
    context: { session_id: 's', user_agent: `curl/8 ${jwt}` },
  } as ActorlogEvent;
  const row = normalise(event, { kid: 'k', rawJws: 'a.b.c', ingestedAt: Date.now(), skew: { futureMs: 1, pastMs: 1 } });
  assert.ok(!JSON.stringify({ ...row, raw_jws: '' }).includes(jwt));
  assert.equal(row.attrs.note, 'Bearer [redacted-jwt]');
  assert.equal(row.attrs['[redacted-jwt]'], 'as a key');
  assert.equal(row.attrs.ticket, 'T-1');
  assert.equal(row.user_agent, 'curl/8 [redacted-jwt]');
  assert.equal(JSON.parse(row.event_json).token.sub, 'u-alice', 'token claims are claims, not a token: kept');
});
