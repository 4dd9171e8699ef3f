// Reads the Prometheus text a service serves at /metrics, as a scraper would.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

// The sum of every series of `name` whose labels include `labels`.
export function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

// The per-batch spec's counters of one component (docs/metrics.md).
export function componentTotals(samples: Sample[], component: string) {
  const of = (what: string) => sumOf(samples, `actorlog_component_${what}_events_total`, { component });
  return {
    received: of('received'),
    sent: of('sent'),
    discarded: of('discarded'),
    redelivered: of('redelivered'),
    batches: sumOf(samples, 'actorlog_component_batch_duration_seconds_count', { component }),
  };
}
