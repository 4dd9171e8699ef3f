// Blast radius, findings, emitter health and the quarantine browser.
import { useMemo } from 'preact/hooks';
import { qs } from '../api';
import { useEnums } from '../enums';
import { enc, Link, navigate, type Location } from '../router';
import { FlagList, hrefs, IdLink, KeyValues, Outcome, Section, Status, Table, Time, TimeWindow, absoluteWindow, text, useApi } from '../ui';

type Rec = Record<string, unknown>;
const SELECTORS = [
  ['jti', 'Token id (jti)'],
  ['grant', 'Grant id'],
  ['consent', 'Consent id'],
  ['agent', 'Agent id'],
] as const;

export function BlastView({ loc }: { loc: Location }) {
  const chosen = SELECTORS.find(([k]) => loc.query.get(k));
  const window = useMemo(() => absoluteWindow(loc.query, '7d'), [loc.href]);
  const path = chosen ? `/v1/blast-radius${qs({ [chosen[0]]: loc.query.get(chosen[0]), ...window, tenant: loc.query.get('tenant') })}` : null;
  const result = useApi<{ summary: Rec; tools: Rec[]; events: (Rec & { id: string })[] }>(path);
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const q = new URLSearchParams();
    q.set(String(form.get('kind')), String(form.get('value') ?? '').trim());
    for (const k of ['since', 'from', 'to', 'tenant']) if (loc.query.get(k)) q.set(k, loc.query.get(k)!);
    navigate(`/blast-radius?${q.toString()}`);
  };
  return (
    <>
      <h1>Blast radius</h1>
      <form class="filters" onSubmit={submit} key={loc.href} aria-label="Starting point">
        <label>
          Starting from
          <select name="kind" defaultValue={chosen?.[0] ?? 'jti'}>
            {SELECTORS.map(([k, label]) => (
              <option key={k} value={k} selected={chosen?.[0] === k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Value
          <input name="value" required defaultValue={chosen ? (loc.query.get(chosen[0]) ?? '') : ''} autoComplete="off" />
        </label>
        <div class="form-actions">
          <button type="submit" class="primary">
            Show
          </button>
        </div>
      </form>
      <TimeWindow loc={loc} defaultSince="7d" />
      {!chosen && <p class="muted">Give a token id, grant, consent or agent to see everything reachable from it.</p>}
      {chosen && (
        <Status loaded={result}>
          {(d) => (
            <>
              <Section title="Reach">
                <KeyValues
                  data={d.summary}
                  render={{
                    humans: (v) => <Ids values={v} href={hrefs.human} />,
                    agents: (v) => <Ids values={v} href={hrefs.agent} />,
                    sessions: (v) => <Ids values={v} href={hrefs.session} />,
                    tokens: (v) => <Ids values={v} href={(t) => hrefs.blast('jti', t)} />,
                    flags: (v) => <FlagList flags={v} />,
                    first: (v) => <Time value={v} />,
                    last: (v) => <Time value={v} />,
                  }}
                />
              </Section>
              <Section title="Tools touched">
                <Table caption="Tools" rows={d.tools} columns={[{ key: 'server_id', label: 'Server' }, { key: 'tool_name', label: 'Tool' }, { key: 'intent', label: 'Intent' }, { key: 'sensitivity', label: 'Sensitivity' }, { key: 'events', label: 'Events', numeric: true }, { key: 'denied', label: 'Denied', numeric: true }]} />
              </Section>
              <Section title="Events">
                <Table
                  caption="Events"
                  rows={d.events}
                  columns={[
                    { key: 'time', label: 'Time', render: (r) => <Link href={hrefs.event(String(r.id))}><Time value={r.time} /></Link> },
                    { key: 'type', label: 'Type' },
                    { key: 'human_sub', label: 'Human', render: (r) => <IdLink href={hrefs.human} value={r.human_sub} /> },
                    { key: 'agent_id', label: 'Agent', render: (r) => <IdLink href={hrefs.agent} value={r.agent_id} /> },
                    { key: 'server_id', label: 'Server' },
                    { key: 'tool_name', label: 'Tool' },
                    { key: 'tool_resource', label: 'Resource' },
                    { key: 'outcome', label: 'Outcome', render: (r) => <Outcome value={r.outcome} /> },
                    { key: 'flags', label: 'Flags', render: (r) => <FlagList flags={r.flags} /> },
                  ]}
                />
              </Section>
            </>
          )}
        </Status>
      )}
    </>
  );
}

function Ids({ values, href }: { values: unknown; href: (v: string) => string }) {
  const vs = Array.isArray(values) ? (values as string[]) : [];
  if (vs.length === 0) return <>—</>;
  return (
    <ul class="inline">
      {vs.map((v) => (
        <li key={v}>
          <Link href={href(v)}>{v}</Link>
        </li>
      ))}
    </ul>
  );
}

export function FindingsView({ loc }: { loc: Location }) {
  const enums = useEnums('/v1/findings');
  const groupBy = loc.query.get('group_by') ?? 'flag';
  const flag = loc.query.get('flag');
  const window = useMemo(() => absoluteWindow(loc.query, '7d'), [loc.href]);
  const result = useApi<{ findings: Rec[] }>(`/v1/findings${qs({ group_by: groupBy, flag, ...window, tenant: loc.query.get('tenant') })}`);
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(loc.query);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/findings?${q.toString()}`);
  };
  const searchFor = (r: Rec): Record<string, string> => {
    const f: Record<string, string> = { flag: String(r.flag) };
    if (groupBy === 'human' && r.human) f.human = String(r.human);
    if (groupBy === 'agent' && r.agent) f.agent = String(r.agent);
    return f;
  };
  return (
    <>
      <h1>Findings</h1>
      <div class="filters">
        <label>
          Group by
          <select value={groupBy} onChange={(e) => set('group_by', (e.target as HTMLSelectElement).value)}>
            {(enums.group_by?.length ? enums.group_by : ['flag', 'emitter', 'human', 'agent']).map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label>
          Flag
          <select value={flag ?? ''} onChange={(e) => set('flag', (e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {(enums.flag ?? []).map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </label>
      </div>
      <TimeWindow loc={loc} defaultSince="7d" />
      <Status loaded={result}>
        {(d) => (
          <Table
            caption="Findings"
            rows={d.findings}
            empty="No flagged events in this window."
            columns={[
              ...(groupBy === 'flag' ? [] : [{ key: groupBy, label: groupBy, render: (r: Rec) => (groupBy === 'human' ? <IdLink href={hrefs.human} value={r.human} /> : groupBy === 'agent' ? <IdLink href={hrefs.agent} value={r.agent} /> : text(r[groupBy])) }]),
              { key: 'flag', label: 'Flag', render: (r: Rec) => <FlagList flags={[r.flag]} /> },
              { key: 'events', label: 'Events', numeric: true, render: (r: Rec) => <Link href={hrefs.search({ ...searchFor(r), ...(window.from ? { from: window.from } : {}) })}>{String(r.events)}</Link> },
              { key: 'first', label: 'First', render: (r: Rec) => <Time value={r.first} /> },
              { key: 'last', label: 'Last', render: (r: Rec) => <Time value={r.last} /> },
            ]}
          />
        )}
      </Status>
    </>
  );
}

export function EmittersView({ loc }: { loc: Location }) {
  const result = useApi<{ emitters: Rec[] }>(`/v1/emitters${qs({ tenant: loc.query.get('tenant') })}`);
  const only = loc.query.get('source');
  return (
    <>
      <h1>Emitter health</h1>
      {only && (
        <p class="lede">
          Showing <code>{only}</code> · <Link href="/emitters">all emitters</Link>
        </p>
      )}
      <Status loaded={result}>
        {(d) => (
          <Table
            caption="Emitters"
            rows={d.emitters.filter((e) => !only || e.source === only)}
            empty="No emitter has stored events for your tenants."
            columns={[
              { key: 'source', label: 'Emitter', render: (r) => <code>{String(r.source)}</code> },
              { key: 'silent', label: 'State', render: (r) => (r.silent ? <span class="bad">silent since <Time value={r.silent_since} /></span> : <span class="good">reporting</span>) },
              { key: 'last_seen', label: 'Last seen', render: (r) => <Time value={r.last_seen} /> },
              { key: 'last_heartbeat', label: 'Last heartbeat', render: (r) => <Time value={r.last_heartbeat} /> },
              { key: 'last_seq', label: 'Last seq', numeric: true },
              { key: 'open_gaps', label: 'Open gaps', numeric: true, render: (r) => (Number(r.open_gaps) > 0 ? <span class="bad">{String(r.open_gaps)}</span> : '0') },
              { key: 'missing_events', label: 'Missing events', numeric: true },
              { key: 'quarantined', label: 'Quarantined', numeric: true, render: (r) => (Number(r.quarantined) > 0 ? <Link href={`/quarantine?source=${enc(String(r.source))}&since=30d`}>{String(r.quarantined)}</Link> : '0') },
            ]}
          />
        )}
      </Status>
    </>
  );
}

export function QuarantineView({ loc }: { loc: Location }) {
  const enums = useEnums('/v1/quarantine');
  const reason = loc.query.get('reason');
  const source = loc.query.get('source');
  const cursor = loc.query.get('cursor');
  const window = useMemo(() => absoluteWindow(loc.query, '7d'), [loc.href]);
  const result = useApi<{ quarantined: Rec[]; next_cursor: string | null }>(`/v1/quarantine${qs({ reason, source, cursor, ...window, limit: 50, tenant: loc.query.get('tenant') })}`);
  const set = (changes: Record<string, string | null>) => {
    const q = new URLSearchParams(loc.query);
    for (const [k, v] of Object.entries(changes)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    navigate(`/quarantine?${q.toString()}`);
  };
  return (
    <>
      <h1>Quarantine</h1>
      <div class="filters">
        <label>
          Reason
          <select value={reason ?? ''} onChange={(e) => set({ reason: (e.target as HTMLSelectElement).value, cursor: null })}>
            <option value="">any</option>
            {(enums.reason ?? []).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Claimed source
          <input value={source ?? ''} onChange={(e) => set({ source: (e.target as HTMLInputElement).value.trim(), cursor: null })} autoComplete="off" />
        </label>
      </div>
      <TimeWindow loc={loc} defaultSince="7d" />
      <Status loaded={result}>
        {(d) => (
          <>
            <Table
              caption="Quarantined records"
              rows={d.quarantined}
              empty="Nothing was refused in this window."
              rowKey={(r) => String(r.quarantine_id)}
              columns={[
                { key: 'received_at', label: 'Received', render: (r) => <Time value={r.received_at} /> },
                { key: 'reason', label: 'Reason', render: (r) => <code>{String(r.reason)}</code> },
                { key: 'detail', label: 'Detail' },
                { key: 'claimed_source', label: 'Claimed source' },
                { key: 'claimed_tenant', label: 'Claimed tenant' },
                { key: 'raw_bytes', label: 'Bytes', numeric: true },
                { key: 'raw_base64', label: 'Raw', render: (r) => <RawBytes base64={String(r.raw_base64 ?? '')} sha256={String(r.raw_sha256 ?? '')} /> },
              ]}
            />
            <nav class="pager" aria-label="Pages">
              {cursor && (
                <button type="button" onClick={() => set({ cursor: null })}>
                  First page
                </button>
              )}
              {d.next_cursor && (
                <button type="button" class="primary" onClick={() => set({ cursor: d.next_cursor })}>
                  Next page
                </button>
              )}
            </nav>
          </>
        )}
      </Status>
    </>
  );
}

function RawBytes({ base64, sha256 }: { base64: string; sha256: string }) {
  let shown = '';
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    shown = new TextDecoder('utf-8', { fatal: false }).decode(bytes.slice(0, 4096));
  } catch {
    shown = base64;
  }
  return (
    <details>
      <summary>show</summary>
      <p class="muted">SHA-256 {sha256}</p>
      <pre tabIndex={0} class="wrap">{shown}</pre>
    </details>
  );
}
