// Report storage: the rows of each report kind, the definitions, the runs
// with their files and manifests, and the claims instances make on a
// scheduled run.
import { toClickHouseTime } from '../lib/time.js';
import type { ExportFormat } from '../schemas/export-formats.js';
import { insertRows, select, streamSelect, type Storage, type StreamBounds, type Tables } from './client.js';
import { tenantCondition } from './tenancy.js';
import { streamInTimeOrder } from './time-slices.js';

const PRIVILEGED = `(tool_intent IN ('write', 'delete', 'admin', 'export') OR tool_sensitivity IN ('confidential', 'restricted'))`;
const ACTIONS = `type IN ('mcp.tool.call', 'mcp.tool.result', 'authz.decision', 'token.exchanged', 'downstream.response')`;

const KIND_SQL = {
  // Who delegated what to which agent, under which grant and consent, and
  // what the agent did with it in the period.
  access_review: (events: string) => `
    SELECT human_sub, agent_id, grant_id, consent_id, any(delegation_mode) AS delegation_mode,
           arraySort(groupUniqArrayArray(delegation_scopes)) AS scopes,
           countIf(type IN ('delegation.granted', 'consent.granted')) AS grants,
           countIf(type IN ('delegation.revoked', 'consent.revoked')) AS revocations,
           countIf(${ACTIONS}) AS actions, countIf(outcome = 'deny') AS denied,
           countIf(has(flags, 'after_revocation')) AS after_revocation,
           min(time) AS first_seen, max(time) AS last_seen
    FROM ${events} FINAL WHERE tenant = {tenant:String} AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
      AND (grant_id != '' OR consent_id != '')
    GROUP BY human_sub, agent_id, grant_id, consent_id ORDER BY human_sub, agent_id, grant_id, consent_id`,
  privileged_tool_use: (events: string) => `
    SELECT human_sub, agent_id, server_id, tool_name, tool_intent, tool_sensitivity, outcome,
           count() AS events, min(time) AS first_seen, max(time) AS last_seen
    FROM ${events} FINAL WHERE tenant = {tenant:String} AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
      AND tool_name != '' AND ${PRIVILEGED}
    GROUP BY human_sub, agent_id, server_id, tool_name, tool_intent, tool_sensitivity, outcome
    ORDER BY tool_sensitivity, tool_intent, events DESC`,
  // Every agent seen in the period, with its runtime identities and principals.
  agent_inventory: (events: string) => `
    SELECT agent_id, any(agent_name) AS agent_name,
           arraySort(groupUniqArray(concat(agent_runtime_kind, ':', agent_runtime_id))) AS runtime_identities,
           arraySort(arrayFilter(x -> x != '', groupUniqArray(human_sub))) AS principals,
           arraySort(arrayFilter(x -> x != '', groupUniqArray(server_id))) AS servers,
           count() AS events, countIf(outcome = 'deny') AS denied, min(time) AS first_seen, max(time) AS last_seen
    FROM ${events} FINAL WHERE tenant = {tenant:String} AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
      AND agent_id != ''
    GROUP BY agent_id ORDER BY agent_id`,
};

// Report kinds that list events one a row, oldest first: read in time slices
// (store/time-slices.ts), so the engine never sorts the whole period at once.
const EVENT_LIST_KINDS = {
  denied_actions: {
    columns: `time, id, human_sub, agent_id, actor_chain, server_id, tool_name, tool_intent, tool_resource,
           policy_id, policy_version, decision_reason, decided_by, session_id`,
    condition: `outcome = 'deny'`,
  },
  after_revocation: {
    columns: 'time, id, human_sub, agent_id, actor_chain, grant_id, consent_id, server_id, tool_name, tool_intent, outcome, flags',
    condition: `has(flags, 'after_revocation')`,
  },
};

export type AggregateReportKind = keyof typeof KIND_SQL | keyof typeof EVENT_LIST_KINDS;

// The rows of one aggregate report kind for one tenant over [from, to), at
// most max, in chunks as storage produces them.
export function streamAggregateReportRows(
  storage: Storage,
  tables: Tables,
  kind: AggregateReportKind,
  tenant: string,
  period: { from: number; to: number },
  max: number,
  bounds?: StreamBounds,
): AsyncGenerator<Record<string, unknown>[]> {
  const params = { tenant, from: toClickHouseTime(period.from), to: toClickHouseTime(period.to), max };
  if (kind === 'denied_actions' || kind === 'after_revocation') {
    const { columns, condition } = EVENT_LIST_KINDS[kind];
    const where = [`tenant = {tenant:String}`, `time >= {from:DateTime64(3, 'UTC')}`, `time < {to:DateTime64(3, 'UTC')}`, condition];
    return streamInTimeOrder(storage, { table: tables.events, columns, where, params, order: 'ASC', maxRows: max, bounds });
  }
  return streamSelect(storage, `${KIND_SQL[kind](tables.events)} LIMIT {max:UInt32}`, params, bounds);
}

// Definitions as stored: the saved search as JSON text, times as ClickHouse
// writes them. Every change is a new version of the row (ReplacingMergeTree
// by version), a delete included (deleted = 1, with who and when).
export interface DefinitionRecord {
  id: string;
  tenant: string;
  name: string;
  kind: string;
  search: string;
  period: string;
  schedule: string;
  format: string;
  paused: number;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
  deleted: number;
  deleted_by: string;
  deleted_at: string;
  version: number;
}

