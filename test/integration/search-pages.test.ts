// Pages of a search in the real engine while copies of events are stored
// (a redelivery racing its first insert, before the engine merges them):
// the keys step reads without FINAL, so each event must still come once,
// in order, with a cursor that neither repeats nor skips, even when the
// newest keys are all copies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { insertEvents } from '../../store/events.js';
import { searchPage } from '../../store/search.js';
import { eventSearchSchema } from '../../schemas/search.js';
import { toClickHouseTime } from '../../lib/time.js';
import type { Context } from '../../cli/services.js';
import type { EventRow } from '../../schemas/row.js';
import { storedRow } from '../helpers/fixtures.js';
import { context, testConfig } from '../helpers/services.js';

describe('search pages with stored copies', () => {
  let ctx: Context;
  const base = Date.parse('2026-05-01T10:00:00Z');
  const template = storedRow('gw:pages', base);
  // 12 events of three humans, one a second apart; e-11 is the newest.
  const rows: EventRow[] = Array.from({ length: 12 }, (_, i) => ({
    ...template,
    id: `e-${String(i).padStart(2, '0')}`,
    time: toClickHouseTime(base + i * 1000),
    human_sub: `u-${i % 3}`,
    agent_id: 'agent:pages',
    tenant: 'acme',
  }));
  before(async () => {
    ctx = await context(testConfig());
    await insertEvents(ctx.storage, ctx.tables, rows);
    // The six newest stored twice more, each time in its own insert (its own part).
    await insertEvents(ctx.storage, ctx.tables, rows.slice(6));
    await insertEvents(ctx.storage, ctx.tables, rows.slice(6));
  });
  after(() => ctx.storage.close());

  const all = async (query: Record<string, string>, limit: number) => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const { page, next } = await searchPage(ctx.storage, ctx.tables.events, eventSearchSchema.parse({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) }), { tenants: ['acme'] });
      seen.push(...page.map((r) => r.id));
      if (next === null) return seen;
      assert.equal(page.length, limit, 'a page followed by another is full');
      cursor = next;
    }
    throw new Error('more than 20 pages');
  };
  const newestFirst = (ids: string[]) => [...ids].sort().reverse();

  test('every event once, newest first, whatever the page size', async () => {
    for (const limit of [1, 2, 5, 12, 50]) assert.deepEqual(await all({}, limit), newestFirst(rows.map((r) => r.id)), `limit ${limit}`);
  });

  test('the same through a filter (the projection by agent) and the primary key (by human)', async () => {
    assert.deepEqual(await all({ agent: 'agent:pages' }, 4), newestFirst(rows.map((r) => r.id)));
    assert.deepEqual(await all({ human: 'u-2' }, 2), newestFirst(rows.filter((r) => r.human_sub === 'u-2').map((r) => r.id)));
  });

  test('another tenant sees none of them', async () => {
    const { page, next } = await searchPage(ctx.storage, ctx.tables.events, eventSearchSchema.parse({ limit: '50' }), { tenants: ['globex'] });
    assert.deepEqual([page.length, next], [0, null]);
  });
});
