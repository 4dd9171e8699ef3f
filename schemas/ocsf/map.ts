// One stored event row as an OCSF event (docs/ocsf.md says field by field
// why each goes where it goes). Pure: the same row always gives the same
// event. Agent actions and sessions are API Activity (6003); grants and
// consents Authorize Session (3003); revocations and identity lifecycle User
// Management (3007, which replaces the deprecated Account Change 3001);
// heartbeats Application Lifecycle (6002). What OCSF 1.9.0-dev has no place
// for (the delegation DAG among them) is kept under `unmapped.actorlog`.
import { createHash } from 'node:crypto';
import type { EventRow, Flag } from '../row.js';
import { rowTime } from '../../lib/time.js';
import { OCSF_VERSION, ocsfSchema } from './definitions.js';

export type OcsfEvent = Record<string, unknown>;
type Obj = Record<string, unknown>;

export const OCSF_PRODUCT = { name: 'actorlog', vendor_name: 'actorlog' } as const;

// A stored row as the processor writes it or as a query reads it back (token
// times then come as DateTime text, seq possibly as text); event_json and
// raw_jws carry the actor chain and the signature.
export type MappableRow = Omit<EventRow, 'flags' | 'token_exp' | 'token_iat' | 'seq'> & {
  flags: readonly string[];
  token_exp: number | string | null;
  token_iat: number | string | null;
  seq: number | string;
};

// Drops undefined, null, '' and empty objects so the event only states what
// is known (the validator refuses null; OCSF consumers expect absence).
function compact<T extends Obj>(o: T): T {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}
const nonEmpty = <T>(list: readonly T[] | undefined): T[] | undefined => (list && list.length > 0 ? [...list] : undefined);

const epochMs = (value: string) => Date.parse(rowTime(value));
// Token claims are epoch seconds in the event, DateTime text once stored.
const claimMs = (value: number | string | null) => (value === null ? undefined : typeof value === 'number' ? value * 1000 : epochMs(value));

const INT32_MAX = 2 ** 31 - 1;

interface Classification {
  class_uid: number;
  activity_id: number;
  // for activity 99 (Other): the label that names it
  activity_name?: string;
}

const READ_INTENTS = new Set(['read', 'search', 'summarize', 'export']);
const OTHER_ACTIVITY: Record<string, string> = {
  'authz.decision': 'Authorization Decision',
  'token.exchanged': 'Token Exchange',
  'downstream.response': 'Downstream Response',
  'session.started': 'Session Start',
  'session.ended': 'Session End',
};

export function classify(row: Pick<EventRow, 'type' | 'tool_intent' | 'event_json'>): Classification {
  switch (row.type) {
    case 'delegation.granted':
    case 'consent.granted':
      return { class_uid: 3003, activity_id: 1 }; // Assign Privileges
    case 'delegation.revoked':
    case 'consent.revoked':
      return { class_uid: 3007, activity_id: 15 }; // Remove Privileges
    case 'identity.lifecycle': {
      const change = (JSON.parse(row.event_json) as { lifecycle?: { change?: string } }).lifecycle?.change;
      return { class_uid: 3007, activity_id: change === 'joiner' ? 1 : change === 'leaver' ? 5 : 2 }; // Create / Disable / Update
    }
    case 'emitter.heartbeat':
      return { class_uid: 6002, activity_id: 99, activity_name: 'Heartbeat' };
    default: {
      if (row.type === 'mcp.tool.call' || row.type === 'mcp.tool.result') {
        if (READ_INTENTS.has(row.tool_intent)) return { class_uid: 6003, activity_id: 2 };
        if (row.tool_intent === 'write') return { class_uid: 6003, activity_id: 3 };
        if (row.tool_intent === 'delete') return { class_uid: 6003, activity_id: 4 };
        return { class_uid: 6003, activity_id: 99, activity_name: row.tool_intent === 'admin' ? 'Admin' : 'Other' };
      }
      return { class_uid: 6003, activity_id: 99, activity_name: OTHER_ACTIVITY[row.type] ?? row.type };
    }
  }
}