const DEFINITION_COLUMNS = 'id, tenant, name, kind, search, period, schedule, format, paused, created_by, created_at, updated_by, updated_at, deleted, deleted_by, deleted_at, version';

export function insertDefinition(storage: Storage, tables: Tables, definition: DefinitionRecord): Promise<void> {
  return insertRows(storage, tables.reportDefinitions, [definition]);
}

// tenants null: every tenant. Deleted definitions only when asked for.
export function listDefinitions(
  storage: Storage,
  tables: Tables,
  tenants: string[] | null,
  { id, withDeleted = false }: { id?: string; withDeleted?: boolean } = {},
): Promise<DefinitionRecord[]> {
  const params: Record<string, unknown> = {};
  const where = [tenantCondition({ tenants }, 'tenant', params)];
  if (!withDeleted) where.push('deleted = 0');
  if (id) {
    where.push('id = {id:String}');
    params.id = id;
  }
  return select<DefinitionRecord>(
    storage,
    `SELECT ${DEFINITION_COLUMNS} FROM ${tables.reportDefinitions} FINAL
     WHERE ${where.join(' AND ')} ORDER BY created_at`,
    params,
  );
}

// Definitions of one tenant not deleted: what the per-tenant limit counts.
export async function countDefinitions(storage: Storage, tables: Tables, tenant: string): Promise<number> {
  const [row] = await select<{ n: number }>(storage, `SELECT count() AS n FROM ${tables.reportDefinitions} FINAL WHERE tenant = {tenant:String} AND deleted = 0`, { tenant });
  return Number(row?.n ?? 0);
}

// A run as stored (report_runs), times as ClickHouse writes them.
export interface RunRecord {
  run_id: string;
  report_id: string;
  tenant: string;
  trigger: 'schedule' | 'manual';
  status: 'ok' | 'failed';
  error: string;
  period_from: string;
  period_to: string;
  due_at: string;
  row_count: number;
  bytes: number;
  sha256: string;
  format: ExportFormat;
  generated_at: string;
  generated_by: string;
  // The file's name in the reports folder; runs from before files were
  // written to disk carry the file itself in `content`.
  file: string;
  content: string;
  manifest_jws: string;
}
export type RunSummaryRecord = Omit<RunRecord, 'content' | 'manifest_jws' | 'file'>;

const RUN_COLUMNS = 'run_id, report_id, tenant, trigger, status, error, period_from, period_to, due_at, row_count, bytes, sha256, format, generated_at, generated_by';

export function insertRun(storage: Storage, tables: Tables, run: RunRecord): Promise<void> {
  return insertRows(storage, tables.reportRuns, [run]);
}

export function listRuns(storage: Storage, tables: Tables, tenants: string[] | null, reportId: string): Promise<RunSummaryRecord[]> {
  const params: Record<string, unknown> = { report: reportId };
  return select<RunSummaryRecord>(
    storage,
    `SELECT ${RUN_COLUMNS} FROM ${tables.reportRuns} FINAL
     WHERE report_id = {report:String} AND ${tenantCondition({ tenants }, 'tenant', params)} ORDER BY generated_at DESC LIMIT 1000`,
    params,
  );
}

export async function runFile(
  storage: Storage,
  tables: Tables,
  tenants: string[] | null,
  runId: string,
): Promise<Pick<RunRecord, 'file' | 'content' | 'manifest_jws' | 'format' | 'report_id'> | undefined> {
  const params: Record<string, unknown> = { run: runId };
  const [row] = await select<Pick<RunRecord, 'file' | 'content' | 'manifest_jws' | 'format' | 'report_id'>>(
    storage,
    `SELECT file, content, manifest_jws, format, report_id FROM ${tables.reportRuns} FINAL
     WHERE run_id = {run:String} AND status = 'ok' AND ${tenantCondition({ tenants }, 'tenant', params)} LIMIT 1`,
    params,
  );
  return row;
}

export async function runSucceeded(storage: Storage, tables: Tables, runId: string): Promise<boolean> {
  const rows = await select(storage, `SELECT 1 FROM ${tables.reportRuns} FINAL WHERE run_id = {run:String} AND status = 'ok'`, { run: runId });
  return rows.length > 0;
}

export function insertClaim(storage: Storage, tables: Tables, runId: string, instance: string, at: number): Promise<void> {
  return insertRows(storage, tables.reportClaims, [{ run_id: runId, instance, claimed_at: toClickHouseTime(at) }]);
}

// The instance with the earliest claim on a run made after `since`.
export async function earliestClaim(storage: Storage, tables: Tables, runId: string, since: number): Promise<string | undefined> {
  const [winner] = await select<{ instance: string }>(
    storage,
    `SELECT instance FROM ${tables.reportClaims}
     WHERE run_id = {run:String} AND claimed_at > {since:DateTime64(3, 'UTC')}
     ORDER BY claimed_at, instance LIMIT 1`,
    { run: runId, since: toClickHouseTime(since) },
  );
  return winner?.instance;
}
