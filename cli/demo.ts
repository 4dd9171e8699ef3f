// `actorlog demo`: realistic traffic for a new user to query right away.
// Three emitters (an identity provider, an MCP gateway and an MCP server) with
// their own keys, three people, agents acting for them through OAuth
// delegation and token exchange (nested `act`), tools of every intent, some
// denials, one impersonation, one token passed through to a second server,
// and an agent still acting for someone who has left.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import { generateAndRegister } from '../keys/generate.js';
import { readRegistry } from '../keys/registry.js';
import { EmitterClient } from '@actorlog/sdk';
import type { EventInput, TokenClaims } from '../schemas/event.js';

export const DEMO_EMITTERS = { idp: 'idp:demo-okta', gateway: 'gw:demo-gateway', server: 'mcp:demo-crm' } as const;
type Emitter = keyof typeof DEMO_EMITTERS;

const TENANT = 'acme';
const ISSUER = 'https://login.acme.example';
const people = {
  alice: { sub: 'u-alice', iss: ISSUER, email: 'alice@acme.example', name: 'Alice Martin' },
  bob: { sub: 'u-bob', iss: ISSUER, email: 'bob@acme.example', name: 'Bob Chen' },
  carol: { sub: 'u-carol', iss: ISSUER, email: 'carol@acme.example', name: 'Carol Diaz' },
};
const agents = {
  research: { id: 'agent:research-assistant', name: 'Research assistant', runtime: { kind: 'spiffe' as const, id: 'spiffe://acme.example/agents/research' } },
  support: { id: 'agent:support-bot', name: 'Support bot', runtime: { kind: 'workload' as const, id: 'k8s:support/support-bot' } },
  summarizer: { id: 'agent:summarizer', name: 'Summarizer sub-agent', runtime: { kind: 'spiffe' as const, id: 'spiffe://acme.example/agents/summarizer' } },
};
const servers = {
  crm: { id: 'mcp:crm', audience: 'https://crm.mcp.acme.example' },
  github: { id: 'mcp:github', audience: 'https://github.mcp.acme.example' },
  files: { id: 'mcp:files', audience: 'https://files.mcp.acme.example' },
};

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

// A W3C trace-id (32 hex) derived from the session, so a demo session and
// its trace are easy to find from each other.
export const traceIdOf = (session: string): string => createHash('sha256').update(session).digest('hex').slice(0, 32);

