// The formats stored events leave in (exports, report files, the SIEM
// stream): rows as CSV or NDJSON, OCSF events and CloudEvents as NDJSON. The
// last two are built from the stored event itself, so a query feeding them
// selects event_json and raw_jws too.
import { MEDIA_TYPES, rowEncoder } from '../lib/row-format.js';
import { toCloudEvent, type CloudEventRow } from './cloudevents.js';
import { toOcsf, type MappableRow } from './ocsf/map.js';

export const EXPORT_FORMATS = ['csv', 'ndjson', 'ocsf', 'cloudevents'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_MEDIA_TYPES: Record<ExportFormat, string> = {
  ...MEDIA_TYPES,
  ocsf: 'application/x-ndjson',
  cloudevents: 'application/x-ndjson',
};

export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = { csv: 'csv', ndjson: 'ndjson', ocsf: 'ocsf.ndjson', cloudevents: 'cloudevents.ndjson' };

export const needsStoredEvent = (format: ExportFormat) => format === 'ocsf' || format === 'cloudevents';

export function exportEncoder(format: ExportFormat): (row: Record<string, unknown>) => string {
  if (format === 'ocsf') return (row) => `${JSON.stringify(toOcsf(row as unknown as MappableRow))}\n`;
  if (format === 'cloudevents') return (row) => `${JSON.stringify(toCloudEvent(row as unknown as CloudEventRow))}\n`;
  return rowEncoder(format);
}
