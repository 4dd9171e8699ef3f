// Stored times go out as RFC 3339, like the events that carried them.
import { fromClickHouseTime } from '../lib/time.js';

const TIME_COLUMNS = new Set([
  'time',
  'ingested_at',
  'delegation_expires_at',
  'first',
  'last',
  'first_seen',
  'last_seen',
  'received_at',
  'last_heartbeat',
  'silent_since',
  'detected_at',
  'closed_at',
]);

export function present<T extends Record<string, unknown>>(row: T): T {
  const out: Record<string, unknown> = { ...row };
  for (const [key, value] of Object.entries(out)) {
    if (TIME_COLUMNS.has(key) && typeof value === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(value)) out[key] = fromClickHouseTime(value);
  }
  return out as T;
}
