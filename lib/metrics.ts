// Every stage reports the same counters, added once per batch, not per event:
// events received, accepted (passed on: produced or stored), quarantined by
// reason, redelivered (already stored: counted, not stored again), batches and
// their duration, and errors by code. For every stage
//   received = accepted + quarantined + redelivered.
// Rendered in the Prometheus text format at GET /metrics.
export type Stage = 'ingest' | 'processor' | 'query';

type Labels = Record<string, string>;

const HELP: Record<string, string> = {
  actorlog_events_received_total: 'Events a stage received.',
  actorlog_events_accepted_total: 'Events a stage accepted and passed on (produced or stored).',
  actorlog_events_quarantined_total: 'Events refused and quarantined, by stage and reason.',
  actorlog_events_redelivered_total: 'Events delivered again that were already stored: answered as accepted, not stored twice.',
  actorlog_stage_errors_total: 'Failures of a stage that refused or retried a whole batch, by stage and code.',
  actorlog_batches_total: 'Batches a stage handled.',
  actorlog_connection_errors_total: 'Requests refused at the connection before any route ran (408 body timeout, 431 headers too large, 400 malformed HTTP), by service and code.',
  actorlog_quarantine_dropped_total: 'Refused records counted but not stored, past a quarantine cap (emitter, address, global), by stage, cap and reason; each is also in actorlog_events_quarantined_total.',
  actorlog_quarantine_truncated_total: 'Refused records stored with their first QUARANTINE_RAW_MAX_BYTES only (original length and SHA-256 kept), by stage.',
  actorlog_rate_limited_total: 'Requests refused with 429, by stage and the bucket that was empty (emitter, address, caller).',
  actorlog_work_refused_total: 'Exports and report runs refused because as many as allowed were running, by work and limit (tenant or total).',
  actorlog_batch_seconds_total: 'Time a stage spent on its batches, in seconds (divide by actorlog_batches_total for the mean).',
};

export interface BatchCounts {
  received: number;
  accepted: number;
  quarantined?: Record<string, number>;
  redelivered?: number;
  durationMs?: number;
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  private readonly counters = new Map<string, Map<string, number>>();

  add(name: keyof typeof HELP & string, labels: Labels, value = 1): void {
    if (value === 0) return;
    let series = this.counters.get(name);
    if (!series) this.counters.set(name, (series = new Map()));
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + value);
  }

  batch(stage: Stage, counts: BatchCounts): void {
    this.add('actorlog_batches_total', { stage });
    this.add('actorlog_batch_seconds_total', { stage }, (counts.durationMs ?? 0) / 1000);
    this.add('actorlog_events_received_total', { stage }, counts.received);
    this.add('actorlog_events_accepted_total', { stage }, counts.accepted);
    this.add('actorlog_events_redelivered_total', { stage }, counts.redelivered ?? 0);
    for (const [reason, n] of Object.entries(counts.quarantined ?? {})) {
      this.add('actorlog_events_quarantined_total', { stage, reason }, n);
    }
  }

  error(stage: Stage, code: string): void {
    this.add('actorlog_stage_errors_total', { stage, code });
  }

  value(name: string, labels: Labels): number {
    return this.counters.get(name)?.get(labelText(labels)) ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, help] of Object.entries(HELP)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of this.counters.get(name) ?? []) lines.push(`${name}${labels} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

export function countReasons(items: { reason: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { reason } of items) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}
