// The event search as callers give it (query API, saved-search reports):
// validated filters, each bounded.
import { z } from 'zod';
import { FLAGS } from './flags.js';
import { EVENT_TYPES } from './event.js';

// An identifier or filter value as a caller passes it: never empty, bounded.
export const identifier = z.string().min(1).max(256);

// Narrows a query to one of the caller's tenants; it never widens (query-api/tenancy.ts).
export const tenantQuery = { tenant: identifier.optional().describe('narrow to one of your tenants') };

// One value, or several (the parameter repeated: `human=a&human=b`), any of
// which matches.
const oneOrMore = <T extends z.ZodType<string>>(value: T) => z.union([value, z.array(value).min(1).max(MAX_VALUES)]).optional();
export const MAX_VALUES = 50;

// A relative window ending now: minutes, hours or days.
export const SINCE_PATTERN = /^([1-9]\d{0,3})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export function sinceMs(since: string): number {
  const m = SINCE_PATTERN.exec(since);
  if (!m) throw new Error(`not a relative window: ${since}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

// `attr=key:value`: the event's attrs map has key, with that value.
export const ATTR_PATTERN = /^([^:]{1,128}):(.{0,256})$/s;

// A time a caller asks about: RFC 3339, within the years storage keeps
// (1970 to 2299, DateTime64's range from the epoch on); outside it, 400.
export const QUERY_TIME_MIN = '1970-01-01T00:00:00Z';
export const QUERY_TIME_MAX = '2300-01-01T00:00:00Z';
export const queryTime = z.iso
  .datetime({ offset: true })
  .refine((t) => {
    const ms = Date.parse(t);
    return ms >= Date.parse(QUERY_TIME_MIN) && ms <= Date.parse(QUERY_TIME_MAX);
  }, `a time between ${QUERY_TIME_MIN} and ${QUERY_TIME_MAX}`);

export const eventSearchSchema = z.strictObject({
  ...tenantQuery,
  human: oneOrMore(identifier),
  agent: oneOrMore(identifier),
  actor: oneOrMore(identifier).describe('anywhere in the actor chain'),
  server: oneOrMore(identifier),
  tool: oneOrMore(identifier),
  session: oneOrMore(identifier),
  trace: oneOrMore(identifier),
  jti: oneOrMore(identifier).describe('token id'),
  grant: oneOrMore(identifier).describe('delegation grant id'),
  consent: oneOrMore(identifier).describe('consent id'),
  outcome: oneOrMore(z.enum(['allow', 'deny', 'allow_with_obligations'])),
  flag: oneOrMore(z.enum(FLAGS)).describe('events carrying any of these flags'),
  type: oneOrMore(z.enum(EVENT_TYPES)),
  result_is_error: z.enum(['true', 'false']).optional().describe('tool results (`mcp.tool.result`) whose target answered with an error (`true`: `isError` or a JSON-RPC error) or without (`false`)'),
  attr: oneOrMore(z.string().regex(ATTR_PATTERN)).describe('`key:value` of the event attrs (e.g. `approved_by:u-carol`); several must all match'),
  q: z.string().min(1).max(256).optional().describe('free text: part of any id (event, human, agent, session, trace, token, grant, consent, server, tool, resource) or of an attrs value, case-insensitive'),
  since: z.string().regex(SINCE_PATTERN).optional().describe('relative window ending now: `15m`, `1h`, `24h`, `7d` (instead of from/to)'),
  from: queryTime.optional(),
  to: queryTime.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(1024).optional(),
});

export type EventSearch = z.infer<typeof eventSearchSchema>;
