// What one human's agents did, and what one agent did and for whom, over a window.
import { z } from 'zod';
import { agentActivity, humanActivity } from '../../store/activity.js';
import { identifier, access, present, windowOf, windowSchema, type App, type RouteDeps } from '../context.js';

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
      const { window, period } = windowOf(request.query);
      const { agents, flags, days } = await humanActivity(deps.storage, deps.tables, scope, request.params.sub, window);
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
      const { window, period } = windowOf(request.query);
      const { principals, runtimes, tools, flags, days } = await agentActivity(deps.storage, deps.tables, scope, request.params.id, window);
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
