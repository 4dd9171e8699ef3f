// Reads in time order cut into slices of whole minutes (exports, report
// files) answer exactly what one sorted read answers, both ways, across
// many slices, with copies stored and a row limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { insertEvents } from '../../store/events.js';
import { select } from '../../store/client.js';
import { streamInTimeOrder } from '../../store/time-slices.js';
import { toClickHouseTime } from '../../lib/time.js';
import type { Context } from '../../cli/services.js';
import type { EventRow } from '../../schemas/row.js';
import { storedRow } from '../helpers/fixtures.js';
import { context, testConfig } from '../helpers/services.js';

describe('reads in time slices', () => {
  let ctx: Context;
  const base = Date.parse('2026-05-01T10:00:00Z');
  const template = storedRow('gw:slices', base);
  // 40 events over 8 minutes, unevenly (a burst in minute 3), two at the same millisecond.
  const rows: EventRow[] = Array.from({ length: 40 }, (_, i) => ({
    ...template,
    id: `s-${String(i).padStart(2, '0')}`,
    time: toClickHouseTime(base + (i < 20 ? i * 25_000 : 180_000 + (i % 7) * 1000)),
    outcome: i % 3 === 0 ? 'deny' : 'allow',
    tenant: 'acme',
  }));
  before(async () => {
    ctx = await context(testConfig());
    await insertEvents(ctx.storage, ctx.tables, rows);
    await insertEvents(ctx.storage, ctx.tables, rows.slice(30));
  });
  after(() => ctx.storage.close());

  const sliced = async (order: 'ASC' | 'DESC', maxRows: number, sliceRows: number) => {
    const out: string[] = [];
    const read = { table: ctx.tables.events, columns: 'id', where: ['tenant = {tenant:String}', `outcome = 'deny'`], params: { tenant: 'acme' }, order, maxRows, sliceRows };
    for await (const chunk of streamInTimeOrder<{ id: string }>(ctx.storage, read)) out.push(...chunk.map((r) => r.id));
    return out;
  };
  const sorted = async (order: 'ASC' | 'DESC', limit: number) =>
    (await select<{ id: string }>(ctx.storage, `SELECT id FROM ${ctx.tables.events} FINAL WHERE tenant = 'acme' AND outcome = 'deny' ORDER BY time ${order}, id ${order} LIMIT ${limit}`)).map((r) => r.id);

  for (const order of ['ASC', 'DESC'] as const) {
    test(`${order}: the same rows in the same order as one sorted read, whatever the slice size`, async () => {
      const expected = await sorted(order, 1000);
      assert.equal(expected.length, 14);
      for (const sliceRows of [1, 2, 5, 20_000]) assert.deepEqual(await sliced(order, 1000, sliceRows), expected, `slices of ${sliceRows}`);
    });
    test(`${order}: the row limit holds across slices`, async () => {
      assert.deepEqual(await sliced(order, 5, 2), await sorted(order, 5));
    });
  }
});
