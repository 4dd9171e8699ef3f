// For admins: emitter keys with their states, and the access log.
import { useMemo } from 'preact/hooks';
import { qs } from '../api';
import { navigate, type Location } from '../router';
import { Status, Table, Time, TimeWindow, absoluteWindow, useApi } from '../ui';

type Rec = Record<string, unknown>;

export function KeysView() {
  const result = useApi<{ keys: Rec[] }>('/v1/admin/keys');
  return (
    <>
      <h1>Emitter keys</h1>
      <Status loaded={result}>
        {(d) => (
          <Table
            caption="Emitter keys"
            rows={d.keys}
            rowKey={(r) => `${String(r.emitter)}/${String(r.kid)}`}
            columns={[
              { key: 'emitter', label: 'Emitter', render: (r) => <code>{String(r.emitter)}</code> },
              { key: 'kid', label: 'Key id', render: (r) => <code>{String(r.kid)}</code> },
              { key: 'alg', label: 'Algorithm' },
              { key: 'state', label: 'State', render: (r) => <span class={r.state === 'active' ? 'good' : r.state === 'revoked' ? 'bad' : 'muted'}>{String(r.state)}</span> },
              { key: 'tenants', label: 'Tenants' },
              { key: 'created_at', label: 'Created', render: (r) => <Time value={r.created_at} /> },
              { key: 'retired_at', label: 'Retired', render: (r) => <Time value={r.retired_at} /> },
              { key: 'revoked_at', label: 'Revoked', render: (r) => <Time value={r.revoked_at} /> },
            ]}
          />
        )}
      </Status>
    </>
  );
}

export function AccessLogView({ loc }: { loc: Location }) {
  const sub = loc.query.get('sub');
  const route = loc.query.get('route');
  const window = useMemo(() => absoluteWindow(loc.query, '1h'), [loc.href]);
  const result = useApi<{ calls: Rec[] }>(`/v1/admin/access-log${qs({ sub, route, ...window, limit: 200, tenant: loc.query.get('tenant') })}`);
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const q = new URLSearchParams(loc.query);
    for (const k of ['sub', 'route']) {
      const v = String(form.get(k) ?? '').trim();
      if (v) q.set(k, v);
      else q.delete(k);
    }
    navigate(`/admin/access-log?${q.toString()}`);
  };
  return (
    <>
      <h1>Access log</h1>
      <form class="filters" onSubmit={submit} key={loc.href} aria-label="Filters">
        <label>
          Caller (sub)
          <input name="sub" defaultValue={sub ?? ''} autoComplete="off" />
        </label>
        <label>
          Route
          <input name="route" defaultValue={route ?? ''} placeholder="/v1/events" autoComplete="off" />
        </label>
        <div class="form-actions">
          <button type="submit" class="primary">
            Filter
          </button>
        </div>
      </form>
      <TimeWindow loc={loc} defaultSince="1h" />
      <Status loaded={result}>
        {(d) => (
          <Table
            caption="API calls"
            rows={d.calls}
            columns={[
              { key: 'time', label: 'Time', render: (r) => <Time value={r.time} /> },
              { key: 'sub', label: 'Caller' },
              { key: 'via', label: 'Via' },
              { key: 'method', label: 'Method' },
              { key: 'route', label: 'Route' },
              { key: 'params', label: 'Parameters', render: (r) => <code class="small">{JSON.stringify(r.params)}</code> },
              { key: 'status', label: 'Status', numeric: true, render: (r) => <span class={Number(r.status) >= 400 ? 'bad' : undefined}>{String(r.status)}</span> },
              { key: 'rows', label: 'Rows', numeric: true },
              { key: 'duration_ms', label: 'ms', numeric: true, render: (r) => Number(r.duration_ms).toFixed(1) },
            ]}
          />
        )}
      </Status>
    </>
  );
}
