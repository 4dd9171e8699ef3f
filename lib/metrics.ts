// One instrumentation spec for every component, after Vector's component
// spec: each stage reports the same series, added once per batch (never per
// event), told apart by the `component` label:
//
//   actorlog_component_received_events_total{component}
//   actorlog_component_sent_events_total{component}            passed on: produced, stored, answered
//   actorlog_component_discarded_events_total{component,reason} refused (quarantined, or counted past a cap)
//   actorlog_component_redelivered_events_total{component}      already stored: answered as accepted, not stored twice
//   actorlog_component_errors_total{component,error_code,retriable}
//   actorlog_component_batch_duration_seconds{component}       histogram
//
// and for every component   received = sent + discarded + redelivered.
// Components call `batch()` and `error()` only; the names, types, labels and
// help live here and in docs/metrics.md. The counters that are not per batch
// (rate limits, connection refusals, quarantine caps, consumer lag) are
// declared here too. Rendered in the Prometheus text format at GET /metrics.
import { ActorlogError, ERRORS } from './errors.js';

export type Component = 'ingest' | 'processor' | 'store' | 'query' | 'reports';
// The label some counters outside the per-batch spec still call `stage`.
export type Stage = Component;

type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge' | 'histogram';

// Seconds; a batch of the pipeline takes milliseconds to a few seconds, a
// report run up to minutes.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const SPEC = {
  // The per-batch spec every component reports.
  actorlog_component_received_events_total: ['counter', 'Events a component received, per batch (ingest: a request; processor: a Kafka batch or an embedded request; store: rows handed to the engine; query: rows read for an answer; reports: rows read for a run).'],
  actorlog_component_sent_events_total: ['counter', 'Events a component passed on: produced to Kafka, stored, written to the engine, answered, or written to a report file.'],
  actorlog_component_discarded_events_total: ['counter', 'Events a component refused, by reason (a quarantine reason code); each is quarantined or, past a quarantine cap, counted in actorlog_quarantine_dropped_total.'],
  actorlog_component_redelivered_events_total: ['counter', 'Events delivered again that were already stored: answered as accepted, not stored twice.'],
  actorlog_component_errors_total: ['counter', 'Failures of a component: a refused request or a failed attempt at a whole batch, by catalogue code and whether retrying can help.'],
  actorlog_component_batch_duration_seconds: ['histogram', 'Time a component spent on one batch (a request, a Kafka batch, one insert, one answer, one report run), in seconds.'],
  // Outside the per-batch spec.
  actorlog_consumer_lag_messages: ['gauge', 'Messages of a partition not yet committed by the processor group: log-end offset minus committed offset, refreshed every PROCESSOR_LAG_INTERVAL_MS.'],
  actorlog_consumer_lag_refreshed_seconds: ['gauge', 'When the consumer lag was last read (Unix seconds); stale when the admin client cannot reach the brokers.'],
  actorlog_connection_errors_total: ['counter', 'Requests refused at the connection before any route ran (408 body timeout, 431 headers too large, 400 malformed HTTP), by service and code.'],
  actorlog_quarantine_dropped_total: ['counter', 'Refused records counted but not stored, past a quarantine cap (emitter, address, global), by stage, cap and reason; each is also in actorlog_component_discarded_events_total.'],
  actorlog_quarantine_truncated_total: ['counter', 'Refused records stored with their first QUARANTINE_RAW_MAX_BYTES only (original length and SHA-256 kept), by stage.'],
  actorlog_rate_limited_total: ['counter', 'Requests refused with 429, by stage and the bucket that was empty (emitter, address, caller); each is also in actorlog_component_errors_total.'],
  actorlog_work_refused_total: ['counter', 'Exports and report runs refused because as many as allowed were running, by work and limit (tenant or total).'],
  actorlog_stream_timeouts_total: ['counter', 'Exports and report runs stopped at a stream bound, by work (export, report) and bound (total: STREAM_TIMEOUT_MS, idle: STREAM_IDLE_TIMEOUT_MS).'],
} as const satisfies Record<string, readonly [Kind, string]>;

