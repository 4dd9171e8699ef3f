import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastDueAt, parseCron, parsePeriod } from '../../reports/cron.js';

const at = (iso: string) => Date.parse(iso);
const due = (expr: string, now: string) => {
  const t = lastDueAt(parseCron(expr), at(now));
  return t === undefined ? undefined : new Date(t).toISOString();
};

test('the last due time at or before now', () => {
  assert.equal(due('0 6 * * 1', '2026-11-25T10:00:00Z'), '2026-11-23T06:00:00.000Z'); // Monday 06:00
  assert.equal(due('0 6 * * 1', '2026-11-23T06:00:00Z'), '2026-11-23T06:00:00.000Z'); // exactly then
  assert.equal(due('0 6 * * 1', '2026-11-23T05:59:59Z'), '2026-11-16T06:00:00.000Z');
  assert.equal(due('*/15 * * * *', '2026-11-22T10:44:10Z'), '2026-11-22T10:30:00.000Z');
  assert.equal(due('30 2 1 * *', '2026-11-22T00:00:00Z'), '2026-11-01T02:30:00.000Z');
  assert.equal(due('0 0 1 1 *', '2026-11-22T00:00:00Z'), '2026-01-01T00:00:00.000Z');
  assert.equal(due('0 9-17/4 * * 1-5', '2026-11-21T12:00:00Z'), '2026-11-20T17:00:00.000Z'); // Saturday -> Friday 17:00
  // Both day fields restricted: either matches (the 1st, or any Sunday).
  assert.equal(due('0 0 1 * 0', '2026-11-24T00:00:00Z'), '2026-11-22T00:00:00.000Z');
  assert.equal(due('0 0 * * 7', '2026-11-24T00:00:00Z'), '2026-11-22T00:00:00.000Z');
  assert.equal(due('0 0 30 2 *', '2026-11-24T00:00:00Z'), undefined); // never
});

test('bad expressions are refused with the field named', () => {
  for (const [expr, field] of [['* * * *', 'five fields'], ['60 * * * *', 'minute'], ['* 24 * * *', 'hour'], ['* * 0 * *', 'day of month'], ['* * * 13 *', 'month'], ['* * * * 8', 'day of week'], ['*/0 * * * *', 'minute'], ['a * * * *', 'minute']]) {
    assert.throws(() => parseCron(expr!), new RegExp(field!), expr);
  }
});

test('periods', () => {
  assert.equal(parsePeriod('P7D'), 7 * 86_400_000);
  assert.equal(parsePeriod('P1W'), 7 * 86_400_000);
  assert.equal(parsePeriod('PT12H'), 12 * 3_600_000);
  assert.equal(parsePeriod('P1DT6H'), 30 * 3_600_000);
  for (const bad of ['P', 'PT', '7D', 'P0D', 'P400D', 'PT30M']) assert.throws(() => parsePeriod(bad), bad);
});
