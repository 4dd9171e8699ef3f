// Pieces every view uses: loading an API answer, tables, times, flags, the
// time window control, small bar charts.
import type { ComponentChildren } from 'preact';
import { useEffect, useState, useCallback } from 'preact/hooks';
import { ApiError, getJson } from './api';
import { Link, enc, navigate, type Location } from './router';
import { FLAG_DEFINITIONS } from '../../schemas/flag-definitions';

export interface Loaded<T> {
  data: T | null;
  error: ApiError | Error | null;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(path: string | null): Loaded<T> {
  // The answer is kept with the path it answers, so a view never shows the
  // previous URL's data while the new one loads.
  const [state, setState] = useState<{ path: string | null; data: T | null; error: Error | null; loading: boolean }>({ path: null, data: null, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    getJson<T>(path).then(
      (data) => live && setState({ path, data, error: null, loading: false }),
      (error: Error) => live && setState({ path, data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = state.path === path;
  return { data: current ? state.data : null, error: current ? state.error : null, loading: !current || state.loading, reload };
}

export function Status<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (loaded.loading && !loaded.data) return <p class="muted" role="status">Loading…</p>;
  if (!loaded.data) return null;
  return <>{children(loaded.data)}</>;
}

export function ErrorBox({ error }: { error: Error }) {
  const code = error instanceof ApiError ? `${error.code} (${error.status}): ` : '';
  return (
    <p class="error" role="alert">
      {code}
      {error.message}
    </p>
  );
}

export interface Column<R> {
  key: string;
  label: string;
  render?: (row: R) => ComponentChildren;
  numeric?: boolean;
}

export function Table<R extends Record<string, unknown>>({ rows, columns, caption, rowKey, empty }: { rows: R[]; columns: Column<R>[]; caption: string; rowKey?: (r: R, i: number) => string; empty?: string }) {
  if (rows.length === 0) return <p class="muted">{empty ?? 'Nothing in this window.'}</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={c.numeric ? 'num' : undefined} key={c.key}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey ? rowKey(r, i) : i}>
              {columns.map((c) => (
                <td class={c.numeric ? 'num' : undefined} key={c.key}>
                  {c.render ? c.render(r) : text(r[c.key])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function text(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.length ? v.map(String).join(', ') : '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function Time({ value }: { value: unknown }) {
  if (typeof value !== 'string' || !value) return <>—</>;
  const d = new Date(value);
  return <time dateTime={value} title={value}>{Number.isNaN(d.getTime()) ? value : value.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z')}</time>;
}

export function FlagList({ flags, withDefinitions }: { flags: unknown; withDefinitions?: boolean }) {
  const list = Array.isArray(flags) ? (flags as string[]) : [];
  if (list.length === 0) return <>—</>;
  if (withDefinitions)
    return (
      <dl class="flags">
        {list.map((f) => (
          <div key={f}>
            <dt>
              <Link class="flag" href={`/search?flag=${enc(f)}`}>
                {f}
              </Link>
            </dt>
            <dd>{FLAG_DEFINITIONS[f as keyof typeof FLAG_DEFINITIONS] ?? 'See docs/flags.md.'}</dd>
          </div>
        ))}
      </dl>
    );
  return (
    <span class="flag-list">
      {list.map((f) => (
        <span class="flag" key={f} title={FLAG_DEFINITIONS[f as keyof typeof FLAG_DEFINITIONS]}>
          {f}
        </span>
      ))}
    </span>
  );
}

export function Outcome({ value }: { value: unknown }) {
  if (!value) return <>—</>;
  return <span class={`outcome outcome-${String(value)}`}>{String(value)}</span>;
}

// Links from an id to the view about it.
export const hrefs = {
  human: (sub: string) => `/humans/${enc(sub)}`,
  agent: (id: string) => `/agents/${enc(id)}`,
  session: (id: string) => `/sessions/${enc(id)}`,
  trace: (id: string) => `/traces/${enc(id)}`,
  event: (id: string) => `/events/${enc(id)}`,
  search: (filters: Record<string, string>) => `/search?${new URLSearchParams(filters).toString()}`,
  blast: (kind: string, value: string) => `/blast-radius?${kind}=${enc(value)}`,
};

export function IdLink({ href, value }: { href: (v: string) => string; value: unknown }) {
  if (typeof value !== 'string' || !value) return <>—</>;
  return <Link href={href(value)}>{value}</Link>;
}

// Relative windows the console offers; an absolute range is from/to.
export const SINCE = ['15m', '1h', '24h', '7d', '30d'] as const;
const UNIT: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export function sinceMs(since: string): number | null {
  const m = /^(\d+)([mhd])$/.exec(since);
  return m ? Number(m[1]) * UNIT[m[2]!]! : null;
}

// The API's window from the URL: since (relative) or from/to (absolute).
export function windowOf(query: URLSearchParams, defaultSince = '24h'): { from?: string; to?: string; since?: string } {
  const from = query.get('from') ?? undefined;
  const to = query.get('to') ?? undefined;
  if (from || to) return { from, to };
  return { since: query.get('since') ?? defaultSince };
}

// The window as from/to for endpoints that take only those.
export function absoluteWindow(query: URLSearchParams, defaultSince = '24h'): { from?: string; to?: string } {
  const w = windowOf(query, defaultSince);
  if (!w.since) return { from: w.from, to: w.to };
  const ms = sinceMs(w.since);
  return ms ? { from: new Date(Date.now() - ms).toISOString() } : {};
}

const toLocalInput = (iso: string | null) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (v: string) => (v ? new Date(v).toISOString() : '');

// The time window control: relative presets, or an absolute range. Changes
// go into the URL.
export function TimeWindow({ loc, defaultSince = '24h' }: { loc: Location; defaultSince?: string }) {
  const absolute = loc.query.has('from') || loc.query.has('to');
  const since = absolute ? '' : (loc.query.get('since') ?? defaultSince);
  const set = (changes: Record<string, string>) => {
    const q = new URLSearchParams(loc.query);
    q.delete('cursor');
    for (const [k, v] of Object.entries(changes)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    navigate(`${loc.path}?${q.toString()}`);
  };
  return (
    <fieldset class="window">
      <legend>Time window</legend>
      <div class="presets" role="group" aria-label="Relative window">
        {SINCE.map((s) => (
          <button type="button" key={s} aria-pressed={since === s} onClick={() => set({ since: s, from: '', to: '' })}>
            last {s}
          </button>
        ))}
      </div>
      <label>
        From
        <input type="datetime-local" value={toLocalInput(loc.query.get('from'))} onChange={(e) => set({ from: fromLocalInput((e.target as HTMLInputElement).value), since: '' })} />
      </label>
      <label>
        To
        <input type="datetime-local" value={toLocalInput(loc.query.get('to'))} onChange={(e) => set({ to: fromLocalInput((e.target as HTMLInputElement).value), since: '' })} />
      </label>
    </fieldset>
  );
}

// Vertical bars with a label under each, e.g. events per day.
export function Bars({ data, label, series }: { data: { key: string; [k: string]: unknown }[]; label: string; series: { key: string; label: string; className: string }[] }) {
  if (data.length === 0) return <p class="muted">No activity in this window.</p>;
  const max = Math.max(1, ...data.map((d) => series.reduce((s, x) => s + Number(d[x.key] ?? 0), 0)));
  const w = Math.max(8, Math.min(40, Math.floor(600 / data.length)));
  const height = 120;
  return (
    <figure class="bars">
      <svg width={data.length * (w + 2) + 2} height={height + 2} role="img" aria-label={label}>
        <title>{label}</title>
        {data.map((d, i) => {
          let y = height;
          return (
            <g key={d.key}>
              <title>{`${d.key}: ${series.map((s) => `${s.label} ${Number(d[s.key] ?? 0)}`).join(', ')}`}</title>
              {series.map((s) => {
                const h = (Number(d[s.key] ?? 0) / max) * height;
                y -= h;
                return <rect key={s.key} class={s.className} x={2 + i * (w + 2)} y={y} width={w} height={h} />;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {label}: {data[0]!.key} to {data[data.length - 1]!.key}.{' '}
        {series.map((s) => (
          <span key={s.key} class="legend">
            <span class={`swatch ${s.className}`} aria-hidden="true" /> {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section aria-label={title}>
      <div class="section-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function KeyValues({ data, render }: { data: Record<string, unknown>; render?: Record<string, (v: unknown) => ComponentChildren> }) {
  return (
    <dl class="kv">
      {Object.entries(data).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{render?.[k] ? render[k]!(v) : text(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
