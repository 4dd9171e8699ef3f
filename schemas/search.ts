// The event search as callers give it (query API, saved-search reports):
// validated filters, each bounded.
import { z } from 'zod';
import { FLAGS } from './flags.js';
import { EVENT_TYPES } from './event.js';

// An identifier or filter value as a caller passes it: never empty, bounded.
export const identifier = z.string().min(1).max(256);

// Narrows a query to one of the caller's tenants; it never widens (query-api/tenancy.ts).
export const tenantQuery = { tenant: identifier.optional().describe('narrow to one of your tenants') };

export const eventSearchSchema = z.strictObject({
  ...tenantQuery,
  human: identifier.optional(),
  agent: identifier.optional(),
  actor: identifier.optional(),
  server: identifier.optional(),
  tool: identifier.optional(),
  session: identifier.optional(),
  trace: identifier.optional(),
  jti: identifier.optional().describe('token id'),
  grant: identifier.optional().describe('delegation grant id'),
  consent: identifier.optional().describe('consent id'),
  outcome: z.enum(['allow', 'deny', 'allow_with_obligations']).optional(),
  flag: z.enum(FLAGS).optional(),
  type: z.enum(EVENT_TYPES).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(1024).optional(),
});

export type EventSearch = z.infer<typeof eventSearchSchema>;
