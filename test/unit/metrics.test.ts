// The one instrumentation spec: what a component's batch() and error() calls
// render, read back as a Prometheus scraper reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics, SPEC } from '../../lib/metrics.js';
import { ActorlogError } from '../../lib/errors.js';
import { componentTotals, parseMetrics, sumOf } from '../helpers/metrics.js';

test('batch(): the same series for every component, with received = sent + discarded + redelivered', () => {
  const metrics = new Metrics();
  metrics.batch('processor', { received: 10, sent: 6, discarded: { signature_invalid: 2, schema_invalid: 1 }, redelivered: 1, durationMs: 30 });
  metrics.batch('processor', { received: 4, sent: 4, durationMs: 2_000 });
  metrics.batch('query', { received: 3, sent: 3, durationMs: 1 });
  const samples = parseMetrics(metrics.render());
  assert.deepEqual(componentTotals(samples, 'processor'), { received: 14, sent: 10, discarded: 3, redelivered: 1, batches: 2 });
  assert.deepEqual(componentTotals(samples, 'query'), { received: 3, sent: 3, discarded: 0, redelivered: 0, batches: 1 });
  assert.equal(sumOf(samples, 'actorlog_component_discarded_events_total', { component: 'processor', reason: 'signature_invalid' }), 2);
  // Cumulative buckets: 30 ms is under 0.05 s, 2 s is not; both under 2.5 s and +Inf.
  const bucket = (le: string) => sumOf(samples, 'actorlog_component_batch_duration_seconds_bucket', { component: 'processor', le });
  assert.deepEqual([bucket('0.025'), bucket('0.05'), bucket('1'), bucket('2.5'), bucket('+Inf')], [0, 1, 1, 2, 2]);
  assert.equal(sumOf(samples, 'actorlog_component_batch_duration_seconds_sum', { component: 'processor' }), 2.03);
});

test('error(): the catalogue code and whether it is retriable; anything else is INTERNAL and not retriable', () => {
  const metrics = new Metrics();
  metrics.error('store', new ActorlogError('STORAGE_UNAVAILABLE', 'engine away'));
  metrics.error('store', new ActorlogError('STORAGE_REJECTED'));
  metrics.error('ingest', 'UNAUTHORIZED');
  metrics.error('processor', new TypeError('a bug'));
  const samples = parseMetrics(metrics.render());
  const errors = (component: string, error_code: string, retriable: string) => sumOf(samples, 'actorlog_component_errors_total', { component, error_code, retriable });
  assert.equal(errors('store', 'STORAGE_UNAVAILABLE', 'true'), 1);
  assert.equal(errors('store', 'STORAGE_REJECTED', 'false'), 1);
  assert.equal(errors('ingest', 'UNAUTHORIZED', 'false'), 1);
  assert.equal(errors('processor', 'INTERNAL', 'false'), 1);
});

test('render(): every metric of the spec has its HELP and TYPE; label values are escaped', () => {
  const metrics = new Metrics();
  metrics.set('actorlog_consumer_lag_messages', { group: 'g', topic: 'say "hi"\\', partition: '0' }, 7);
  const text = metrics.render();
  for (const [name, [kind]] of Object.entries(SPEC)) {
    assert.match(text, new RegExp(`^# HELP ${name} .+$`, 'm'));
    assert.match(text, new RegExp(`^# TYPE ${name} ${kind}$`, 'm'));
  }
  assert.match(text, /^actorlog_consumer_lag_messages\{group="g",topic="say \\"hi\\"\\\\",partition="0"\} 7$/m);
  metrics.set('actorlog_consumer_lag_messages', { group: 'g', topic: 'say "hi"\\', partition: '0' }, 0);
  assert.equal(sumOf(parseMetrics(metrics.render()), 'actorlog_consumer_lag_messages'), 0);
});
