// The actorlog console: an analyst's and an auditor's view of the query API.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { credential, onCredentialChange, signOut } from './auth';
import { Link, match, useLocation, type Location } from './router';
import { LoginView } from './views/login';
import { SearchView } from './views/search';
import { EventView } from './views/event';
import { AgentView, HumanView } from './views/activity';
import { GraphView } from './views/graph';
import { BlastView, EmittersView, FindingsView, QuarantineView } from './views/incident';
import { ReportsView, ReportView } from './views/reports';
import { AccessLogView, KeysView } from './views/admin';
import './style.css';

const NAV: [string, string][] = [
  ['/search', 'Search'],
  ['/findings', 'Findings'],
  ['/blast-radius', 'Blast radius'],
  ['/emitters', 'Emitters'],
  ['/quarantine', 'Quarantine'],
  ['/reports', 'Reports'],
  ['/admin/keys', 'Keys'],
  ['/admin/access-log', 'Access log'],
];

function View({ loc }: { loc: Location }) {
  const p = loc.path;
  let m: Record<string, string> | null;
  if (p === '/' || p === '/search') return <SearchView loc={loc} />;
  if ((m = match('/events/:id', p))) return <EventView id={m.id!} />;
  if ((m = match('/humans/:sub', p))) return <HumanView sub={m.sub!} loc={loc} />;
  if ((m = match('/agents/:id', p))) return <AgentView id={m.id!} loc={loc} />;
  if ((m = match('/sessions/:id', p))) return <GraphView kind="session" id={m.id!} tenant={loc.query.get('tenant')} />;
  if ((m = match('/traces/:id', p))) return <GraphView kind="trace" id={m.id!} tenant={loc.query.get('tenant')} />;
  if (p === '/blast-radius') return <BlastView loc={loc} />;
  if (p === '/findings') return <FindingsView loc={loc} />;
  if (p === '/emitters') return <EmittersView loc={loc} />;
  if (p === '/quarantine') return <QuarantineView loc={loc} />;
  if (p === '/reports') return <ReportsView />;
  if ((m = match('/reports/:id', p))) return <ReportView id={m.id!} />;
  if (p === '/admin/keys') return <KeysView />;
  if (p === '/admin/access-log') return <AccessLogView loc={loc} />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        The console has no page at <code>{p}</code>. <Link href="/search">Search events</Link>.
      </p>
    </>
  );
}

function App() {
  const loc = useLocation();
  const [signedIn, setSignedIn] = useState(() => credential() !== null);
  useEffect(() => onCredentialChange(() => setSignedIn(credential() !== null)), []);
  useEffect(() => {
    const h1 = document.querySelector('h1');
    document.title = `${h1?.textContent ?? 'actorlog'} · actorlog console`;
  });
  const section = NAV.find(([href]) => loc.path === href || loc.path.startsWith(`${href}/`))?.[0] ?? (loc.path === '/' ? '/search' : null);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/search" class="brand">
          actorlog
        </Link>
        {signedIn && (
          <nav aria-label="Sections">
            <ul>
              {NAV.map(([href, label]) => (
                <li key={href}>
                  <Link href={href} aria-current={section === href ? 'page' : undefined}>
                    {label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {signedIn && (
          <button type="button" class="signout" onClick={signOut}>
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {signedIn ? <View loc={loc} /> : <LoginView loc={loc} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
