// What one human's agents did, and what one agent did and for whom, over a window.
import { select, type Storage, type Tables } from './client.js';
import { tenantCondition, type TenantScope } from './tenancy.js';
import { windowCondition, type TimeWindow } from './window.js';

type Row = Record<string, unknown>;
export interface DayCount {
  day: string;
  events: number;
  allowed: number;
  denied: number;
  flagged: number;
}

const ALLOWED = `outcome IN ('allow', 'allow_with_obligations')`;
const nonEmpty = (column: string) => `arrayFilter(x -> x != '', groupUniqArray(${column}))`;

async function flagCounts(storage: Storage, tables: Tables, where: string, params: Row): Promise<Record<string, number>> {
  const rows = await select<{ flag: string; n: string }>(
    storage,
    `SELECT flag, count() AS n FROM ${tables.events} FINAL ARRAY JOIN flags AS flag WHERE ${where} GROUP BY flag ORDER BY n DESC`,
    params,
  );
  return Object.fromEntries(rows.map((r) => [r.flag, Number(r.n)]));
}

async function byDay(storage: Storage, tables: Tables, where: string, params: Row): Promise<DayCount[]> {
  const rows = await select<{ day: string; events: string; allowed: string; denied: string; flagged: string }>(
    storage,
    `SELECT toString(toDate(time)) AS day, count() AS events, countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied,
            countIf(notEmpty(flags)) AS flagged
     FROM ${tables.events} FINAL WHERE ${where} GROUP BY day ORDER BY day`,
    params,
  );
  return rows.map((r) => ({ day: r.day, events: Number(r.events), allowed: Number(r.allowed), denied: Number(r.denied), flagged: Number(r.flagged) }));
}

export async function humanActivity(storage: Storage, tables: Tables, scope: TenantScope, sub: string, window: TimeWindow) {
  const params: Row = { sub };
  const where = `${tenantCondition(scope, 'tenant', params)} AND human_sub = {sub:String} AND ${windowCondition('time', window, params)}`;
  const [agents, flags, days] = await Promise.all([
    select<Row>(
      storage,
      `SELECT agent_id, any(agent_name) AS agent_name, count() AS events, countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied,
              ${nonEmpty('delegation_mode')} AS delegation_modes, ${nonEmpty('grant_id')} AS grants, ${nonEmpty('consent_id')} AS consents,
              ${nonEmpty('server_id')} AS servers, ${nonEmpty('tool_name')} AS tools, min(time) AS first, max(time) AS last
       FROM ${tables.events} FINAL WHERE ${where} AND agent_id != '' GROUP BY agent_id ORDER BY events DESC LIMIT 1000`,
      params,
    ),
    flagCounts(storage, tables, where, params),
    byDay(storage, tables, where, params),
  ]);
  return { agents, flags, days };
}

export async function agentActivity(storage: Storage, tables: Tables, scope: TenantScope, agent: string, window: TimeWindow) {
  const params: Row = { agent };
  const where = `${tenantCondition(scope, 'tenant', params)} AND agent_id = {agent:String} AND ${windowCondition('time', window, params)}`;
  const [principals, runtimes, tools, flags, days] = await Promise.all([
    select<Row>(
      storage,
      `SELECT human_sub, any(human_email) AS human_email, count() AS events, countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied,
              ${nonEmpty('delegation_mode')} AS delegation_modes, min(time) AS first, max(time) AS last
       FROM ${tables.events} FINAL WHERE ${where} GROUP BY human_sub ORDER BY events DESC LIMIT 1000`,
      params,
    ),
    select<Row>(
      storage,
      `SELECT agent_runtime_kind AS kind, agent_runtime_id AS id, count() AS events, min(time) AS first, max(time) AS last
       FROM ${tables.events} FINAL WHERE ${where} GROUP BY kind, id ORDER BY events DESC LIMIT 100`,
      params,
    ),
    select<Row>(
      storage,
      `SELECT server_id, tool_name, any(tool_intent) AS intent, any(tool_sensitivity) AS sensitivity, count() AS events,
              countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied
       FROM ${tables.events} FINAL WHERE ${where} AND tool_name != '' GROUP BY server_id, tool_name ORDER BY events DESC LIMIT 1000`,
      params,
    ),
    flagCounts(storage, tables, where, params),
    byDay(storage, tables, where, params),
  ]);
  return { principals, runtimes, tools, flags, days };
}
