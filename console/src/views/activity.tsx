// A human's page (which agents acted for them, under which delegations and
// consents, on which servers and tools) and an agent's page (for whom it
// acted, with which runtime identities and tools), over a window.
import { useMemo } from 'preact/hooks';
import { qs } from '../api';
import { enc, Link, type Location } from '../router';
import { Bars, hrefs, IdLink, Section, Status, Table, Time, TimeWindow, absoluteWindow, text, useApi } from '../ui';

type Rec = Record<string, unknown>;
interface Day { day: string; events: number; allowed: number; denied: number; flagged: number }

function FlagCounts({ flags, base }: { flags: Record<string, number>; base: Record<string, string> }) {
  const entries = Object.entries(flags);
  if (entries.length === 0) return <p class="muted">No flagged events in this window.</p>;
  return (
    <ul class="counts">
      {entries.map(([f, n]) => (
        <li key={f}>
          <Link class="flag" href={hrefs.search({ ...base, flag: f })}>
            {f}
          </Link>{' '}
          {n}
        </li>
      ))}
    </ul>
  );
}

function ByDay({ days }: { days: Day[] }) {
  return (
    <Bars
      label="Events per day"
      data={days.map((d) => ({ key: d.day, allowed: d.allowed, denied: d.denied, other: Math.max(0, d.events - d.allowed - d.denied) }))}
      series={[
        { key: 'allowed', label: 'allowed', className: 's-allow' },
        { key: 'denied', label: 'denied', className: 's-deny' },
        { key: 'other', label: 'no decision', className: 's-other' },
      ]}
    />
  );
}

const list = (v: unknown) => text(v);

export function HumanView({ sub, loc }: { sub: string; loc: Location }) {
  const window = useMemo(() => absoluteWindow(loc.query), [loc.href]);
  const result = useApi<{ human: string; period: { from: string; to: string }; agents: Rec[]; flags: Record<string, number>; by_day: Day[] }>(`/v1/humans/${enc(sub)}/activity${qs({ ...window, tenant: loc.query.get('tenant') })}`);
  return (
    <>
      <h1>
        Human <code>{sub}</code>
      </h1>
      <p class="lede">
        <Link href={hrefs.search({ human: sub })}>All events for this human</Link>
      </p>
      <TimeWindow loc={loc} />
      <Status loaded={result}>
        {(d) => (
          <>
            <Section title="Agents that acted for them">
              <Table
                caption="Agents"
                rows={d.agents}
                columns={[
                  { key: 'agent_id', label: 'Agent', render: (r) => <IdLink href={hrefs.agent} value={r.agent_id} /> },
                  { key: 'events', label: 'Events', numeric: true },
                  { key: 'allowed', label: 'Allowed', numeric: true },
                  { key: 'denied', label: 'Denied', numeric: true },
                  { key: 'delegation_modes', label: 'Delegation', render: (r) => list(r.delegation_modes) },
                  { key: 'grants', label: 'Grants', render: (r) => <IdList values={r.grants} href={(g) => hrefs.search({ grant: g })} /> },
                  { key: 'consents', label: 'Consents', render: (r) => <IdList values={r.consents} href={(c) => hrefs.search({ consent: c })} /> },
                  { key: 'servers', label: 'Servers', render: (r) => list(r.servers) },
                  { key: 'tools', label: 'Tools', render: (r) => list(r.tools) },
                  { key: 'last', label: 'Last', render: (r) => <Time value={r.last} /> },
                ]}
              />
            </Section>
            <Section title="Flags">
              <FlagCounts flags={d.flags} base={{ human: sub }} />
            </Section>
            <Section title="Activity by day">
              <ByDay days={d.by_day} />
            </Section>
          </>
        )}
      </Status>
    </>
  );
}

function IdList({ values, href }: { values: unknown; href: (v: string) => string }) {
  const vs = Array.isArray(values) ? (values as string[]) : [];
  if (vs.length === 0) return <>—</>;
  return (
    <>
      {vs.map((v, i) => (
        <span key={v}>
          {i > 0 && ', '}
          <Link href={href(v)}>{v}</Link>
        </span>
      ))}
    </>
  );
}

export function AgentView({ id, loc }: { id: string; loc: Location }) {
  const window = useMemo(() => absoluteWindow(loc.query), [loc.href]);
  const result = useApi<{ agent: string; on_behalf_of: Rec[]; runtime_identities: Rec[]; tools: Rec[]; flags: Record<string, number>; by_day: Day[] }>(
    `/v1/agents/${enc(id)}/activity${qs({ ...window, tenant: loc.query.get('tenant') })}`,
  );
  return (
    <>
      <h1>
        Agent <code>{id}</code>
      </h1>
      <p class="lede">
        <Link href={hrefs.search({ agent: id })}>All events of this agent</Link> · <Link href={hrefs.blast('agent', id)}>Blast radius</Link>
      </p>
      <TimeWindow loc={loc} />
      <Status loaded={result}>
        {(d) => (
          <>
            <Section title="On whose behalf">
              <Table
                caption="Principals"
                rows={d.on_behalf_of}
                columns={[
                  { key: 'human_sub', label: 'Human', render: (r) => (r.human_sub ? <IdLink href={hrefs.human} value={r.human_sub} /> : <span class="warn">no human</span>) },
                  { key: 'human_email', label: 'Email' },
                  { key: 'events', label: 'Events', numeric: true },
                  { key: 'allowed', label: 'Allowed', numeric: true },
                  { key: 'denied', label: 'Denied', numeric: true },
                  { key: 'delegation_modes', label: 'Delegation', render: (r) => list(r.delegation_modes) },
                  { key: 'last', label: 'Last', render: (r) => <Time value={r.last} /> },
                ]}
              />
            </Section>
            <Section title="Servers and tools">
              <Table
                caption="Tools"
                rows={d.tools}
                columns={[
                  { key: 'server_id', label: 'Server' },
                  { key: 'tool_name', label: 'Tool', render: (r) => <Link href={hrefs.search({ agent: id, tool: String(r.tool_name) })}>{String(r.tool_name)}</Link> },
                  { key: 'intent', label: 'Intent' },
                  { key: 'sensitivity', label: 'Sensitivity' },
                  { key: 'events', label: 'Events', numeric: true },
                  { key: 'allowed', label: 'Allowed', numeric: true },
                  { key: 'denied', label: 'Denied', numeric: true },
                ]}
              />
            </Section>
            <Section title="Runtime identities">
              <Table caption="Runtime identities" rows={d.runtime_identities} columns={[{ key: 'kind', label: 'Kind' }, { key: 'id', label: 'Id' }, { key: 'events', label: 'Events', numeric: true }, { key: 'last', label: 'Last', render: (r) => <Time value={r.last} /> }]} />
            </Section>
            <Section title="Flags">
              <FlagCounts flags={d.flags} base={{ agent: id }} />
            </Section>
            <Section title="Activity by day">
              <ByDay days={d.by_day} />
            </Section>
          </>
        )}
      </Status>
    </>
  );
}