// Severity from the flags: the worst flag decides.
const HIGH: ReadonlySet<string> = new Set<Flag>([
  'identity_context_loss',
  'impersonation',
  'token_passthrough',
  'scope_widening',
  'after_revocation',
  'jti_reuse',
  'chain_break',
  'scope_exceeded_allowed',
]);
const MEDIUM: ReadonlySet<string> = new Set<Flag>(['scope_exceeded', 'expired_token']);
const SEVERITY = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' } as const;
function severityOf(flags: readonly string[]): 1 | 2 | 3 | 4 {
  if (flags.some((f) => HIGH.has(f))) return 4;
  if (flags.some((f) => MEDIUM.has(f))) return 3;
  return flags.length > 0 ? 2 : 1;
}

const DECISION = {
  allow: { action_id: 1, action: 'Allowed', disposition_id: 1, disposition: 'Allowed' },
  allow_with_obligations: { action_id: 1, action: 'Allowed', disposition_id: 1, disposition: 'Allowed' },
  deny: { action_id: 2, action: 'Denied', disposition_id: 2, disposition: 'Blocked' },
} as const;

function statusOf(row: MappableRow): Obj {
  const failed = row.outcome === 'deny' || row.downstream_permission === 'denied' || row.downstream_permission === 'error';
  const succeeded = row.outcome.startsWith('allow') || row.downstream_permission === 'granted';
  const status = failed ? { status_id: 2, status: 'Failure' } : succeeded ? { status_id: 1, status: 'Success' } : {};
  return compact({ ...status, status_code: row.downstream_status, status_detail: row.decision_reason });
}

interface Actor {
  id: string;
  kind?: string;
  name?: string;
  scopes?: string[];
}
interface StoredEvent {
  prev?: string;
  actors?: Actor[];
  lifecycle?: { change: string; roles?: string[] };
}

// The delegation DAG, as far as one event states it: each actor's parent is
// its delegator (the next actor inward), the innermost's the human. OCSF
// 1.9.0-dev has no delegation object, so this stays actorlog's.
function delegationOf(row: MappableRow, stored: StoredEvent): Obj | undefined {
  const chain: Actor[] = stored.actors ?? row.actor_chain.map((id) => ({ id }));
  const actors = chain.map((a, i) =>
    compact({ uid: a.id, kind: a.kind, name: a.name, scopes: a.scopes, parent_uid: chain[i + 1]?.id ?? (row.human_sub || undefined) }),
  );
  const delegation = compact({
    mode: row.delegation_mode,
    grant_id: row.grant_id,
    consent_id: row.consent_id,
    scopes: nonEmpty(row.delegation_scopes),
    expires_at: row.delegation_expires_at ? rowTime(row.delegation_expires_at) : undefined,
    actors: nonEmpty(actors),
  });
  return Object.keys(delegation).length > 0 ? delegation : undefined;
}

// An address OCSF's email_t would refuse stays in the stored event only.
let emailPattern: RegExp | undefined;
function emailOrUndefined(email: string): string | undefined {
  emailPattern ??= new RegExp(ocsfSchema().scalar('email_t')?.chain.find((t) => t.regex)?.regex ?? '^$');
  return email && emailPattern.test(email) ? email : undefined;
}

function humanUser(row: MappableRow): Obj | undefined {
  if (!row.human_sub) return undefined;
  return compact({ uid: row.human_sub, full_name: row.human_name, email_addr: emailOrUndefined(row.human_email), type_id: 1, type: 'User' });
}

// The party privileges were assigned to or removed from: the agent, else the
// OAuth client, else the grant itself.
function grantee(row: MappableRow): Obj {
  if (row.agent_id) return compact({ uid: row.agent_id, full_name: row.agent_name, type_id: 99, type: 'AI Agent' });
  const client = row.token_client_id || row.token_azp;
  if (client) return { uid: client, type_id: 99, type: 'OAuth Client' };
  return { uid: row.grant_id || row.consent_id || row.id, type_id: 0, type: 'Unknown' };
}