export type MetricName = keyof typeof SPEC;

export interface BatchCounts {
  received: number;
  sent: number;
  // Refused, by reason.
  discarded?: Record<string, number>;
  redelivered?: number;
  durationMs: number;
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

interface HistogramSeries {
  labels: Labels;
  buckets: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly values = new Map<string, Map<string, number>>();
  private readonly histograms = new Map<string, Map<string, HistogramSeries>>();

  // A counter outside the per-batch spec.
  add(name: MetricName, labels: Labels, value = 1): void {
    if (value === 0) return;
    const series = this.seriesOf(name);
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + value);
  }

  set(name: MetricName, labels: Labels, value: number): void {
    this.seriesOf(name).set(labelText(labels), value);
  }

  // Drops a gauge's series (a partition the topic no longer has).
  clear(name: MetricName): void {
    this.values.delete(name);
  }

  // The one call a component makes per batch.
  batch(component: Component, counts: BatchCounts): void {
    this.add('actorlog_component_received_events_total', { component }, counts.received);
    this.add('actorlog_component_sent_events_total', { component }, counts.sent);
    this.add('actorlog_component_redelivered_events_total', { component }, counts.redelivered ?? 0);
    for (const [reason, n] of Object.entries(counts.discarded ?? {})) {
      this.add('actorlog_component_discarded_events_total', { component, reason }, n);
    }
    this.observe('actorlog_component_batch_duration_seconds', { component }, counts.durationMs / 1000);
  }

  // A failure: the catalogue code and whether it is retriable come from the
  // error itself; anything outside the catalogue is a bug (INTERNAL, not retriable).
  error(component: Component, err: unknown): void {
    const code = err instanceof ActorlogError ? err.code : typeof err === 'string' && err in ERRORS ? (err as keyof typeof ERRORS) : undefined;
    const retriable = err instanceof ActorlogError ? err.retriable : code ? ERRORS[code].retriable : false;
    this.add('actorlog_component_errors_total', { component, error_code: code ?? 'INTERNAL', retriable: String(retriable) });
  }

  value(name: MetricName, labels: Labels): number {
    return this.values.get(name)?.get(labelText(labels)) ?? 0;
  }

  // Observations of a histogram series so far.
  count(name: MetricName, labels: Labels): number {
    return this.histograms.get(name)?.get(labelText(labels))?.count ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, [kind, help]] of Object.entries(SPEC)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`);
      for (const [labels, value] of this.values.get(name) ?? []) lines.push(`${name}${labels} ${value}`);
      for (const h of this.histograms.get(name)?.values() ?? []) {
        DURATION_BUCKETS.forEach((le, i) => lines.push(`${name}_bucket${labelText({ ...h.labels, le: String(le) })} ${h.buckets[i]}`));
        lines.push(`${name}_bucket${labelText({ ...h.labels, le: '+Inf' })} ${h.count}`, `${name}_sum${labelText(h.labels)} ${h.sum}`, `${name}_count${labelText(h.labels)} ${h.count}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private seriesOf(name: MetricName): Map<string, number> {
    let series = this.values.get(name);
    if (!series) this.values.set(name, (series = new Map()));
    return series;
  }

  private observe(name: MetricName, labels: Labels, value: number): void {
    let all = this.histograms.get(name);
    if (!all) this.histograms.set(name, (all = new Map()));
    const key = labelText(labels);
    let h = all.get(key);
    if (!h) all.set(key, (h = { labels, buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    // Cumulative, as Prometheus reads them.
    DURATION_BUCKETS.forEach((le, i) => {
      if (value <= le) h.buckets[i]! += 1;
    });
    h.sum += value;
    h.count += 1;
  }
}

export function countReasons(items: { reason: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { reason } of items) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}
