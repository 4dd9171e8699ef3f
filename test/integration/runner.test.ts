// The one batch runner, against the real ClickHouse engine: the order of its
// steps, the BatchSink seam, the counters, and which failures it retries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProcessorState, type Batch } from '../../processor/batch.js';
import { KeyResolver } from '../../processor/key-resolver.js';
import { runBatch, type BatchSink, type RunnerDeps } from '../../processor/runner.js';
import { ActorlogError } from '../../lib/errors.js';
import type { MetricName } from '../../lib/metrics.js';
import type { Context } from '../../cli/services.js';
import { fullEvent, registeredEmitter, tamper, type TestEmitter } from '../helpers/fixtures.js';
import { context, rowsOf, testConfig } from '../helpers/services.js';

describe('batch runner', () => {
  let ctx: Context;
  let emitter: TestEmitter;
  const deps = (sinks: BatchSink[]): RunnerDeps => ({
    storage: ctx.storage,
    tables: ctx.tables,
    metrics: ctx.metrics,
    logger: ctx.logger,
    sinks,
    keys: new KeyResolver(ctx.config.keysFile),
    eventMaxBytes: 65536,
    skew: { futureMs: 300_000, pastMs: 86_400_000 },
    state: createProcessorState(ctx.storage, ctx.tables, ctx.config.processor),
  });
  const records = (list: string[]) => list.map((jws) => ({ value: Buffer.from(jws), receivedAt: Date.now() }));
  const counter = (what: string, component = 'processor') => ctx.metrics.value(`actorlog_component_${what}_events_total` as MetricName, { component });

  before(async () => {
    const config = testConfig();
    emitter = await registeredEmitter(config.keysFile, 'gw:runner');
    ctx = await context(config);
  });
  after(() => ctx.storage.close());

  test('a sink sees each batch after it is stored and before the driver commits; the counters add up', async () => {
    const good = await emitter.sign(fullEvent(emitter.source));
    const bad = tamper(await emitter.sign(fullEvent(emitter.source)));
    const steps: string[] = [];
    const seen: Batch[] = [];
    const sink: BatchSink = {
      name: 'recorder',
      async write(batch) {
        const id = batch.rows[0]?.id ?? '';
        const stored = await rowsOf(ctx, `SELECT id FROM ${ctx.tables.events} WHERE id = {id:String}`, { id });
        steps.push(`sink:${stored.length}`);
        seen.push(batch);
      },
    };
    const kinds = ['received', 'sent', 'redelivered'];
    const before = [...kinds.map((n) => counter(n)), counter('sent', 'store')];
    const batchesBefore = ctx.metrics.count('actorlog_component_batch_duration_seconds', { component: 'processor' });
    await runBatch(records([good, bad, good]), deps([sink]), { commit: async () => void steps.push('commit') });
    assert.deepEqual(steps, ['sink:1', 'commit']);
    assert.equal(seen[0]!.rows.length, 1);
    assert.equal(seen[0]!.quarantined.length, 1);
    assert.equal(seen[0]!.redelivered, 1);
    const [received, sent, redelivered] = kinds.map((n, i) => counter(n) - before[i]!);
    const discarded = ctx.metrics.value('actorlog_component_discarded_events_total', { component: 'processor', reason: 'signature_invalid' });
    assert.deepEqual({ received, sent, redelivered, discarded }, { received: 3, sent: 1, redelivered: 1, discarded: 1 });
    // The store component wrote the event row and the quarantine row.
    assert.equal(counter('sent', 'store') - before[3]!, 2);
    assert.equal(ctx.metrics.count('actorlog_component_batch_duration_seconds', { component: 'processor' }) - batchesBefore, 1);
  });

  test('a retriable sink failure is retried while the driver keeps going; nothing is committed before it passes', async () => {
    let calls = 0;
    let committed = 0;
    const flaky: BatchSink = {
      name: 'flaky',
      async write() {
        if (++calls < 3) throw new ActorlogError('BUS_UNAVAILABLE', 'broker away');
      },
    };
    await runBatch(records([await emitter.sign(fullEvent(emitter.source))]), deps([flaky]), {
      keepGoing: async () => true,
      commit: async () => void committed++,
    });
    assert.equal(calls, 3);
    assert.equal(committed, 1);
  });

  test('a bug in a sink is not retried: the batch fails at once with the error and is not committed', async () => {
    let calls = 0;
    let committed = 0;
    const broken: BatchSink = {
      name: 'broken',
      async write() {
        calls++;
        throw new TypeError('cannot read properties of undefined');
      },
    };
    await assert.rejects(
      runBatch(records([await emitter.sign(fullEvent(emitter.source))]), deps([broken]), { keepGoing: async () => true, commit: async () => void committed++ }),
      (err: unknown) => err instanceof TypeError && /undefined/.test(err.message),
    );
    assert.equal(calls, 1);
    assert.equal(committed, 0);
  });

  test('storage refusing a wrong statement is a bug (STORAGE_REJECTED); storage away is retriable (STORAGE_UNAVAILABLE)', async () => {
    const { select } = await import('../../store/client.js');
    await assert.rejects(select(ctx.storage, 'SELEC 1'), (err: unknown) => err instanceof ActorlogError && err.code === 'STORAGE_REJECTED' && !err.retriable);
    await assert.rejects(
      select(ctx.storage, `SELECT 1 FROM ${ctx.tables.database}.no_such_table`),
      (err: unknown) => err instanceof ActorlogError && err.code === 'STORAGE_UNAVAILABLE' && err.retriable,
    );
  });
});
