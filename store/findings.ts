// Blast radius of one token, grant, consent or agent; flagged events grouped;
// the health of the emitters.
import type { Flag } from '../schemas/flags.js';
import { select, type Storage, type Tables } from './client.js';
import { tenantCondition, type TenantScope } from './tenancy.js';
import { windowCondition, type TimeWindow } from './window.js';

type Row = Record<string, unknown>;

export const BLAST_SELECTORS = { jti: 'token_jti', grant: 'grant_id', consent: 'consent_id', agent: 'agent_id' } as const;
export type BlastSelector = keyof typeof BLAST_SELECTORS;
const GROUPS = { flag: "''", emitter: 'source', human: 'human_sub', agent: 'agent_id' } as const;
export type FindingGroup = keyof typeof GROUPS;

export async function blastRadius(storage: Storage, tables: Tables, scope: TenantScope, selector: BlastSelector, value: string, window: TimeWindow) {
  const params: Row = { value };
  const where = `${tenantCondition(scope, 'tenant', params)} AND ${BLAST_SELECTORS[selector]} = {value:String} AND ${windowCondition('time', window, params)}`;
  const uniq = (column: string) => `arrayFilter(x -> x != '', groupUniqArray(1000)(${column}))`;
  const [[summary], tools, events] = await Promise.all([
    select<Row>(
      storage,
      `SELECT count() AS events, countIf(outcome = 'deny') AS denied, min(time) AS first, max(time) AS last,
              ${uniq('human_sub')} AS humans, ${uniq('agent_id')} AS agents, ${uniq('server_id')} AS servers,
              ${uniq('tool_resource')} AS resources, ${uniq('session_id')} AS sessions, ${uniq('token_jti')} AS tokens,
              groupUniqArrayArray(flags) AS flags
       FROM ${tables.events} FINAL WHERE ${where}`,
      params,
    ),
    select<Row>(
      storage,
      `SELECT server_id, tool_name, any(tool_intent) AS intent, any(tool_sensitivity) AS sensitivity, count() AS events, countIf(outcome = 'deny') AS denied
       FROM ${tables.events} FINAL WHERE ${where} AND tool_name != '' GROUP BY server_id, tool_name ORDER BY events DESC LIMIT 1000`,
      params,
    ),
    select<Row>(
      storage,
      `SELECT id, time, type, human_sub, agent_id, actor_chain, server_id, tool_name, tool_resource, outcome, flags
       FROM ${tables.events} FINAL WHERE ${where} ORDER BY time DESC, id DESC LIMIT 1000`,
      params,
    ),
  ]);
  return { summary, tools, events };
}

export function findings(storage: Storage, tables: Tables, scope: TenantScope, groupBy: FindingGroup, window: TimeWindow, flag?: Flag) {
  const params: Row = {};
  let where = `${tenantCondition(scope, 'tenant', params)} AND ${windowCondition('time', window, params)}`;
  if (flag) {
    where += ' AND flag = {flag:String}';
    params.flag = flag;
  }
  return select<{ key: string; flag: string; events: string; first: string; last: string }>(
    storage,
    `SELECT ${GROUPS[groupBy]} AS key, flag, count() AS events, min(time) AS first, max(time) AS last
     FROM ${tables.events} FINAL ARRAY JOIN flags AS flag WHERE ${where}
     GROUP BY key, flag ORDER BY events DESC LIMIT 1000`,
    params,
  );
}

export function emitterHealth(storage: Storage, tables: Tables, scope: TenantScope): Promise<Row[]> {
  // A tenant's caller sees an emitter shared with other tenants through its
  // own tenants' events only: the emitter-wide last seq and last seen would
  // show another tenant's activity. Gaps and silence stay emitter-wide: they
  // say the emitter lost events or stopped, not what others did.
  const params: Row = { scoped: scope.tenants === null ? 0 : 1 };
  const inScope = tenantCondition(scope, 'tenant', params);
  const claimedInScope = tenantCondition(scope, 'claimed_tenant', params);
  return select<Row>(
    storage,
    `WITH sources AS (SELECT source, max(seq) AS own_last_seq, max(time) AS own_last_time FROM ${tables.events} WHERE ${inScope} GROUP BY source),
          gaps AS (SELECT source, count() AS open_gaps, sum(missing) AS missing FROM ${tables.sequenceGaps} FINAL
                   WHERE closed_at IS NULL GROUP BY source),
          refused AS (SELECT claimed_source AS source, count() AS quarantined, max(received_at) AS last_quarantined
                      FROM ${tables.quarantine} FINAL WHERE ${claimedInScope} GROUP BY source)
     SELECT s.source AS source, if({scoped:UInt8}, o.own_last_seq, s.last_seq) AS last_seq,
            if({scoped:UInt8}, o.own_last_time, s.last_seen) AS last_seen, s.last_heartbeat AS last_heartbeat,
            s.silent_since AS silent_since, ifNull(g.open_gaps, 0) AS open_gaps, ifNull(g.missing, 0) AS missing_events,
            ifNull(r.quarantined, 0) AS quarantined
     FROM ${tables.emitterState} AS s FINAL
     INNER JOIN sources AS o ON o.source = s.source
     LEFT JOIN gaps AS g ON g.source = s.source
     LEFT JOIN refused AS r ON r.source = s.source
     ORDER BY s.source`,
    params,
  );
}