export function demoEvents(now: number = Date.now()): { emitter: Emitter; event: EventInput }[] {
  const out: { emitter: Emitter; event: EventInput }[] = [];
  let minute = 0;
  const at = () => new Date(now - 60 * 60_000 + minute++ * 60_000).toISOString();
  const exp = Math.floor(now / 1000) + 3600;
  const iat = Math.floor(now / 1000) - 3600;
  const token = (human: { sub: string }, audience: string, scope: string[], act?: TokenClaims['act'], jti?: string): TokenClaims => ({
    iss: ISSUER,
    sub: human.sub,
    aud: [audience],
    scope,
    exp,
    iat,
    jti: jti ?? `jti-${human.sub}-${minute}`,
    client_id: 'acme-agent-platform',
    ...(act ? { act } : {}),
  });

  // Alice delegates CRM search to the research assistant, with consent.
  out.push({
    emitter: 'idp',
    event: {
      type: 'consent.granted', tenant: TENANT, time: at(), human: people.alice, agent: agents.research,
      delegation: { mode: 'oauth', grant_id: 'grant-alice-research', consent_id: 'consent-alice-crm', scopes: ['crm.read', 'files.read'] },
    },
  });
  out.push({
    emitter: 'idp',
    event: {
      type: 'delegation.granted', tenant: TENANT, time: at(), human: people.alice, agent: agents.research,
      delegation: { mode: 'oauth', grant_id: 'grant-alice-research', consent_id: 'consent-alice-crm', scopes: ['crm.read', 'files.read'] },
    },
  });
  // The assistant exchanges Alice's token (RFC 8693) and hands part of the work to a sub-agent.
  const chainAct = { sub: agents.summarizer.id, act: { sub: agents.research.id } };
  out.push({
    emitter: 'idp',
    event: {
      type: 'token.exchanged', tenant: TENANT, time: at(), human: people.alice, agent: agents.research,
      delegation: { mode: 'obo_exchange', grant_id: 'grant-alice-research', scopes: ['crm.read'] },
      token: token(people.alice, servers.crm.audience, ['crm.read'], { sub: agents.research.id }, 'jti-alice-crm'),
      context: { session_id: 'sess-alice-1', trace_id: traceIdOf('sess-alice-1') },
    },
  });

  const call = (
    emitter: Emitter,
    human: (typeof people)[keyof typeof people] | null,
    agent: (typeof agents)[keyof typeof agents],
    server: (typeof servers)[keyof typeof servers],
    tool: { name: string; intent: 'read' | 'search' | 'summarize' | 'export' | 'write' | 'delete' | 'admin'; sensitivity?: 'internal' | 'confidential' | 'restricted'; resource?: string; required_scopes?: string[] },
    extra: Partial<EventInput> & { session: string },
  ): void => {
    const { session, ...rest } = extra;
    out.push({
      emitter,
      event: {
        type: 'mcp.tool.call',
        tenant: TENANT,
        time: at(),
        human,
        agent,
        target: { server, tool },
        decision: { outcome: 'allow', policy: { id: 'mcp-tools', version: '7' }, decided_by: 'gateway' },
        context: { session_id: session, trace_id: traceIdOf(session), request_id: `req-${minute}` },
        payload: { args_sha256: sha(`${tool.name}-${minute}`), bytes: 200 + minute * 13 },
        ...rest,
      },
    });
  };

  const aliceObo = { mode: 'obo_exchange' as const, grant_id: 'grant-alice-research', consent_id: 'consent-alice-crm', scopes: ['crm.read', 'files.read'] };
  for (const q of ['renewals Q4', 'contacts at Globex', 'open opportunities']) {
    call('gateway', people.alice, agents.research, servers.crm, { name: 'crm.search_contacts', intent: 'search', sensitivity: 'internal', resource: q }, {
      session: 'sess-alice-1', delegation: aliceObo, token: token(people.alice, servers.crm.audience, ['crm.read'], { sub: agents.research.id }, 'jti-alice-crm'),
    });
  }
  call('gateway', people.alice, agents.summarizer, servers.files, { name: 'files.summarize_document', intent: 'summarize', sensitivity: 'confidential', resource: 'doc:q4-plan' }, {
    session: 'sess-alice-1', delegation: aliceObo, token: token(people.alice, servers.files.audience, ['files.read'], chainAct, 'jti-alice-files'),
  });
  call('server', people.alice, agents.research, servers.crm, { name: 'crm.search_contacts', intent: 'search', sensitivity: 'internal' }, {
    type: 'mcp.tool.result', session: 'sess-alice-1', delegation: aliceObo,
    decision: { outcome: 'allow', policy: { id: 'crm-server', version: '2' }, decided_by: 'server' },
    token: token(people.alice, servers.crm.audience, ['crm.read'], { sub: agents.research.id }, 'jti-alice-crm'),
  });

  // Bob's support bot: routine reads, then an export the policy denies.
  const bobOauth = { mode: 'oauth' as const, grant_id: 'grant-bob-support', scopes: ['crm.read', 'github.write'] };
  call('gateway', people.bob, agents.support, servers.crm, { name: 'crm.read_ticket', intent: 'read', sensitivity: 'internal', resource: 'ticket:4711' }, {
    session: 'sess-bob-1', delegation: bobOauth, token: token(people.bob, servers.crm.audience, ['crm.read'], { sub: agents.support.id }, 'jti-bob-crm'),
  });
  call('gateway', people.bob, agents.support, servers.github, { name: 'github.create_issue', intent: 'write', sensitivity: 'internal', resource: 'repo:acme/support' }, {
    session: 'sess-bob-1', delegation: bobOauth, token: token(people.bob, servers.github.audience, ['github.write'], { sub: agents.support.id }),
  });
  call('gateway', people.bob, agents.support, servers.crm, { name: 'crm.export_contacts', intent: 'export', sensitivity: 'restricted', resource: 'segment:all-customers', required_scopes: ['crm.export'] }, {
    session: 'sess-bob-1', delegation: bobOauth, token: token(people.bob, servers.crm.audience, ['crm.read'], { sub: agents.support.id }),
    decision: { outcome: 'deny', policy: { id: 'export-needs-approval', version: '3' }, reason: 'bulk export of restricted data requires a JIT approval', decided_by: 'gateway' },
  });
  // Security approves a one-off export just in time.
  out.push({
    emitter: 'idp',
    event: {
      type: 'delegation.granted', tenant: TENANT, time: at(), human: people.bob, agent: agents.support,
      delegation: { mode: 'jit_approval', grant_id: 'approval-bob-42', scopes: ['crm.export'], expires_at: new Date(now).toISOString() },
      attrs: { approved_by: 'u-dana', approver_email: 'dana@acme.example', ticket: 'SEC-1234' },
    },
  });
  call('gateway', people.bob, agents.support, servers.crm, { name: 'crm.export_contacts', intent: 'export', sensitivity: 'restricted', resource: 'segment:all-customers' }, {
    session: 'sess-bob-1', delegation: { mode: 'jit_approval', grant_id: 'approval-bob-42', scopes: ['crm.export'] },
    token: token(people.bob, servers.crm.audience, ['crm.read', 'crm.export'], { sub: agents.support.id }),
    decision: { outcome: 'allow_with_obligations', policy: { id: 'export-needs-approval', version: '3' }, obligations: ['watermark', 'notify-dpo'], decided_by: 'gateway' },
  });
  // The same token (same jti) presented at a second server whose audience it does not name.
  call('gateway', people.bob, agents.support, servers.files, { name: 'files.read_document', intent: 'read', sensitivity: 'confidential', resource: 'doc:pricing' }, {
    session: 'sess-bob-1', delegation: bobOauth, token: token(people.bob, servers.crm.audience, ['crm.read'], { sub: agents.support.id }, 'jti-bob-crm'),
  });

  // The support bot impersonates Carol (no actor in her token) to delete a document.
  call('gateway', people.carol, agents.support, servers.files, { name: 'files.delete_document', intent: 'delete', sensitivity: 'confidential', resource: 'doc:carol-notes' }, {
    session: 'sess-carol-1', delegation: { mode: 'impersonation', scopes: ['files.write'] },
    token: token(people.carol, servers.files.audience, ['files.write']),
  });
  // An agent call that lost the human's identity on the way.
  call('gateway', null, agents.research, servers.github, { name: 'github.list_repos', intent: 'read' }, {
    session: 'sess-unknown-1', delegation: { mode: 'oauth', scopes: ['github.read'] },
  });
  // A policy denial for an admin tool.
  call('gateway', people.carol, agents.research, servers.github, { name: 'github.delete_repo', intent: 'admin', sensitivity: 'restricted', resource: 'repo:acme/legacy' }, {
    session: 'sess-carol-2', delegation: { mode: 'oauth', grant_id: 'grant-carol-research', scopes: ['github.read'] },
    token: token(people.carol, servers.github.audience, ['github.read'], { sub: agents.research.id }),
    decision: { outcome: 'deny', policy: { id: 'mcp-tools', version: '7' }, reason: 'admin intent is not delegable', decided_by: 'gateway' },
  });
  // Bob leaves the company.
  out.push({
    emitter: 'idp',
    event: { type: 'identity.lifecycle', tenant: TENANT, time: at(), human: people.bob, lifecycle: { change: 'leaver' } },
  });
  // ...but his support bot still holds a token and keeps working for him.
  call('gateway', people.bob, agents.support, servers.github, { name: 'github.read_repo', intent: 'read', resource: 'repo:acme/support' }, {
    session: 'sess-bob-2', delegation: bobOauth, token: token(people.bob, servers.github.audience, ['github.write'], { sub: agents.support.id }),
  });
  return out;
}

