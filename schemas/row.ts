// The stored shapes: one flat events row per verified event (columns of
// migration 1) and one quarantine row per refused record (migration 2).
import type { QuarantineReason } from '../lib/errors.js';

// Definitions in docs/flags.md.
export const FLAGS = [
  'identity_context_loss',
  'impersonation',
  'token_passthrough',
  'scope_exceeded',
  'scope_widening',
  'expired_token',
  'clock_skew',
  'after_revocation',
  'jti_reuse',
  'sequence_gap',
  'emitter_silent',
] as const;
export type Flag = (typeof FLAGS)[number];

export interface EventRow {
  id: string;
  tenant: string;
  type: string;
  time: string;
  seq: number;
  source: string;
  kid: string;
  human_sub: string;
  human_iss: string;
  human_email: string;
  human_name: string;
  agent_id: string;
  agent_name: string;
  agent_runtime_kind: string;
  agent_runtime_id: string;
  actor_chain: string[];
  delegation_mode: string;
  grant_id: string;
  consent_id: string;
  delegation_scopes: string[];
  delegation_expires_at: string | null;
  token_iss: string;
  token_sub: string;
  token_aud: string[];
  token_scope: string[];
  token_exp: number | null;
  token_iat: number | null;
  token_jti: string;
  token_azp: string;
  token_client_id: string;
  server_id: string;
  server_audience: string;
  tool_name: string;
  tool_intent: string;
  tool_resource: string;
  tool_sensitivity: string;
  outcome: string;
  policy_id: string;
  policy_version: string;
  decision_reason: string;
  obligations: string[];
  decided_by: string;
  downstream_system: string;
  downstream_status: string;
  downstream_permission: string;
  session_id: string;
  trace_id: string;
  span_id: string;
  parent_id: string;
  request_id: string;
  client_ip: string;
  user_agent: string;
  args_sha256: string;
  result_sha256: string;
  payload_bytes: number | null;
  attrs: Record<string, string>;
  flags: Flag[];
  event_json: string;
  raw_jws: string;
  ingested_at: string;
}

export type QuarantineStage = 'ingest' | 'processor';

export interface QuarantineRow {
  quarantine_id: string;
  received_at: string;
  stage: QuarantineStage;
  reason: QuarantineReason;
  detail: string;
  claimed_source: string;
  claimed_kid: string;
  claimed_id: string;
  claimed_tenant: string;
  raw_base64: string;
  raw_sha256: string;
  raw_bytes: number;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: number;
}
