// What one human's agents did, and what one agent did and for whom, over a window.
import { z } from 'zod';
import { tenantCondition } from '../tenancy.js';
import { identifier, access, present, select, windowParams, windowSchema, WINDOW_SQL, type App, type RouteDeps } from '../context.js';

const ALLOWED = `outcome IN ('allow', 'allow_with_obligations')`;

async function flagCounts(deps: RouteDeps, where: string, params: Record<string, unknown>) {
  const rows = await select<{ flag: string; n: string }>(
    deps.storage,
    `SELECT flag, count() AS n FROM ${deps.tables.events} FINAL ARRAY JOIN flags AS flag WHERE ${where} GROUP BY flag ORDER BY n DESC`,
    params,
  );
  return Object.fromEntries(rows.map((r) => [r.flag, Number(r.n)]));
}

async function byDay(deps: RouteDeps, where: string, params: Record<string, unknown>) {
  const rows = await select<{ day: string; events: string; allowed: string; denied: string; flagged: string }>(
    deps.storage,
    `SELECT toString(toDate(time)) AS day, count() AS events, countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied,
            countIf(notEmpty(flags)) AS flagged
     FROM ${deps.tables.events} FINAL WHERE ${where} GROUP BY day ORDER BY day`,
    params,
  );
  return rows.map((r) => ({ day: r.day, events: Number(r.events), allowed: Number(r.allowed), denied: Number(r.denied), flagged: Number(r.flagged) }));
}

const nonEmpty = (column: string) => `arrayFilter(x -> x != '', groupUniqArray(${column}))`;

export function activityRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/v1/humans/:sub/activity',
    {
      schema: {
        summary: 'Which agents acted for this human, under which delegations and consents, on which servers and tools; allowed vs denied; flags; by day',
        tags: ['incident'],
        params: z.object({ sub: identifier }),
        querystring: z.strictObject(windowSchema),
      },
    },
    async (request) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const params: Record<string, unknown> = { sub: request.params.sub };
      const period = windowParams(request.query, params);
      const where = `${tenantCondition(scope, 'tenant', params)} AND human_sub = {sub:String} AND ${WINDOW_SQL}`;
      const [agents, flags, days] = await Promise.all([
        select<Record<string, unknown>>(
          deps.storage,
          `SELECT agent_id, any(agent_name) AS agent_name, count() AS events, countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied,
                  ${nonEmpty('delegation_mode')} AS delegation_modes, ${nonEmpty('grant_id')} AS grants, ${nonEmpty('consent_id')} AS consents,
                  ${nonEmpty('server_id')} AS servers, ${nonEmpty('tool_name')} AS tools, min(time) AS first, max(time) AS last
           FROM ${deps.tables.events} FINAL WHERE ${where} AND agent_id != '' GROUP BY agent_id ORDER BY events DESC LIMIT 1000`,
          params,
        ),
        flagCounts(deps, where, params),
        byDay(deps, where, params),
      ]);
      request.rowsReturned = agents.length;
      return { human: request.params.sub, period, agents: agents.map(present), flags, by_day: days };
    },
  );

  app.get(
    '/v1/agents/:id/activity',
    {
      schema: {
        summary: 'On whose behalf this agent acted, with which runtime identities and tools; denials; flags; by day',
        tags: ['incident'],
        params: z.object({ id: identifier }),
        querystring: z.strictObject(windowSchema),
      },
    },
    async (request) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const params: Record<string, unknown> = { agent: request.params.id };
      const period = windowParams(request.query, params);
      const where = `${tenantCondition(scope, 'tenant', params)} AND agent_id = {agent:String} AND ${WINDOW_SQL}`;
      const [principals, runtimes, tools, flags, days] = await Promise.all([
        select<Record<string, unknown>>(
          deps.storage,
          `SELECT human_sub, any(human_email) AS human_email, count() AS events, countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied,
                  ${nonEmpty('delegation_mode')} AS delegation_modes, min(time) AS first, max(time) AS last
           FROM ${deps.tables.events} FINAL WHERE ${where} GROUP BY human_sub ORDER BY events DESC LIMIT 1000`,
          params,
        ),
        select<Record<string, unknown>>(
          deps.storage,
          `SELECT agent_runtime_kind AS kind, agent_runtime_id AS id, count() AS events, min(time) AS first, max(time) AS last
           FROM ${deps.tables.events} FINAL WHERE ${where} GROUP BY kind, id ORDER BY events DESC LIMIT 100`,
          params,
        ),
        select<Record<string, unknown>>(
          deps.storage,
          `SELECT server_id, tool_name, any(tool_intent) AS intent, any(tool_sensitivity) AS sensitivity, count() AS events,
                  countIf(${ALLOWED}) AS allowed, countIf(outcome = 'deny') AS denied
           FROM ${deps.tables.events} FINAL WHERE ${where} AND tool_name != '' GROUP BY server_id, tool_name ORDER BY events DESC LIMIT 1000`,
          params,
        ),
        flagCounts(deps, where, params),
        byDay(deps, where, params),
      ]);
      request.rowsReturned = principals.length + tools.length;
      return {
        agent: request.params.id,
        period,
        on_behalf_of: principals.map((p) => present({ ...p, human_sub: p.human_sub || null })),
        runtime_identities: runtimes.map(present),
        tools: tools.map(present),
        flags,
        by_day: days,
      };
    },
  );
}
