// Two appenders on one transparency log (two processors of one consumer
// group, or a stale process next to a live one), racing against the real
// engine: every event gets exactly one leaf, every position holds exactly one
// leaf, and the stored tree is the tree of those leaves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Context } from '../../cli/services.js';
import { leafHash, treeHead, verifyInclusion } from '../../lib/merkle/index.js';
import { LogAppender, type LoggedEvent } from '../../transparency/appender.js';
import { insertLogNodes, leafIdsBetween } from '../../store/transparency-log.js';
import { storedInclusionProofs, storedRoot } from '../../transparency/stored-proofs.js';
import { context, rowsOf, testConfig } from '../helpers/services.js';

const event = (tenant: string): LoggedEvent => {
  const id = randomUUID();
  return { id, tenant, raw_jws: `h.${Buffer.from(JSON.stringify({ id })).toString('base64url')}.s` };
};

describe('two appenders on one log', () => {
  let ctx: Context;
  before(async () => {
    ctx = await context(testConfig());
  });
  after(async () => {
    await ctx.storage.close();
  });

  test('racing appends claim each position once; the loser appends on top of the winner', async () => {
    const a = new LogAppender(ctx.storage, ctx.tables);
    const b = new LogAppender(ctx.storage, ctx.tables);
    const all = new Map<string, LoggedEvent>();
    let conflicts = 0;
    for (let round = 0; round < 30; round++) {
      const mine = Array.from({ length: 1 + (round % 7) }, () => event('t-a'));
      const theirs = Array.from({ length: 1 + ((round * 3) % 5) }, () => event('t-b'));
      // Every third round both also carry the same event, as after a
      // rebalance that redelivers a batch to the new owner.
      const shared = round % 3 === 0 ? [event('t-a')] : [];
      for (const e of [...mine, ...theirs, ...shared]) all.set(e.id, e);
      const results = await Promise.all([a.append([...shared, ...mine]), b.append([...shared, ...theirs])]);
      conflicts += results[0].conflicts + results[1].conflicts;
    }
    assert.ok(conflicts > 0, 'the appenders did race for the same position');

    const db = ctx.tables.database;
    const perPosition = await rowsOf<{ idx: number; n: number }>(ctx, `SELECT idx, count() AS n FROM ${db}.log_nodes WHERE level = 0 GROUP BY idx HAVING n > 1`);
    assert.deepEqual(perPosition, [], 'no position holds two leaves');
    const leaves = await rowsOf<{ idx: number; event_id: string; hash: string }>(ctx, `SELECT idx, event_id, hash FROM ${db}.log_nodes WHERE level = 0 ORDER BY idx`);
    assert.equal(leaves.length, all.size, 'one leaf per event');
    assert.deepEqual(leaves.map((l) => Number(l.idx)), [...leaves.keys()], 'positions 0..n-1 without holes');
    assert.equal(new Set(leaves.map((l) => l.event_id)).size, all.size, 'no event logged twice');
    for (const leaf of leaves) assert.equal(leaf.hash, leafHash(Buffer.from(all.get(leaf.event_id)!.raw_jws)).toString('hex'));

    // The stored interior nodes are the tree of exactly these leaves.
    const root = treeHead(leaves.map((l) => Buffer.from(l.hash, 'hex')));
    assert.equal((await storedRoot(ctx.storage, ctx.tables, leaves.length)).toString('hex'), Buffer.from(root).toString('hex'));
    const head = await new LogAppender(ctx.storage, ctx.tables).head();
    assert.equal(head.size, leaves.length);
    assert.equal(head.root.toString('hex'), Buffer.from(root).toString('hex'));
    const probes = [0, Math.floor(leaves.length / 2), leaves.length - 1];
    const proofs = await storedInclusionProofs(ctx.storage, ctx.tables, probes, leaves.length);
    probes.forEach((i, k) => assert.ok(verifyInclusion(i, leaves.length, Buffer.from(leaves[i]!.hash, 'hex'), proofs[k]!, root), `leaf ${i} proves`));
  });

  test('a second block at a claimed position is dropped whole, even with other contents', async () => {
    const db = ctx.tables.database;
    const start = (await new LogAppender(ctx.storage, ctx.tables).head()).size;
    const row = (e: LoggedEvent, idx: number) => ({ level: 0, idx, hash: leafHash(Buffer.from(e.raw_jws)).toString('hex'), event_id: e.id, tenant: e.tenant, appended_at: Date.now() });
    const [x, y, z] = [event('t-a'), event('t-a'), event('t-b')];
    await insertLogNodes(ctx.storage, ctx.tables, start, [row(x, start), row(y, start + 1)]);
    await insertLogNodes(ctx.storage, ctx.tables, start, [row(z, start), row(z, start + 2)]);
    // The first block again, as a retry after an outcome that was not known.
    await insertLogNodes(ctx.storage, ctx.tables, start, [row(x, start), row(y, start + 1)]);
    assert.deepEqual(await leafIdsBetween(ctx.storage, ctx.tables, start, start + 3), [x.id, y.id]);
    const [counted] = await rowsOf<{ n: number }>(ctx, `SELECT count() AS n FROM ${db}.log_nodes WHERE level = 0 AND idx >= {start:UInt64}`, { start });
    assert.equal(Number(counted!.n), 2);
  });
});
