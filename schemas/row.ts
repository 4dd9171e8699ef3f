// The stored shape of an event: one specification of the events table, each
// column's ClickHouse type and the TypeScript type of its value. The row type
// (EventRow, what the processor writes and the OCSF mapping reads) and the
// table's DDL (store/migrations.ts) both derive from it, so they cannot drift
// apart. A column added later names the migration that adds it (`since`).
import type { Flag } from './flags.js';

export { FLAGS, type Flag } from './flags.js';

export interface Column<T> {
  sql: string;
  since: number;
  // Phantom: the TypeScript type of the value, never read at run time.
  readonly value?: T;
}

const col = <T>(sql: string, since = 1): Column<T> => ({ sql, since });
const str = (sql = 'String') => col<string>(sql);
const low = () => str('LowCardinality(String)');
const strings = () => col<string[]>('Array(String)');
const time64 = () => col<string>("DateTime64(3, 'UTC')");

// DateTime('UTC') holds whole seconds from 1970-01-01 to 2106-02-07 06:28:15
// (UInt32). Token `exp`/`iat` claims are unbounded integers on the wire, so
// they are clamped into this range before they are stored (see clampEpochSeconds);
// the signed event keeps the exact value in event_json.
export const DATETIME_MAX_SECONDS = 4_294_967_295;

export const EVENT_COLUMNS = {
  id: str(),
  tenant: low(),
  type: low(),
  time: time64(),
  seq: col<number>('UInt64'),
  source: low(),
  kid: str(),
  human_sub: str(),
  human_iss: str(),
  human_email: str(),
  human_name: str(),
  agent_id: str(),
  agent_name: str(),
  agent_runtime_kind: low(),
  agent_runtime_id: str(),
  actor_chain: strings(),
  delegation_mode: low(),
  grant_id: str(),
  consent_id: str(),
  delegation_scopes: strings(),
  delegation_expires_at: col<string | null>("Nullable(DateTime64(3, 'UTC'))"),
  token_iss: str(),
  token_sub: str(),
  token_aud: strings(),
  token_scope: strings(),
  token_exp: col<number | null>("Nullable(DateTime('UTC'))"),
  token_iat: col<number | null>("Nullable(DateTime('UTC'))"),
  token_jti: str(),
  token_azp: str(),
  token_client_id: str(),
  server_id: str(),
  server_audience: str(),
  tool_name: str(),
  tool_intent: low(),
  tool_resource: str(),
  tool_sensitivity: low(),
  outcome: low(),
  policy_id: str(),
  policy_version: str(),
  decision_reason: str(),
  obligations: strings(),
  decided_by: low(),
  downstream_system: str(),
  downstream_status: str(),
  downstream_permission: low(),
  session_id: str(),
  trace_id: str(),
  span_id: str(),
  parent_id: str(),
  request_id: str(),
  client_ip: str(),
  user_agent: str(),
  args_sha256: str(),
  result_sha256: str(),
  payload_bytes: col<number | null>('Nullable(UInt64)'),
  attrs: col<Record<string, string>>('Map(String, String)'),
  flags: col<Flag[]>('Array(LowCardinality(String))'),
  event_json: str('String CODEC(ZSTD(3))'),
  raw_jws: str('String CODEC(ZSTD(3))'),
  ingested_at: time64(),
  // The id of the same emitter's previous event when this event's `prev`
  // names that event's digest (a verified hash-chain link), else ''.
  prev_event_id: col<string>('String', 9),
  // The target's own outcome, on mcp.tool.result events (the wire's
  // `result`): NULL on every other event, so "no result" never reads as success.
  result_is_error: col<boolean | null>('Nullable(Bool)', 16),
  result_error_code: col<number | null>('Nullable(Int64)', 16),
  result_duration_ms: col<number | null>('Nullable(Float64)', 16),
} satisfies Record<string, Column<unknown>>;

type Columns = typeof EVENT_COLUMNS;
export type EventRow = { [K in keyof Columns]: Columns[K] extends Column<infer T> ? T : never };
export const EVENT_COLUMN_NAMES = Object.keys(EVENT_COLUMNS) as (keyof EventRow)[];

// An epoch-seconds claim as the DateTime column can hold it: below the range
// is 1970-01-01, above it 2106-02-07 06:28:15. Comparisons keep their sense
// (an absurdly far exp still reads "not expired"), and nothing is refused for
// a claim the emitter signed.
export function clampEpochSeconds(value: number | undefined): number | null {
  if (value === undefined) return null;
  return Math.min(Math.max(Math.trunc(value), 0), DATETIME_MAX_SECONDS);
}
