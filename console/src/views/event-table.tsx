// The one table of events every view shows (search, live tail, session
// graph), with links to each event, human, agent and session.
import { Link } from '../router';
import { FlagList, hrefs, IdLink, Outcome, Table, Time } from '../ui';

export type EventRow = Record<string, unknown> & { id: string };

export function EventTable({ rows }: { rows: EventRow[] }) {
  return (
    <Table
      caption="Events"
      rows={rows}
      rowKey={(r) => r.id}
      empty="No event matches."
      columns={[
        { key: 'time', label: 'Time', render: (r) => <Link href={hrefs.event(r.id)}><Time value={r.time} /><span class="sr-only"> event {r.id}</span></Link> },
        { key: 'type', label: 'Type' },
        { key: 'human_sub', label: 'Human', render: (r) => <IdLink href={hrefs.human} value={r.human_sub} /> },
        { key: 'agent_id', label: 'Agent', render: (r) => <IdLink href={hrefs.agent} value={r.agent_id} /> },
        { key: 'server_id', label: 'Server' },
        { key: 'tool_name', label: 'Tool' },
        { key: 'outcome', label: 'Outcome', render: (r) => <Outcome value={r.outcome} /> },
        { key: 'flags', label: 'Flags', render: (r) => <FlagList flags={r.flags} /> },
        { key: 'session_id', label: 'Session', render: (r) => <IdLink href={hrefs.session} value={r.session_id} /> },
      ]}
    />
  );
}