async function demoKey(dataDir: string, registryFile: string, emitter: Emitter): Promise<JWK> {
  const source = DEMO_EMITTERS[emitter];
  const file = path.join(dataDir, 'demo', `${emitter}.jwk`);
  const registered = readRegistry(registryFile).emitters[source]?.keys ?? [];
  if (fs.existsSync(file)) {
    const jwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
    if (registered.some((k) => k.kid === jwk.kid)) return jwk;
  }
  const key = await generateAndRegister(registryFile, source);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(key.privateJwk), { mode: 0o600 });
  return key.privateJwk;
}

export async function runDemo(opts: { endpoint: string; dataDir: string; registryFile: string }): Promise<{ sent: number; rejected: number }> {
  const clients = {} as Record<Emitter, EmitterClient>;
  for (const emitter of Object.keys(DEMO_EMITTERS) as Emitter[]) {
    clients[emitter] = new EmitterClient({
      endpoint: opts.endpoint,
      source: DEMO_EMITTERS[emitter],
      privateJwk: await demoKey(opts.dataDir, opts.registryFile, emitter),
      stateDir: path.join(opts.dataDir, 'demo', 'state'),
    });
  }
  // Each emitter has its own client and flush timer; the story depends on
  // order across them (Bob leaves, then his bot acts), so a client's events are
  // at ingest before another emitter speaks.
  let previous: Emitter | undefined;
  for (const { emitter, event } of demoEvents()) {
    if (previous && previous !== emitter) await clients[previous].flush();
    await clients[emitter].emit(event);
    previous = emitter;
  }
  let sent = 0;
  let rejected = 0;
  for (const client of Object.values(clients)) {
    await client.close();
    sent += client.totals.sent;
    rejected += client.totals.rejected;
  }
  return { sent, rejected };
}
