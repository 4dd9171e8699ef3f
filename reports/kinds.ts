// The rows of each report kind, for one tenant and period, in chunks as
// storage produces them (a report file is written as they come).
import type { Storage, StreamBounds, Tables } from '../store/client.js';
import { present } from '../store/present.js';
import { streamAggregateReportRows } from '../store/reports.js';
import { streamSearch } from '../store/search.js';
import { MAX_REPORT_ROWS, type ReportDefinition } from './definition.js';
import { needsStoredEvent } from '../schemas/export-formats.js';

export async function* reportRows(
  storage: Storage,
  tables: Tables,
  definition: Pick<ReportDefinition, 'kind' | 'tenant' | 'search' | 'format'>,
  period: { from: number; to: number },
  bounds?: StreamBounds,
): AsyncGenerator<Record<string, unknown>[]> {
  const rows =
    definition.kind === 'saved_search'
      ? streamSearch(
          storage,
          tables.events,
          { ...definition.search!, from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() },
          { tenants: [definition.tenant] },
          MAX_REPORT_ROWS,
          { withStoredEvent: needsStoredEvent(definition.format), bounds },
        )
      : streamAggregateReportRows(storage, tables, definition.kind, definition.tenant, period, MAX_REPORT_ROWS, bounds);
  for await (const chunk of rows) yield chunk.map(present);
}