function jwsAlg(rawJws: string): string {
  try {
    const header = JSON.parse(Buffer.from(rawJws.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown };
    return typeof header.alg === 'string' ? header.alg : '';
  } catch {
    return '';
  }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const jwsFingerprint = (digest: string) => ({ algorithm_id: 3, algorithm: 'SHA-256', encoding_id: 1, encoding: 'Hex', serialization_id: 3, serialization: 'JWS', value: digest });

// The emitter's signature over the event it sent: the compact JWS is raw_data,
// its SHA-256 the fingerprint; ES256 is ECDSA, EdDSA has no id of its own.
// A verified chain link (prev_event_id set) names the previous event and its
// fingerprint, which is the event's `prev`.
function attestation(row: MappableRow, stored: StoredEvent, digest: string): Obj {
  const alg = jwsAlg(row.raw_jws);
  const algorithm = alg === 'ES256' ? { algorithm_id: 3, algorithm: 'ECDSA' } : { algorithm_id: 99, algorithm: alg || 'unknown' };
  return compact({
    uid: row.id,
    authority_uid: row.source,
    chain_uid: row.source,
    fingerprint: jwsFingerprint(digest),
    prev_event: row.prev_event_id && stored.prev ? { uid: row.prev_event_id, fingerprint: jwsFingerprint(stored.prev) } : undefined,
    // state Valid: a row exists only for an event whose signature verified
    signatures: [{ ...algorithm, serialization_id: 3, serialization: 'JWS', state_id: 1, state: 'Valid' }],
  });
}

const FLAG_TEXT: Record<string, string> = {
  identity_context_loss: 'an agent acted and nothing says for whom',
  impersonation: 'the agent acted as the human, not on their behalf',
  token_passthrough: "the token's audience is not the server's own",
  scope_exceeded: 'the tool needs a scope the token does not hold',
  scope_exceeded_allowed: 'the call was allowed beyond the scope the token holds',
  scope_widening: 'an actor holds a scope its delegator did not',
  expired_token: 'the token had expired at the time of the event',
  clock_skew: "the event's time is far from when it was received",
  after_revocation: 'the grant, consent or human was revoked before the event',
  jti_reuse: 'one token id was presented at two servers',
  sequence_gap: 'events from this emitter are missing before this one',
  emitter_silent: 'the emitter had gone silent before this event',
  chain_break: "the emitter's hash chain does not link: events were withheld or replaced",
};

function flagEnrichments(flags: readonly string[], receivedMs: number): Obj[] | undefined {
  return nonEmpty(
    flags.map((flag) => ({
      name: 'actorlog.flag',
      value: flag,
      type: 'actorlog flag',
      provider: 'actorlog',
      short_desc: FLAG_TEXT[flag] ?? flag,
      created_time: receivedMs,
      data: { flag, defined_in: 'docs/flags.md' },
    })),
  );
}

// Observable type captions are the schema's own (observable.type_id's enum).
function observable(name: string, typeId: number, value?: string): Obj {
  const type = ocsfSchema().object('observable')?.attributes.get('type_id')?.enum?.get(String(typeId));
  return compact({ name, type_id: typeId, type, value });
}

const OBSERVABLE = { ip: 2, email: 5, resourceUid: 10, credentialUid: 19, user: 21 } as const;

function observables(event: Obj): Obj[] | undefined {
  const list: Obj[] = [];
  const actor = event.actor as { user?: Obj; session?: Obj } | undefined;
  if (actor?.user) list.push(observable('actor.user', OBSERVABLE.user));
  if (typeof actor?.user?.email_addr === 'string') list.push(observable('actor.user.email_addr', OBSERVABLE.email, actor.user.email_addr));
  if (typeof actor?.session?.credential_uid === 'string') {
    list.push(observable('actor.session.credential_uid', OBSERVABLE.credentialUid, actor.session.credential_uid));
  }
  const src = event.src_endpoint as Obj | undefined;
  if (typeof src?.ip === 'string') list.push(observable('src_endpoint.ip', OBSERVABLE.ip, src.ip));
  ((event.resources as Obj[] | undefined) ?? []).forEach((r, i) => {
    if (typeof r.uid === 'string') list.push(observable(`resources[${i}].uid`, OBSERVABLE.resourceUid, r.uid));
  });
  return nonEmpty(list);
}

function resources(row: MappableRow): Obj[] | undefined {
  const list: Obj[] = [];
  if (row.server_id) list.push(compact({ uid: row.server_id, name: row.server_id, type: 'MCP Server', labels: row.server_audience ? [`audience:${row.server_audience}`] : undefined }));
  if (row.tool_name) {
    const labels = [row.tool_intent && `intent:${row.tool_intent}`, row.tool_sensitivity && `sensitivity:${row.tool_sensitivity}`].filter(Boolean) as string[];
    list.push(compact({ uid: `${row.server_id}/${row.tool_name}`, name: row.tool_name, type: 'MCP Tool', labels: nonEmpty(labels) }));
  }
  if (row.tool_resource) list.push({ uid: row.tool_resource, name: row.tool_resource, type: 'Tool Resource' });
  if (row.downstream_system) list.push({ uid: row.downstream_system, name: row.downstream_system, type: 'Downstream System' });
  return nonEmpty(list);
}

function message(row: MappableRow): string {
  const who = row.human_email || row.human_sub || 'no known human';
  const via = row.agent_id ? ` via ${row.agent_id}` : '';
  const what = row.tool_name ? ` ${row.tool_name} on ${row.server_id}` : row.server_id ? ` on ${row.server_id}` : '';
  const decided = row.outcome ? `: ${row.outcome}` : '';
  return `${row.type}: ${who}${via}${what}${decided}`;
}

function unmapped(row: MappableRow, stored: StoredEvent): Obj {
  return {
    actorlog: compact({
      type: row.type,
      seq: Number(row.seq),
      kid: row.kid,
      flags: nonEmpty(row.flags),
      delegation: delegationOf(row, stored),
      agent_runtime: row.agent_runtime_id ? { kind: row.agent_runtime_kind, id: row.agent_runtime_id } : undefined,
      token: compact({
        iss: row.token_iss,
        sub: row.token_sub,
        aud: nonEmpty(row.token_aud),
        scope: nonEmpty(row.token_scope),
        azp: row.token_azp,
        client_id: row.token_client_id,
      }),
      server_audience: row.server_audience,
      decision: compact({ decided_by: row.decided_by, obligations: nonEmpty(row.obligations), outcome: row.outcome }),
      downstream: compact({ system: row.downstream_system, status: row.downstream_status, permission: row.downstream_permission }),
      context: compact({ span_id: row.span_id, parent_id: row.parent_id, user_agent: row.user_agent }),
      payload: compact({ args_sha256: row.args_sha256, result_sha256: row.result_sha256, bytes: row.payload_bytes }),
      lifecycle: stored.lifecycle,
      // a link not verified (first event seen, after a gap, or a break) has no prev_event
      prev: row.prev_event_id ? undefined : stored.prev,
      attrs: Object.keys(row.attrs).length > 0 ? row.attrs : undefined,
    }),
  };
}

export function toOcsf(row: MappableRow): OcsfEvent {
  const stored = JSON.parse(row.event_json) as StoredEvent;
  const { class_uid, activity_id, activity_name } = classify(row);
  const cls = ocsfSchema().classes.get(class_uid)!;
  const activityCaption = activity_name ?? cls.attributes.get('activity_id')!.enum!.get(String(activity_id))!;
  const timeMs = epochMs(row.time);
  const receivedMs = epochMs(row.ingested_at);
  const severity_id = severityOf(row.flags);
  const seq = Number(row.seq);
  const usesTrace = class_uid === 6003 && row.trace_id !== '';

  const session = compact({
    uid: row.session_id,
    issuer: row.token_iss,
    credential_uid: row.token_jti,
    created_time: claimMs(row.token_iat),
    expiration_time: claimMs(row.token_exp),
  });
  const idp = row.human_iss ? { uid: row.human_iss, name: row.human_iss } : undefined;
  const actorUser = humanUser(row);
  const actor = compact({ user: actorUser, idp: actorUser ? idp : undefined, session, app_uid: row.token_client_id || row.token_azp });

  const event: Obj = {
    class_uid,
    class_name: cls.caption,
    category_uid: cls.categoryUid,
    category_name: cls.categoryCaption,
    activity_id,
    activity_name: activityCaption,
    type_uid: class_uid * 100 + activity_id,
    type_name: `${cls.caption}: ${activityCaption}`,
    severity_id,
    severity: SEVERITY[severity_id],
    time: timeMs,
    timezone_offset: 0,
    message: message(row),
    ...statusOf(row),
    metadata: compact({
      version: OCSF_VERSION,
      uid: row.id,
      product: OCSF_PRODUCT,
      profiles: ['ai_operation', 'security_control', 'record_integrity', ...(usesTrace ? ['trace'] : [])],
      tenant_uid: row.tenant,
      event_code: row.type,
      original_time: rowTime(row.time),
      logged_time: receivedMs,
      sequence: seq <= INT32_MAX ? seq : undefined,
      correlation_uid: row.session_id,
      log_name: 'actorlog events',
      reporter: { uid: row.source, name: row.source },
    }),
  };

  switch (class_uid) {
    case 3003:
    case 3007: {
      const lifecycle = row.type === 'identity.lifecycle';
      // lifecycle: the human is the subject; grants: the agent receives from the human
      event.user = lifecycle ? (actorUser ?? grantee(row)) : grantee(row);
      if (!lifecycle) {
        event.privileges = [...row.delegation_scopes];
        if (Object.keys(actor).length > 0) event.actor = actor;
      }
      if (class_uid === 3003) {
        event.session = compact({
          uid: row.grant_id || row.consent_id,
          created_time: timeMs,
          expiration_time: row.delegation_expires_at ? epochMs(row.delegation_expires_at) : undefined,
          issuer: row.token_iss,
        });
      }
      break;
    }
    case 6002:
      event.app = { uid: row.source, name: row.source };
      break;
    default:
      event.actor = Object.keys(actor).length > 0 ? actor : { app_name: 'unknown' };
      event.api = compact({
        operation: row.tool_name || row.type,
        service: row.server_id ? { uid: row.server_id, name: row.server_id } : undefined,
        request: { uid: row.request_id || row.id },
      });
      event.resources = resources(row);
      event.src_endpoint = compact({ uid: row.agent_runtime_id, ip: row.client_ip });
      if (Object.keys(event.src_endpoint as Obj).length === 0) event.src_endpoint = { name: 'unknown' };
      if (usesTrace) event.trace = { uid: row.trace_id };
  }

  if (row.agent_id) event.ai_agent = compact({ uid: row.agent_id, name: row.agent_name, instance_uid: row.session_id });
  if (row.server_id) event.message_context = compact({ uid: row.session_id, service: { uid: row.server_id, name: row.server_id } });
  const decision = DECISION[row.outcome as keyof typeof DECISION];
  if (decision) {
    Object.assign(event, decision);
    event.policy = compact({ uid: row.policy_id, name: row.policy_id, version: row.policy_version, is_applied: true, desc: row.decision_reason });
  }
  event.is_alert = row.flags.length > 0;
  const digest = sha256(row.raw_jws);
  event.attestation_list = [attestation(row, stored, digest)];
  event.enrichments = flagEnrichments(row.flags, receivedMs);
  event.observables = observables(event);
  event.raw_data = row.raw_jws;
  event.raw_data_hash = { algorithm_id: 3, algorithm: 'SHA-256', value: digest };
  event.unmapped = unmapped(row, stored);
  return compact(event);
}
