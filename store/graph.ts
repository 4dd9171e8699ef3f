// The events of one session or trace, oldest first, as the graph view reads them.
import { select, type Storage, type Tables } from './client.js';
import { tenantCondition, type TenantScope } from './tenancy.js';

export interface GraphRow {
  time: string;
  human_sub: string;
  agent_id: string;
  actor_chain: string[];
  server_id: string;
  tool_name: string;
  outcome: string;
}

const COLUMNS = { session: 'session_id', trace: 'trace_id' } as const;

export function chainEvents(storage: Storage, tables: Tables, scope: TenantScope, by: keyof typeof COLUMNS, id: string, max: number): Promise<GraphRow[]> {
  const params: Record<string, unknown> = { id, max };
  return select<GraphRow>(
    storage,
    `SELECT time, human_sub, agent_id, actor_chain, server_id, tool_name, outcome FROM ${tables.events} FINAL
     WHERE ${tenantCondition(scope, 'tenant', params)} AND ${COLUMNS[by]} = {id:String} ORDER BY time LIMIT {max:UInt32}`,
    params,
  );
}
