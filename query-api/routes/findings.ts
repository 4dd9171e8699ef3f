// Blast radius of one token, grant, consent or agent; flagged events grouped;
// the health of the emitters; the quarantine.
import { z } from 'zod';
import { ActorlogError, QUARANTINE_REASONS } from '../../lib/errors.js';
import { FLAGS } from '../../schemas/row.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { tenantCondition } from '../tenancy.js';
import { tenantQuery, identifier, access, present, select, windowParams, windowSchema, windowSql, WINDOW_SQL, type App, type RouteDeps } from '../context.js';

const SELECTORS = { jti: 'token_jti', grant: 'grant_id', consent: 'consent_id', agent: 'agent_id' } as const;
const GROUPS = { flag: "''", emitter: 'source', human: 'human_sub', agent: 'agent_id' } as const;

export function findingRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/v1/blast-radius',
    {
      schema: {
        summary: 'Everything reachable from one token jti, grant, consent or agent in a window: humans, agents, servers, tools, resources, denials, flags',
        tags: ['incident'],
        querystring: z.strictObject({
          ...windowSchema,
          jti: identifier.optional(),
          grant: identifier.optional(),
          consent: identifier.optional(),
          agent: identifier.optional(),
        }),
      },
    },
    async (request) => {
      const chosen = (Object.keys(SELECTORS) as (keyof typeof SELECTORS)[]).filter((k) => request.query[k] !== undefined);
      if (chosen.length !== 1) throw new ActorlogError('BAD_REQUEST', 'give exactly one of jti, grant, consent, agent');
      const selector = chosen[0]!;
      const scope = access(request, 'analyst', request.query.tenant);
      const params: Record<string, unknown> = { value: request.query[selector] };
      const period = windowParams(request.query, params);
      const where = `${tenantCondition(scope, 'tenant', params)} AND ${SELECTORS[selector]} = {value:String} AND ${WINDOW_SQL}`;
      const uniq = (column: string) => `arrayFilter(x -> x != '', groupUniqArray(1000)(${column}))`;
      const [[summary], tools, events] = await Promise.all([
        select<Record<string, unknown>>(
          deps.storage,
          `SELECT count() AS events, countIf(outcome = 'deny') AS denied, min(time) AS first, max(time) AS last,
                  ${uniq('human_sub')} AS humans, ${uniq('agent_id')} AS agents, ${uniq('server_id')} AS servers,
                  ${uniq('tool_resource')} AS resources, ${uniq('session_id')} AS sessions, ${uniq('token_jti')} AS tokens,
                  groupUniqArrayArray(flags) AS flags
           FROM ${deps.tables.events} FINAL WHERE ${where}`,
          params,
        ),
        select<Record<string, unknown>>(
          deps.storage,
          `SELECT server_id, tool_name, any(tool_intent) AS intent, any(tool_sensitivity) AS sensitivity, count() AS events, countIf(outcome = 'deny') AS denied
           FROM ${deps.tables.events} FINAL WHERE ${where} AND tool_name != '' GROUP BY server_id, tool_name ORDER BY events DESC LIMIT 1000`,
          params,
        ),
        select<Record<string, unknown>>(
          deps.storage,
          `SELECT id, time, type, human_sub, agent_id, actor_chain, server_id, tool_name, tool_resource, outcome, flags
           FROM ${deps.tables.events} FINAL WHERE ${where} ORDER BY time DESC, id DESC LIMIT 1000`,
          params,
        ),
      ]);
      request.rowsReturned = events.length;
      const s = summary ?? {};
      return {
        selector: { [selector]: request.query[selector] },
        period,
        summary: present({ ...s, events: Number(s.events ?? 0), denied: Number(s.denied ?? 0), first: Number(s.events ?? 0) > 0 ? s.first : null, last: Number(s.events ?? 0) > 0 ? s.last : null }),
        tools: tools.map(present),
        events: events.map(present),
      };
    },
  );

  app.get(
    '/v1/findings',
    {
      schema: {
        summary: 'Flagged events counted by flag, alone or per emitter, human or agent',
        tags: ['incident'],
        querystring: z.strictObject({ ...windowSchema, group_by: z.enum(['flag', 'emitter', 'human', 'agent']).default('flag'), flag: z.enum(FLAGS).optional() }),
      },
    },
    async (request) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const params: Record<string, unknown> = {};
      const period = windowParams(request.query, params);
      let where = `${tenantCondition(scope, 'tenant', params)} AND ${WINDOW_SQL}`;
      if (request.query.flag) {
        where += ' AND flag = {flag:String}';
        params.flag = request.query.flag;
      }
      const rows = await select<{ key: string; flag: string; events: string; first: string; last: string }>(
        deps.storage,
        `SELECT ${GROUPS[request.query.group_by]} AS key, flag, count() AS events, min(time) AS first, max(time) AS last
         FROM ${deps.tables.events} FINAL ARRAY JOIN flags AS flag WHERE ${where}
         GROUP BY key, flag ORDER BY events DESC LIMIT 1000`,
        params,
      );
      request.rowsReturned = rows.length;
      return {
        group_by: request.query.group_by,
        period,
        findings: rows.map((r) => present({ ...(request.query.group_by === 'flag' ? {} : { [request.query.group_by]: r.key }), flag: r.flag, events: Number(r.events), first: r.first, last: r.last })),
      };
    },
  );

  app.get(
    '/v1/emitters',
    {
      schema: {
        summary: 'Emitter health: last seen, last seq, silence, open sequence gaps, quarantined events',
        tags: ['incident'],
        querystring: z.strictObject(tenantQuery),
      },
    },
    async (request) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const params: Record<string, unknown> = {};
      const inScope = tenantCondition(scope, 'tenant', params);
      const claimedInScope = tenantCondition(scope, 'claimed_tenant', params);
      const rows = await select<Record<string, unknown>>(
        deps.storage,
        `WITH sources AS (SELECT DISTINCT source FROM ${deps.tables.events} WHERE ${inScope}),
              gaps AS (SELECT source, count() AS open_gaps, sum(missing) AS missing FROM ${deps.tables.sequenceGaps} FINAL
                       WHERE closed_at IS NULL GROUP BY source),
              refused AS (SELECT claimed_source AS source, count() AS quarantined, max(received_at) AS last_quarantined
                          FROM ${deps.tables.quarantine} FINAL WHERE ${claimedInScope} GROUP BY source)
         SELECT s.source AS source, s.last_seq AS last_seq, s.last_seen AS last_seen, s.last_heartbeat AS last_heartbeat,
                s.silent_since AS silent_since, ifNull(g.open_gaps, 0) AS open_gaps, ifNull(g.missing, 0) AS missing_events,
                ifNull(r.quarantined, 0) AS quarantined
         FROM ${deps.tables.emitterState} AS s FINAL
         LEFT JOIN gaps AS g ON g.source = s.source
         LEFT JOIN refused AS r ON r.source = s.source
         WHERE s.source IN (SELECT source FROM sources)
         ORDER BY s.source`,
        params,
      );
      request.rowsReturned = rows.length;
      return {
        emitters: rows.map((r) =>
          present({ ...r, last_seq: Number(r.last_seq), open_gaps: Number(r.open_gaps), missing_events: Number(r.missing_events), quarantined: Number(r.quarantined), silent: r.silent_since !== null }),
        ),
      };
    },
  );

  app.get(
    '/v1/quarantine',
    {
      schema: {
        summary: 'Refused events with their reason and raw bytes, newest first (tenant and source as the refused bytes claimed them)',
        tags: ['incident'],
        querystring: z.strictObject({
          ...windowSchema,
          reason: z.enum(Object.keys(QUARANTINE_REASONS) as [keyof typeof QUARANTINE_REASONS]).optional(),
          source: identifier.optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().max(1024).optional(),
        }),
      },
    },
    async (request) => {
      const { reason, source, limit, cursor } = request.query;
      const scope = access(request, 'analyst', request.query.tenant);
      const params: Record<string, unknown> = { limit_plus_one: limit + 1 };
      const period = windowParams(request.query, params);
      const where = [tenantCondition(scope, 'claimed_tenant', params), windowSql('received_at')];
      if (reason) {
        where.push('reason = {reason:String}');
        params.reason = reason;
      }
      if (source) {
        where.push('claimed_source = {source:String}');
        params.source = source;
      }
      if (cursor) {
        const c = decodeCursor(cursor);
        where.push(`(received_at, quarantine_id) < ({cursor_time:DateTime64(3, 'UTC')}, {cursor_id:String})`);
        Object.assign(params, { cursor_time: c.time, cursor_id: c.id });
      }
      const rows = await select<Record<string, unknown> & { received_at: string; quarantine_id: string }>(
        deps.storage,
        `SELECT * FROM ${deps.tables.quarantine} FINAL WHERE ${where.join(' AND ')}
         ORDER BY received_at DESC, quarantine_id DESC LIMIT {limit_plus_one:UInt32}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      request.rowsReturned = page.length;
      return {
        period,
        quarantined: page.map(present),
        next_cursor: rows.length > limit && last ? encodeCursor({ time: last.received_at, id: last.quarantine_id }) : null,
      };
    },
  );
}
