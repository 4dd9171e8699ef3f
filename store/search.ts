// The event search as parameterised SQL: every value the caller gives travels
// as a {name:Type} query parameter, never inside the SQL text.
import type { EventSearch } from '../schemas/search.js';
import { toClickHouseTime } from '../lib/time.js';
import { decodeCursor, encodeCursor, type Cursor } from './cursor.js';
import { select, type Storage } from './client.js';
import { tenantCondition, type TenantScope } from './tenancy.js';

// Equality filters: query parameter -> column. (The tenant is not one: it
// narrows the caller's scope, see query-api/tenancy.ts.)
const EQUALS: [keyof EventSearch, string][] = [
  ['human', 'human_sub'],
  ['agent', 'agent_id'],
  ['server', 'server_id'],
  ['tool', 'tool_name'],
  ['session', 'session_id'],
  ['trace', 'trace_id'],
  ['jti', 'token_jti'],
  ['grant', 'grant_id'],
  ['consent', 'consent_id'],
  ['outcome', 'outcome'],
  ['type', 'type'],
];

// What a search returns per row: everything but the stored payload copies,
// which GET /v1/events/{id} returns.
export const LIST_COLUMNS = `* EXCEPT (event_json, raw_jws)`;

export function buildEventSearch(
  table: string,
  search: EventSearch,
  scope: TenantScope,
  columns = LIST_COLUMNS,
): { query: string; params: Record<string, unknown>; limit: number } {
  const params: Record<string, unknown> = {};
  const where: string[] = [tenantCondition(scope, 'tenant', params)];
  for (const [param, column] of EQUALS) {
    const value = search[param];
    if (value !== undefined) {
      where.push(`${column} = {${param}:String}`);
      params[param] = value;
    }
  }
  if (search.actor !== undefined) {
    where.push('has(actor_chain, {actor:String})');
    params.actor = search.actor;
  }
  if (search.flag !== undefined) {
    where.push('has(flags, {flag:String})');
    params.flag = search.flag;
  }
  if (search.from !== undefined) {
    where.push(`time >= {from:DateTime64(3, 'UTC')}`);
    params.from = toClickHouseTime(search.from);
  }
  if (search.to !== undefined) {
    where.push(`time < {to:DateTime64(3, 'UTC')}`);
    params.to = toClickHouseTime(search.to);
  }
  if (search.cursor !== undefined) {
    const cursor: Cursor = decodeCursor(search.cursor);
    where.push(`(time, id) < ({cursor_time:DateTime64(3, 'UTC')}, {cursor_id:String})`);
    params.cursor_time = cursor.time;
    params.cursor_id = cursor.id;
  }
  // One row more than asked tells whether another page exists.
  params.limit_plus_one = search.limit + 1;
  const query = `SELECT ${columns} FROM ${table} FINAL
    WHERE ${where.join(' AND ')}
    ORDER BY time DESC, id DESC
    LIMIT {limit_plus_one:UInt32}`;
  return { query, params, limit: search.limit };
}

export type SearchRow = Record<string, unknown> & { id: string; time: string };

// One page of a search and the cursor of the next, if any.
// withStoredEvent: the rows also carry event_json and raw_jws (the OCSF and
// CloudEvents forms are built from the signed event).
export interface SearchOptions {
  withStoredEvent?: boolean;
}

export async function searchPage(
  storage: Storage,
  table: string,
  search: EventSearch,
  scope: TenantScope,
  { withStoredEvent = false }: SearchOptions = {},
): Promise<{ page: SearchRow[]; next: string | null }> {
  const { query, params, limit } = buildEventSearch(table, search, scope, withStoredEvent ? '*' : LIST_COLUMNS);
  const rows = await select<SearchRow>(storage, query, params);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last ? encodeCursor({ time: last.time, id: last.id }) : null };
}

// Every row of a search, page by page with the same stable cursor the API
// hands out, so memory stays bounded whatever the transport buffers.
export async function* searchAll(
  storage: Storage,
  table: string,
  search: Omit<EventSearch, 'limit' | 'cursor'>,
  scope: TenantScope,
  maxRows: number,
  { pageSize = 5_000, ...options }: SearchOptions & { pageSize?: number } = {},
): AsyncGenerator<SearchRow[]> {
  let cursor: string | undefined;
  let sent = 0;
  do {
    const { page, next } = await searchPage(storage, table, { ...search, limit: Math.min(pageSize, maxRows - sent), cursor }, scope, options);
    yield page;
    sent += page.length;
    cursor = next ?? undefined;
  } while (cursor && sent < maxRows);
}
