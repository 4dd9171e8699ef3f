// Event search: every filter of GET /v1/events, a time window, one page at a
// time with the API's stable cursor (in the URL, so a page can be shared),
// export of exactly the rows shown, or of the whole search.
import { useMemo, useState } from 'preact/hooks';
import { download, getBytes, qs } from '../api';
import { toCsv, toNdjson } from '../export';
import { useEnums } from '../enums';
import { Link, navigate, type Location } from '../router';
import { Bars, Status, TimeWindow, windowOf, useApi, ErrorBox } from '../ui';
import { LiveTail } from './tail';
import { EventTable, type EventRow } from './event-table';

export const TEXT_FILTERS: [string, string][] = [
  ['human', 'Human (sub)'],
  ['agent', 'Agent id'],
  ['actor', 'Actor (anywhere in the chain)'],
  ['server', 'Server id'],
  ['tool', 'Tool name'],
  ['session', 'Session id'],
  ['trace', 'Trace id'],
  ['jti', 'Token id (jti)'],
  ['grant', 'Grant id'],
  ['consent', 'Consent id'],
  ['tenant', 'Tenant'],
  ['attr', 'Attribute key:value'],
  ['q', 'Free text (any id, attrs)'],
];
// Filters that take several values: comma-separated in the form, the
// parameter repeated in the URL and the API call.
const SINGLE = new Set(['tenant', 'q', 'result_is_error']);
export const CHOICE_FILTERS: [string, string][] = [
  ['outcome', 'Outcome'],
  ['flag', 'Flag'],
  ['type', 'Event type'],
  ['result_is_error', 'Tool result error'],
];
const FILTER_NAMES = [...TEXT_FILTERS, ...CHOICE_FILTERS].map(([n]) => n);

type Row = EventRow;

export function filtersOf(query: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of FILTER_NAMES) {
    const v = query.getAll(name).filter(Boolean);
    if (v.length) out[name] = v;
  }
  return out;
}

export function SearchView({ loc }: { loc: Location }) {
  const enums = useEnums('/v1/events');
  const filters = filtersOf(loc.query);
  const limit = loc.query.get('limit') ?? '50';
  const cursor = loc.query.get('cursor') ?? undefined;
  // The window is fixed when the URL changes, not on every render.
  const apiQuery = useMemo(() => ({ ...filters, ...windowOf(loc.query) }), [loc.href]);
  const path = `/v1/events${qs({ ...apiQuery, limit, cursor })}`;
  const result = useApi<{ events: Row[]; next_cursor: string | null }>(path);
  const histogram = useApi<{ step_ms: number; buckets: { start: string; events: number; denied: number; flagged: number }[] }>(`/v1/events/histogram${qs({ ...apiQuery, buckets: 48 })}`);
  const [exportError, setExportError] = useState<Error | null>(null);

  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const q = new URLSearchParams();
    for (const name of FILTER_NAMES) {
      const v = String(form.get(name) ?? '').trim();
      if (!v) continue;
      for (const one of SINGLE.has(name) ? [v] : v.split(',').map((x) => x.trim()).filter(Boolean)) q.append(name, one);
    }
    for (const k of ['since', 'from', 'to', 'limit']) {
      const v = loc.query.get(k);
      if (v) q.set(k, v);
    }
    navigate(`/search?${q.toString()}`);
  };

  const exportAll = async (format: 'csv' | 'ndjson') => {
    setExportError(null);
    try {
      const { bytes, type } = await getBytes(`/v1/events/export${qs({ ...apiQuery, format })}`);
      download(`actorlog-events.${format}`, bytes, type);
    } catch (err) {
      setExportError(err as Error);
    }
  };

  const page = (next: string | null) => {
    const q = new URLSearchParams(loc.query);
    if (next) q.set('cursor', next);
    else q.delete('cursor');
    navigate(`/search?${q.toString()}`);
  };

  return (
    <>
      <h1>Search events</h1>
      <form class="filters" onSubmit={submit} key={loc.href} aria-label="Filters">
        {TEXT_FILTERS.map(([name, label]) => (
          <label key={name}>
            {label}
            <input name={name} defaultValue={(filters[name] ?? []).join(', ')} autoComplete="off" spellcheck={false} placeholder={SINGLE.has(name) ? undefined : 'several: comma-separated'} />
          </label>
        ))}
        {CHOICE_FILTERS.map(([name, label]) => (
          <label key={name}>
            {label}
            <select name={name} defaultValue={filters[name]?.[0] ?? ''}>
              <option value="">any</option>
              {(enums[name] ?? filters[name] ?? []).map((v) => (
                <option key={v} value={v} selected={filters[name]?.[0] === v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
        ))}
        <div class="form-actions">
          <button type="submit" class="primary">
            Search
          </button>
          <Link href="/search">Clear</Link>
        </div>
      </form>
      <TimeWindow loc={loc} />
      <LiveTail filters={filters} />
      {histogram.data && (
        <Bars
          label="Matching events over the window"
          data={histogram.data.buckets.map((b) => ({ key: b.start.slice(0, 16).replace('T', ' '), allowed: b.events - b.denied, denied: b.denied }))}
          series={[
            { key: 'allowed', label: 'not denied', className: 's-allow' },
            { key: 'denied', label: 'denied', className: 's-deny' },
          ]}
        />
      )}
      <Status loaded={result}>
        {(data) => (
          <section aria-label="Results" data-href={loc.href}>
            <div class="section-head">
              <h2>
                {data.events.length} event{data.events.length === 1 ? '' : 's'} on this page{cursor ? ' (a later page)' : ''}
              </h2>
              <div class="actions">
                <button type="button" disabled={data.events.length === 0} onClick={() => download('actorlog-events-shown.csv', toCsv(data.events), 'text/csv')}>
                  Export shown (CSV)
                </button>
                <button type="button" disabled={data.events.length === 0} onClick={() => download('actorlog-events-shown.ndjson', toNdjson(data.events), 'application/x-ndjson')}>
                  Export shown (NDJSON)
                </button>
                <button type="button" onClick={() => void exportAll('csv')}>
                  Export whole search (CSV)
                </button>
              </div>
            </div>
            {exportError && <ErrorBox error={exportError} />}
            <EventTable rows={data.events} />
            <nav class="pager" aria-label="Pages">
              {cursor && (
                <button type="button" onClick={() => page(null)}>
                  First page
                </button>
              )}
              {data.next_cursor && (
                <button type="button" class="primary" onClick={() => page(data.next_cursor)}>
                  Next page
                </button>
              )}
            </nav>
          </section>
        )}
      </Status>
    </>
  );
}
