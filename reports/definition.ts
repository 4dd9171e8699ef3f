// A report definition: what to report, for which tenant, over which period,
// when, and in which format. Stored in ClickHouse (report_definitions).
import { z } from 'zod';
import { eventSearchSchema } from '../schemas/search.js';
import { parseCron, parsePeriod } from './cron.js';
import { EXPORT_FORMATS, needsStoredEvent } from '../schemas/export-formats.js';

// The most rows one report file holds (a saved search is cut there, newest first).
export const MAX_REPORT_ROWS = 1_000_000;

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

// What an update may change: not the tenant or kind (a different report is a
// new definition, so the run history of one stays about one thing).
export const reportUpdateSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    period: z.string(),
    schedule: z.string(),
    format: z.enum(EXPORT_FORMATS),
    search: savedSearchSchema,
  })
  .partial()
  .refine((d) => Object.keys(d).length > 0, 'give at least one of name, period, schedule, format, search');

export type ReportUpdate = z.infer<typeof reportUpdateSchema>;

export interface ReportDefinition extends ReportInput {
  id: string;
  // A paused definition is not run on schedule; it can still be run now.
  paused: boolean;
  created_by: string;
  created_at: string;
  updated_by: string | null;
  updated_at: string | null;
  // Only on a deleted definition (listed when asked for): who, when.
  deleted?: { by: string; at: string };
}

// Answers of the report routes (OpenAPI response schemas).
const time = z.string().describe('RFC 3339');
export const reportDefinitionSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(REPORT_KINDS),
  tenant: z.string(),
  period: z.string(),
  schedule: z.string(),
  format: z.enum(EXPORT_FORMATS),
  search: z.record(z.string(), z.unknown()).optional(),
  paused: z.boolean(),
  created_by: z.string(),
  created_at: time,
  updated_by: z.string().nullable(),
  updated_at: time.nullable(),
  deleted: z.object({ by: z.string(), at: time }).optional().describe('only on a deleted definition'),
});

export const runSummarySchema = z.object({
  run_id: z.string(),
  report_id: z.string(),
  tenant: z.string(),
  trigger: z.enum(['schedule', 'manual']),
  status: z.enum(['ok', 'failed']),
  error: z.string(),
  period_from: time,
  period_to: time,
  due_at: time,
  row_count: z.number(),
  bytes: z.number().describe('size of the file; 0 for runs from before files went to disk'),
  sha256: z.string(),
  format: z.enum(EXPORT_FORMATS),
  generated_at: time,
  generated_by: z.string(),
});
