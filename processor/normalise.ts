// One verified event -> one flat row: the chain human -> agent -> actors ->
// server -> tool in its own columns, never merged, plus the derived flags.
import type { ActClaim, ActorlogEvent } from '../schemas/event.js';
import { clampEpochSeconds, type EventRow } from '../schemas/row.js';
import { toClickHouseTime } from '../lib/time.js';
import { redactJwts, redactJwtsDeep } from '../lib/redact.js';
import { statelessFlags, type SkewLimits } from './flags.js';

// RFC 8693 4.1: the outermost `act` is the current actor, each nested `act`
// the one before it. The chain is kept in that order, outermost first.
export function actorChainOf(event: ActorlogEvent): string[] {
  if (event.actors) return event.actors.map((a) => a.id);
  const chain: string[] = [];
  for (let act: ActClaim | undefined = event.token?.act; act; act = act.act) chain.push(act.sub);
  return chain;
}

// Free text an emitter fills (attrs, user agent, reasons) can carry a token
// by mistake: a JWT-shaped value is stored as [redacted-jwt] in the row and
// in the stored event JSON. raw_jws keeps the bytes as signed (base64url), the
// evidence the signature and the transparency log are checked against.
const redactAttrs = (attrs: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(attrs ?? {}).map(([k, v]) => [redactJwts(k), redactJwts(v)]));

function storedJson(event: ActorlogEvent): string {
  const json = JSON.stringify(event);
  return json.includes('eyJ') ? JSON.stringify(redactJwtsDeep(event)) : json;
}

export function normalise(event: ActorlogEvent, meta: { kid: string; rawJws: string; ingestedAt: number; skew: SkewLimits }): EventRow {
  const { human, agent, delegation, token, target, decision, downstream, context, payload, result } = event;
  return {
    id: event.id,
    tenant: event.tenant,
    type: event.type,
    time: toClickHouseTime(event.time),
    seq: event.seq,
    source: event.source,
    kid: meta.kid,
    human_sub: human?.sub ?? '',
    human_iss: human?.iss ?? '',
    human_email: human?.email ?? '',
    human_name: human?.name ?? '',
    agent_id: agent?.id ?? '',
    agent_name: agent?.name ?? '',
    agent_runtime_kind: agent?.runtime.kind ?? '',
    agent_runtime_id: agent?.runtime.id ?? '',
    actor_chain: actorChainOf(event),
    delegation_mode: delegation?.mode ?? '',
    grant_id: delegation?.grant_id ?? '',
    consent_id: delegation?.consent_id ?? '',
    delegation_scopes: delegation?.scopes ?? [],
    delegation_expires_at: delegation?.expires_at ? toClickHouseTime(delegation.expires_at) : null,
    token_iss: token?.iss ?? '',
    token_sub: token?.sub ?? '',
    token_aud: token?.aud ?? [],
    token_scope: token?.scope ?? [],
    token_exp: clampEpochSeconds(token?.exp),
    token_iat: clampEpochSeconds(token?.iat),
    token_jti: token?.jti ?? '',
    token_azp: token?.azp ?? '',
    token_client_id: token?.client_id ?? '',
    server_id: target?.server.id ?? '',
    server_audience: target?.server.audience ?? '',
    tool_name: target?.tool?.name ?? '',
    tool_intent: target?.tool?.intent ?? '',
    tool_resource: target?.tool?.resource ?? '',
    tool_sensitivity: target?.tool?.sensitivity ?? '',
    outcome: decision?.outcome ?? '',
    policy_id: decision?.policy.id ?? '',
    policy_version: decision?.policy.version ?? '',
    decision_reason: redactJwts(decision?.reason ?? ''),
    obligations: decision?.obligations ?? [],
    decided_by: decision?.decided_by ?? '',
    downstream_system: downstream?.system ?? '',
    downstream_status: downstream?.status ?? '',
    downstream_permission: downstream?.permission ?? '',
    session_id: context?.session_id ?? '',
    trace_id: context?.trace_id ?? '',
    span_id: context?.span_id ?? '',
    parent_id: context?.parent_id ?? '',
    request_id: context?.request_id ?? '',
    client_ip: context?.client_ip ?? '',
    user_agent: redactJwts(context?.user_agent ?? ''),
    args_sha256: payload?.args_sha256 ?? '',
    result_sha256: payload?.result_sha256 ?? '',
    payload_bytes: payload?.bytes ?? null,
    attrs: redactAttrs(event.attrs),
    flags: statelessFlags(event, meta.ingestedAt, meta.skew),
    event_json: storedJson(event),
    raw_jws: meta.rawJws,
    ingested_at: toClickHouseTime(meta.ingestedAt),
    // set by the chain stage once the link to the emitter's previous event verifies
    prev_event_id: '',
    result_is_error: result?.is_error ?? null,
    result_error_code: result?.error_code ?? null,
    result_duration_ms: result?.duration_ms ?? null,
  };
}
