// Blast radius of one token, grant, consent or agent; flagged events grouped;
// the health of the emitters; the quarantine.
import { z } from 'zod';
import { ActorlogError, QUARANTINE_REASONS } from '../../lib/errors.js';
import { FLAGS } from '../../schemas/flags.js';
import { BLAST_SELECTORS as SELECTORS, blastRadius, emitterHealth, findings } from '../../store/findings.js';
import { listQuarantined } from '../../store/quarantine.js';
import { tenantQuery, identifier, access, adminScope, present, windowOf, windowSchema, type App, type RouteDeps } from '../context.js';

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
      const { window, period } = windowOf(request.query);
      const { summary, tools, events } = await blastRadius(deps.storage, deps.tables, scope, selector, request.query[selector]!, window);
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
      const { window, period } = windowOf(request.query);
      const rows = await findings(deps.storage, deps.tables, scope, request.query.group_by, window, request.query.flag);
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
        summary:
          "Emitter health: last seen, last seq, silence, open sequence gaps, quarantined events. For a tenant's caller, last seq and last seen are those of its own tenants' events (an emitter shared with other tenants shows none of their activity)",
        tags: ['incident'],
        querystring: z.strictObject(tenantQuery),
      },
    },
    async (request) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const rows = await emitterHealth(deps.storage, deps.tables, scope);
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
      // A platform admin reads it whole, records that claim no tenant included
      // (most of a flood of garbage claims none).
      const scope = request.principal?.roles.includes('platform_admin') ? adminScope(request, request.query.tenant) : access(request, 'analyst', request.query.tenant);
      const { window, period } = windowOf(request.query);
      const { page, next } = await listQuarantined(deps.storage, deps.tables, scope, window, { reason, source, limit, cursor });
      request.rowsReturned = page.length;
      return {
        period,
        quarantined: page.map(present),
        next_cursor: next,
      };
    },
  );
}
