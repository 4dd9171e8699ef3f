// Figures the end-to-end benches print: min / median / max over repeats,
// quantiles of one run, and the CPU and memory of another process read from
// /proc (the services run in a child so the senders do not share its
// figures).
import fs from 'node:fs';

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[Math.floor(s.length / 2)] ?? NaN, max: s[s.length - 1] ?? NaN };
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const fmt = (x: number, digits: number) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

// One line: label, then min / median / max, then the unit.
export function line(label: string, xs: readonly number[], unit = '', digits = 0): string {
  const { min, median, max } = spread(xs);
  const cell = (x: number) => fmt(x, digits).padStart(9);
  return `${label.padEnd(62)} min ${cell(min)} / median ${cell(median)} / max ${cell(max)} ${unit}`.trimEnd();
}

// Pairwise ratios a[i] / b[i] (each pair measured in the same repeat).
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / b[i]!);
}

// User + system CPU seconds of a process so far (Linux /proc).
export function cpuSecondsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: utime and stime are
  // fields 14 and 15, in clock ticks (100 a second on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// Resident set size of a process in bytes (Linux /proc).
export function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) * 1024 : NaN;
}

// Least-squares slope of y over x.
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}
