// The embedded engine's session hands the rows a failed query wrote to the
// next query on it; store/client.ts queues statements and flushes after a
// failure so that no answer ever carries another query's rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Context } from '../../cli/services.js';
import { select, withReadTimeout } from '../../store/client.js';
import { ActorlogError } from '../../lib/errors.js';
import { context, testConfig } from '../helpers/services.js';

// Fails after writing a few hundred thousand rows of output.
const FAILS_MID_ANSWER = 'SELECT number AS n, throwIf(number = 300000) AS t FROM numbers(400000)';

describe('a failed read leaves nothing behind', { timeout: 120_000 }, () => {
  let ctx: Context;
  before(async () => {
    ctx = await context(testConfig());
  });
  after(() => ctx.storage.close());

  test('a query failing mid-answer: the next query answers its own rows only', async () => {
    await assert.rejects(select(ctx.storage, FAILS_MID_ANSWER), (err: unknown) => err instanceof ActorlogError && err.code === 'STORAGE_UNAVAILABLE');
    const rows = await select(ctx.storage, 'SELECT {v:String} AS v', { v: 'mine' });
    assert.equal(rows.length, 1, 'no leftover rows of the failed query');
    assert.deepEqual(rows, [{ v: 'mine' }]);
  });

  test('queries started while one fails get their own rows', async () => {
    const [failed, ...others] = await Promise.allSettled([
      select(ctx.storage, FAILS_MID_ANSWER),
      ...[1, 2, 3].map((i) => select<{ i: number }>(ctx.storage, 'SELECT {i:UInt8} AS i', { i })),
    ]);
    assert.equal(failed!.status, 'rejected');
    const answers = others.map((r) => (r.status === 'fulfilled' ? r.value : r.reason));
    assert.deepEqual(answers.map((a) => a.length), [1, 1, 1], 'no leftover rows of the failed query');
    assert.deepEqual(answers, [[{ i: 1 }], [{ i: 2 }], [{ i: 3 }]]);
  });

  test('a read stopped at its timeout: the next query answers its own rows only', async () => {
    await assert.rejects(
      select(withReadTimeout(ctx.storage, 1000), 'SELECT sleepEachRow(0.25) AS s FROM numbers(40) SETTINGS max_block_size = 1'),
      (err: unknown) => err instanceof ActorlogError && err.code === 'QUERY_TIMEOUT',
    );
    assert.deepEqual(await select(ctx.storage, 'SELECT 7 AS seven'), [{ seven: 7 }]);
  });
});
