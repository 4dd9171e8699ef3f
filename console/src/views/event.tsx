// One event in full: the normalised row, its flags with their definitions,
// the signed event as received and the key that verified it, and links to
// everything it names.
import { enc, Link } from '../router';
import { FlagList, hrefs, IdLink, KeyValues, Outcome, Section, Status, Time, text, useApi } from '../ui';

interface EventDetail {
  event: Record<string, unknown> & { id: string };
  flags: string[];
  signed: { jws: string; payload: unknown };
  verified_by: { emitter: string; kid: string; alg: string | null; state_now: string; public_jwk: unknown };
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function EventView({ id }: { id: string }) {
  const result = useApi<EventDetail>(`/v1/events/${enc(id)}`);
  return (
    <Status loaded={result}>
      {(d) => {
        const e = d.event;
        const links: [string, string, string | null][] = [
          ['Human', str(e.human_sub), e.human_sub ? hrefs.human(str(e.human_sub)) : null],
          ['Agent', str(e.agent_id), e.agent_id ? hrefs.agent(str(e.agent_id)) : null],
          ['Session graph', str(e.session_id), e.session_id ? hrefs.session(str(e.session_id)) : null],
          ['Trace graph', str(e.trace_id), e.trace_id ? hrefs.trace(str(e.trace_id)) : null],
          ['Token (events with this jti)', str(e.token_jti), e.token_jti ? hrefs.search({ jti: str(e.token_jti) }) : null],
          ['Token blast radius', str(e.token_jti), e.token_jti ? hrefs.blast('jti', str(e.token_jti)) : null],
          ['Grant (events under it)', str(e.grant_id), e.grant_id ? hrefs.search({ grant: str(e.grant_id) }) : null],
          ['Grant blast radius', str(e.grant_id), e.grant_id ? hrefs.blast('grant', str(e.grant_id)) : null],
          ['Consent (events under it)', str(e.consent_id), e.consent_id ? hrefs.search({ consent: str(e.consent_id) }) : null],
        ];
        return (
          <>
            <h1>
              Event <code>{e.id}</code>
            </h1>
            <p class="lede">
              <Time value={e.time} /> · {text(e.type)} · <Outcome value={e.outcome} /> · from <code>{text(e.source)}</code>
            </p>
            <Section title="Flags">
              <FlagList flags={d.flags} withDefinitions />
            </Section>
            <Section title="Related">
              <ul class="links">
                {links
                  .filter(([, , href]) => href)
                  .map(([label, value, href]) => (
                    <li key={label}>
                      {label}: <Link href={href!}>{value}</Link>
                    </li>
                  ))}
              </ul>
            </Section>
            <Section title="Verified by">
              <KeyValues
                data={{ emitter: d.verified_by.emitter, kid: d.verified_by.kid, alg: d.verified_by.alg, 'key state now': d.verified_by.state_now }}
                render={{ emitter: (v) => <Link href={`/emitters?source=${enc(String(v))}`}>{String(v)}</Link> }}
              />
              <details>
                <summary>Public key (JWK)</summary>
                <pre tabIndex={0}>{JSON.stringify(d.verified_by.public_jwk, null, 2)}</pre>
              </details>
            </Section>
            <Section title="Normalised row">
              <KeyValues
                data={e}
                render={{
                  human_sub: (v) => <IdLink href={hrefs.human} value={v} />,
                  agent_id: (v) => <IdLink href={hrefs.agent} value={v} />,
                  session_id: (v) => <IdLink href={hrefs.session} value={v} />,
                  trace_id: (v) => <IdLink href={hrefs.trace} value={v} />,
                  flags: (v) => <FlagList flags={v} />,
                }}
              />
            </Section>
            <Section title="Signed event (as received)">
              <h3>Payload</h3>
              <pre tabIndex={0}>{JSON.stringify(d.signed.payload, null, 2)}</pre>
              <h3>Compact JWS</h3>
              <pre tabIndex={0} class="wrap">{d.signed.jws}</pre>
            </Section>
          </>
        );
      }}
    </Status>
  );
}
