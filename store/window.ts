// A time window [from, to) as an SQL condition with its parameters.
import { toClickHouseTime } from '../lib/time.js';

export interface TimeWindow {
  // Epoch milliseconds; `to` is exclusive.
  from: number;
  to: number;
}

export function windowCondition(column: string, window: TimeWindow, params: Record<string, unknown>): string {
  params.from = toClickHouseTime(window.from);
  params.to = toClickHouseTime(window.to);
  return `${column} >= {from:DateTime64(3, 'UTC')} AND ${column} < {to:DateTime64(3, 'UTC')}`;
}
