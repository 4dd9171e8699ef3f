// Every row of a filtered read of events in time order, for exports and
// report files: memory stays flat whatever the row count. Sorting the whole
// result at once would hold all of it in the engine, so the window is cut
// into slices of whole minutes of about SLICE_ROWS rows (counted first, on
// the time column alone), each sorted and streamed in turn.
import { toClickHouseTime } from '../lib/time.js';
import { select, streamSelect, type Storage, type StreamBounds } from './client.js';

const SLICE_ROWS = 20_000;
const MINUTE_MS = 60_000;

export interface TimeOrderedRead {
  table: string;
  columns: string;
  // Conditions joined by AND, with their parameters.
  where: readonly string[];
  params: Record<string, unknown>;
  order: 'ASC' | 'DESC';
  maxRows: number;
  bounds?: StreamBounds;
  // Rows a slice may hold (tests set it small to cross many slices).
  sliceRows?: number;
}

export async function* streamInTimeOrder<T>(storage: Storage, read: TimeOrderedRead): AsyncGenerator<T[]> {
  const { table, columns, where, params, order, maxRows, bounds, sliceRows = SLICE_ROWS } = read;
  const minutes = await select<{ minute: number; n: number }>(
    storage,
    `SELECT intDiv(toUnixTimestamp64Milli(time), ${MINUTE_MS}) AS minute, count() AS n FROM ${table} FINAL
     WHERE ${where.join(' AND ')} GROUP BY minute ORDER BY minute ${order}`,
    params,
  );
  // Slices in the order of reading; each grows over the next minutes while it
  // stays under SLICE_ROWS.
  const slices: { from: number; to: number }[] = [];
  let counted = 0;
  for (const { minute, n } of minutes) {
    const [from, to] = [Number(minute) * MINUTE_MS, (Number(minute) + 1) * MINUTE_MS];
    const last = slices[slices.length - 1];
    if (last && counted + Number(n) <= sliceRows) {
      if (order === 'DESC') last.from = from;
      else last.to = to;
      counted += Number(n);
    } else {
      slices.push({ from, to });
      counted = Number(n);
    }
  }
  let sent = 0;
  for (const slice of slices) {
    if (sent >= maxRows) return;
    const sliceParams = { ...params, slice_from: toClickHouseTime(slice.from), slice_to: toClickHouseTime(slice.to), max_rows: maxRows - sent };
    const query = `SELECT ${columns} FROM ${table} FINAL
      WHERE ${where.join(' AND ')} AND time >= {slice_from:DateTime64(3, 'UTC')} AND time < {slice_to:DateTime64(3, 'UTC')}
      ORDER BY time ${order}, id ${order}
      LIMIT {max_rows:UInt32}`;
    for await (const rows of streamSelect<T>(storage, query, sliceParams, bounds)) {
      sent += rows.length;
      yield rows;
    }
  }
}
