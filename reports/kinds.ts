// The rows of each report kind, for one tenant and period, from ClickHouse
// with parameterised SQL.
import type { Storage, Tables } from '../lib/storage.js';
import { toClickHouseTime } from '../lib/time.js';
import { searchAll } from '../query-api/events-query.js';
import { present } from '../query-api/context.js';
import type { ReportDefinition, ReportKind } from './definition.js';

export const MAX_REPORT_ROWS = 1_000_000;

const PRIVILEGED = `(tool_intent IN ('write', 'delete', 'admin', 'export') OR tool_sensitivity IN ('confidential', 'restricted'))`;
const ACTIONS = `type IN ('mcp.tool.call', 'mcp.tool.result', 'authz.decision', 'token.exchanged', 'downstream.response')`;

const SQL: Record<Exclude<ReportKind, 'saved_search'>, (events: string) => string> = {
  // Who delegated what to which agent, under which grant and consent, and
  // what the agent did with it in the period.
  access_review: (events) => `
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
  privileged_tool_use: (events) => `
    SELECT human_sub, agent_id, server_id, tool_name, tool_intent, tool_sensitivity, outcome,
           count() AS events, min(time) AS first_seen, max(time) AS last_seen
    FROM ${events} FINAL WHERE tenant = {tenant:String} AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
      AND tool_name != '' AND ${PRIVILEGED}
    GROUP BY human_sub, agent_id, server_id, tool_name, tool_intent, tool_sensitivity, outcome
    ORDER BY tool_sensitivity, tool_intent, events DESC`,
  denied_actions: (events) => `
    SELECT time, id, human_sub, agent_id, actor_chain, server_id, tool_name, tool_intent, tool_resource,
           policy_id, policy_version, decision_reason, decided_by, session_id
    FROM ${events} FINAL WHERE tenant = {tenant:String} AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
      AND outcome = 'deny'
    ORDER BY time, id`,
  after_revocation: (events) => `
    SELECT time, id, human_sub, agent_id, actor_chain, grant_id, consent_id, server_id, tool_name, tool_intent, outcome, flags
    FROM ${events} FINAL WHERE tenant = {tenant:String} AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
      AND has(flags, 'after_revocation')
    ORDER BY time, id`,
  // Every agent seen in the period, with its runtime identities and principals.
  agent_inventory: (events) => `
    SELECT agent_id, any(agent_name) AS agent_name,
           arraySort(groupUniqArray(concat(agent_runtime_kind, ':', agent_runtime_id))) AS runtime_identities,
           arraySort(arrayFilter(x -> x != '', groupUniqArray(human_sub))) AS principals,
           arraySort(arrayFilter(x -> x != '', groupUniqArray(server_id))) AS servers,
           count() AS events, countIf(outcome = 'deny') AS denied, min(time) AS first_seen, max(time) AS last_seen
    FROM ${events} FINAL WHERE tenant = {tenant:String} AND time >= {from:DateTime64(3, 'UTC')} AND time < {to:DateTime64(3, 'UTC')}
      AND agent_id != ''
    GROUP BY agent_id ORDER BY agent_id`,
};

export async function* reportRows(
  storage: Storage,
  tables: Tables,
  definition: Pick<ReportDefinition, 'kind' | 'tenant' | 'search'>,
  period: { from: number; to: number },
): AsyncGenerator<Record<string, unknown>[]> {
  if (definition.kind === 'saved_search') {
    const search = { ...definition.search!, from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() };
    for await (const page of searchAll(storage, tables.events, search, { tenants: [definition.tenant] }, MAX_REPORT_ROWS)) yield page.map(present);
    return;
  }
  const result = await storage.query({
    query: `${SQL[definition.kind](tables.events)} LIMIT {max:UInt32}`,
    query_params: { tenant: definition.tenant, from: toClickHouseTime(period.from), to: toClickHouseTime(period.to), max: MAX_REPORT_ROWS },
    format: 'JSONEachRow',
  });
  yield (await result.json<Record<string, unknown>>()).map(present);
}
