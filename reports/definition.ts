// A report definition: what to report, for which tenant, over which period,
// when, and in which format. Stored in ClickHouse (report_definitions).
import { z } from 'zod';
import { eventSearchSchema } from '../schemas/search.js';
import { parseCron, parsePeriod } from './cron.js';
import { EXPORT_FORMATS, needsStoredEvent } from '../schemas/export-formats.js';

export const REPORT_KINDS = ['access_review', 'privileged_tool_use', 'denied_actions', 'after_revocation', 'agent_inventory', 'saved_search'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

const valid = (check: (v: string) => unknown) => (v: string) => {
  try {
    check(v);
    return true;
  } catch {
    return false;
  }
};

// The period of each run sets the window, so a saved search has no from/to of its own.
export const savedSearchSchema = eventSearchSchema.omit({ limit: true, cursor: true, tenant: true, from: true, to: true, since: true });

export const reportInputSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    kind: z.enum(REPORT_KINDS),
    tenant: z.string().min(1).max(256),
    period: z.string().refine(valid(parsePeriod), 'an ISO duration like P7D, P1W or PT12H (1 hour to 366 days)'),
    schedule: z.string().refine(valid(parseCron), 'a five-field cron expression in UTC, e.g. "0 6 * * 1"'),
    format: z.enum(EXPORT_FORMATS).default('csv').describe('ocsf and cloudevents: events, so saved_search only'),
    search: savedSearchSchema.optional().describe('the filters of a saved_search report'),
  })
  .refine((d) => (d.kind === 'saved_search') === (d.search !== undefined), { message: 'search is given for, and only for, kind saved_search', path: ['search'] })
  .refine((d) => d.kind === 'saved_search' || !needsStoredEvent(d.format), {
    message: 'ocsf and cloudevents describe events: only a saved_search report has them',
    path: ['format'],
  });

export type ReportInput = z.infer<typeof reportInputSchema>;

export interface ReportDefinition extends ReportInput {
  id: string;
  created_by: string;
  created_at: string;
}
