// The rows of each report kind, for one tenant and period.
import type { Storage, Tables } from '../store/client.js';
import { present } from '../store/present.js';
import { aggregateReportRows } from '../store/reports.js';
import { searchAll } from '../store/search.js';
import type { ReportDefinition } from './definition.js';
import { needsStoredEvent } from '../schemas/export-formats.js';

export const MAX_REPORT_ROWS = 1_000_000;

export async function* reportRows(
  storage: Storage,
  tables: Tables,
  definition: Pick<ReportDefinition, 'kind' | 'tenant' | 'search' | 'format'>,
  period: { from: number; to: number },
): AsyncGenerator<Record<string, unknown>[]> {
  if (definition.kind === 'saved_search') {
    const search = { ...definition.search!, from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() };
    const options = { withStoredEvent: needsStoredEvent(definition.format) };
    for await (const page of searchAll(storage, tables.events, search, { tenants: [definition.tenant] }, MAX_REPORT_ROWS, options)) yield page.map(present);
    return;
  }
  yield (await aggregateReportRows(storage, tables, definition.kind, definition.tenant, period, MAX_REPORT_ROWS)).map(present);
}
