// The intake's bounds with a controlled clock: token buckets refill at their
// rate and say when to retry; quarantine budgets start again each window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBuckets } from '../../lib/token-bucket.js';
import { QuarantineBudget } from '../../processor/quarantine-caps.js';
import { Metrics } from '../../lib/metrics.js';
import { createLogger } from '../../lib/logger.js';
import type { QuarantineRow } from '../../store/quarantine.js';

test('a token bucket spends its burst, refuses with Retry-After, refills at its rate, per key', () => {
  const buckets = new TokenBuckets(1, 2);
  const t = 1_000_000;
  assert.deepEqual([buckets.take('a', t).ok, buckets.take('a', t).ok], [true, true]);
  assert.deepEqual(buckets.take('a', t), { ok: false, retryAfterSeconds: 1 });
  assert.equal(buckets.take('b', t).ok, true, 'another key has its own bucket');
  assert.equal(buckets.take('a', t + 500).ok, false, 'half a token is not one');
  assert.equal(buckets.take('a', t + 1_000).ok, true);
  // Slow rates: 2 a minute means 30 s to the next request.
  const slow = new TokenBuckets(2 / 60, 1);
  slow.take('x', t);
  assert.deepEqual(slow.take('x', t), { ok: false, retryAfterSeconds: 30 });
});

test('a token bucket map forgets its least recently used keys past its bound', () => {
  const buckets = new TokenBuckets(1, 1, 2);
  buckets.take('a', 0);
  buckets.take('b', 0);
  buckets.take('c', 0); // 'a' is forgotten: it starts again with a full bucket
  assert.equal(buckets.take('a', 0).ok, true);
  assert.equal(buckets.take('c', 0).ok, false);
});

test('a quarantine budget starts again in the next window', () => {
  const metrics = new Metrics();
  const budget = new QuarantineBudget({ windowMs: 60_000, rowsPerSource: 2, bytesPerSource: 1 << 20, rowsGlobal: 100, bytesGlobal: 1 << 20, rawMaxBytes: 1024 }, metrics, createLogger('test', 'silent'));
  const row = (i: number): QuarantineRow => ({
    quarantine_id: `q-${i}`,
    received_at: '2026-01-01 00:00:00.000',
    stage: 'ingest',
    reason: 'jws_malformed',
    detail: '',
    claimed_source: '',
    claimed_kid: '',
    claimed_id: '',
    claimed_tenant: '',
    raw_base64: Buffer.from(`x${i}`).toString('base64'),
    raw_sha256: String(i),
    raw_bytes: 2,
    raw_truncated: 0,
    caller: 'gw:a',
    address: '',
    kafka_topic: '',
    kafka_partition: -1,
    kafka_offset: -1,
  });
  const first = budget.apply([row(1), row(2), row(3)], 120_000);
  assert.deepEqual(first.kept.map((r) => r.quarantine_id), ['q-1', 'q-2']);
  assert.deepEqual(first.dropped.map((d) => [d.cap, d.cap_key, d.records, d.window_start]), [['emitter', 'gw:a', 1, '1970-01-01 00:02:00.000']]);
  assert.equal(budget.apply([row(4)], 179_999).kept.length, 0, 'same window');
  assert.equal(budget.apply([row(5)], 180_000).kept.length, 1, 'next window');
  assert.equal(metrics.value('actorlog_quarantine_dropped_total', { stage: 'ingest', cap: 'emitter', reason: 'jws_malformed' }), 2);
});
