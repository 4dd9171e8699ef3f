// The event search as parameterised SQL: every value the caller gives travels
// as a {name:Type} query parameter, never inside the SQL text.
import { ATTR_PATTERN, sinceMs, type EventSearch } from '../schemas/search.js';
import { ActorlogError } from '../lib/errors.js';
import { toClickHouseTime } from '../lib/time.js';
import { decodeCursor, encodeCursor, type Cursor } from './cursor.js';
import { select, streamSelect, type Storage, type StreamBounds } from './client.js';
import { STORED_JWS } from './events.js';
import { tenantCondition, type TenantScope } from './tenancy.js';
import { streamInTimeOrder } from './time-slices.js';

// Equality filters: query parameter -> column; several values match any.
// (The tenant is not one: it narrows the caller's scope, see
// query-api/tenancy.ts.)
type Filters = Omit<EventSearch, 'limit' | 'cursor'>;
const EQUALS: [keyof Filters, string][] = [
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

// Array columns: any of the values is in the array.
const HAS_ANY: [keyof Filters, string][] = [
  ['actor', 'actor_chain'],
  ['flag', 'flags'],
];

// What free text (`q`) looks into.
const TEXT_COLUMNS = ['id', 'human_sub', 'human_email', 'agent_id', 'session_id', 'trace_id', 'token_jti', 'grant_id', 'consent_id', 'server_id', 'tool_name', 'tool_resource'];

// What a search returns per row: everything but the stored payload copies,
// which GET /v1/events/{id} returns.
export const LIST_COLUMNS = `* EXCEPT (event_json, raw_jws)`;

const values = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

// The window a search covers: from/to as given, or `since` back from now.
export function searchWindow(search: Pick<EventSearch, 'since' | 'from' | 'to'>, now = Date.now()): { from?: number; to?: number } {
  if (search.since !== undefined) {
    if (search.from !== undefined || search.to !== undefined) throw new ActorlogError('BAD_REQUEST', 'give since, or from/to, not both');
    return { from: now - sinceMs(search.since) };
  }
  return { from: search.from === undefined ? undefined : Date.parse(search.from), to: search.to === undefined ? undefined : Date.parse(search.to) };
}

// The WHERE conditions of a search (without its cursor), with their parameters.
export function searchConditions(search: Filters, scope: TenantScope, params: Record<string, unknown>, now = Date.now()): string[] {
  const where: string[] = [tenantCondition(scope, 'tenant', params)];
  for (const [param, column] of EQUALS) {
    const value = values(search[param] as string | string[] | undefined);
    if (value !== undefined) {
      where.push(`${column} IN {${param}:Array(String)}`);
      params[param] = value;
    }
  }
  for (const [param, column] of HAS_ANY) {
    const value = values(search[param] as string | string[] | undefined);
    if (value !== undefined) {
      where.push(`hasAny(${column}, {${param}:Array(String)})`);
      params[param] = value;
    }
  }
  if (search.result_is_error !== undefined) {
    where.push(`result_is_error = {result_is_error:Bool}`);
    params.result_is_error = search.result_is_error === 'true';
  }
  (values(search.attr) ?? []).forEach((pair, i) => {
    const [, key, value] = ATTR_PATTERN.exec(pair)!;
    where.push(`attrs[{attr_key_${i}:String}] = {attr_value_${i}:String} AND mapContains(attrs, {attr_key_${i}:String})`);
    params[`attr_key_${i}`] = key;
    params[`attr_value_${i}`] = value;
  });
  if (search.q !== undefined) {
    const text = [...TEXT_COLUMNS.map((c) => `positionCaseInsensitiveUTF8(${c}, {q:String}) > 0`), `arrayExists(v -> positionCaseInsensitiveUTF8(v, {q:String}) > 0, mapValues(attrs))`];
    where.push(`(${text.join(' OR ')})`);
    params.q = search.q;
  }
  const window = searchWindow(search, now);
  if (window.from !== undefined) {
    where.push(`time >= {from:DateTime64(3, 'UTC')}`);
    params.from = toClickHouseTime(window.from);
  }
  if (window.to !== undefined) {
    where.push(`time < {to:DateTime64(3, 'UTC')}`);
    params.to = toClickHouseTime(window.to);
  }
  return where;
}

// A page is found in two steps. The keys step finds the page's sorting keys
// newest first, reading only the key and the filtered columns and without
// FINAL, so the engine sorts narrow rows (top-N) and projections
// (migration 18) can answer it. The rows step then reads the wide rows of
// those keys alone, by primary key, with FINAL as every read of events.
// (Reading every column of every matching row with FINAL, then sorting, cost
// about 1 s at a million events; docs/performance.md.)
export interface PageKey {
  tenant: string;
  human_sub: string;
  time: string;
  id: string;
}
export const PAGE_KEY = 'tenant, human_sub, time, id';

// The keys step's SQL: `keys_limit` keys (at least limit + 1; one more than
// the page tells whether another page exists).
export function buildEventSearch(table: string, search: EventSearch, scope: TenantScope): { query: string; params: Record<string, unknown>; limit: number } {
  const params: Record<string, unknown> = {};
  const where = searchConditions(search, scope, params);
  if (search.cursor !== undefined) {
    const cursor: Cursor = decodeCursor(search.cursor);
    where.push(`(time, id) < ({cursor_time:DateTime64(3, 'UTC')}, {cursor_id:String})`);
    params.cursor_time = cursor.time;
    params.cursor_id = cursor.id;
  }
  params.keys_limit = search.limit + 1;
  const query = `SELECT ${PAGE_KEY} FROM ${table}
    WHERE ${where.join(' AND ')}
    ORDER BY time DESC, id DESC
    LIMIT {keys_limit:UInt32}`;
  return { query, params, limit: search.limit };
}

// The rows step's SQL: the rows of these distinct keys, newest first. The
// key columns' conditions let the primary key, the time range and the id
// index narrow the read to the granules that hold them.
export function buildRowsByKeys(table: string, keys: readonly PageKey[], scope: TenantScope, columns = LIST_COLUMNS): { query: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {
    key_tenants: [...new Set(keys.map((k) => k.tenant))],
    key_humans: [...new Set(keys.map((k) => k.human_sub))],
    key_ids: keys.map((k) => k.id),
    key_from: keys.reduce((min, k) => (k.time < min ? k.time : min), keys[0]!.time),
    key_to: keys.reduce((max, k) => (k.time > max ? k.time : max), keys[0]!.time),
  };
  const query = `SELECT ${columns} FROM ${table} FINAL
    WHERE ${tenantCondition(scope, 'tenant', params)} AND tenant IN {key_tenants:Array(String)} AND human_sub IN {key_humans:Array(String)}
      AND time >= {key_from:DateTime64(3, 'UTC')} AND time <= {key_to:DateTime64(3, 'UTC')} AND id IN {key_ids:Array(String)}
    ORDER BY time DESC, id DESC
    LIMIT {key_count:UInt32}`;
  // The LIMIT (never below the rows asked) lets the engine read the wide
  // columns of the rows it returns only, not of every row of the granules it
  // reads (lazy materialisation).
  params.key_count = keys.length;
  return { query, params };
}

// The newest distinct keys of a search, at most limit + 1. Copies of one
// event (a redelivery racing its first insert, until the engine merges
// them) share the whole key, so they are counted once; should copies leave
// fewer than limit + 1 distinct keys in a full answer, ask for more.
export async function pageKeys(storage: Storage, table: string, search: EventSearch, scope: TenantScope): Promise<PageKey[]> {
  const { query, params, limit } = buildEventSearch(table, search, scope);
  for (;;) {
    const asked = params.keys_limit as number;
    const rows = await select<PageKey>(storage, query, params);
    const distinct = [...new Map(rows.map((r) => [`${r.time}\u0000${r.id}`, r])).values()];
    if (distinct.length > limit || rows.length < asked) return distinct.slice(0, limit + 1);
    params.keys_limit = asked * 4;
  }
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
  const keys = await pageKeys(storage, table, search, scope);
  if (keys.length === 0) return { page: [], next: null };
  const { query, params } = buildRowsByKeys(table, keys, scope, withStoredEvent ? `* REPLACE (${STORED_JWS} AS raw_jws)` : LIST_COLUMNS);
  const rows = await select<SearchRow>(storage, query, params);
  const page = rows.slice(0, search.limit);
  const last = page[page.length - 1];
  return { page, next: keys.length > search.limit && last ? encodeCursor({ time: last.time, id: last.id }) : null };
}

// Every row of a search, newest first, at most maxRows, for exports and
// report files, in flat memory (store/time-slices.ts).
export function streamSearch(
  storage: Storage,
  table: string,
  search: Omit<EventSearch, 'limit' | 'cursor'>,
  scope: TenantScope,
  maxRows: number,
  { withStoredEvent = false, bounds }: SearchOptions & { bounds?: StreamBounds } = {},
): AsyncGenerator<SearchRow[]> {
  const params: Record<string, unknown> = {};
  const where = searchConditions(search, scope, params);
  const columns = withStoredEvent ? `* REPLACE (${STORED_JWS} AS raw_jws)` : LIST_COLUMNS;
  return streamInTimeOrder<SearchRow>(storage, { table, columns, where, params, order: 'DESC', maxRows, bounds });
}

export interface Histogram {
  from: string;
  to: string;
  step_ms: number;
  buckets: { start: string; events: number; denied: number; flagged: number }[];
}

// The histogram's SQL: the search's events counted per bucket of step_ms
// over [from, to) (default window: the last 24 hours).
export function buildHistogram(
  table: string,
  search: Filters,
  scope: TenantScope,
  buckets: number,
  now = Date.now(),
): { query: string; params: Record<string, unknown>; from: number; to: number; step: number } {
  const window = searchWindow(search, now);
  const to = window.to ?? now;
  const from = window.from ?? to - 86_400_000;
  if (!(from < to)) throw new ActorlogError('BAD_REQUEST', 'the window is empty: from must be before to');
  const step = Math.max(1, Math.ceil((to - from) / buckets));
  const params: Record<string, unknown> = { from_ms: from, step_ms: step };
  const where = searchConditions({ ...search, since: undefined, from: new Date(from).toISOString(), to: new Date(to).toISOString() }, scope, params, now);
  const query = `SELECT intDiv(toUnixTimestamp64Milli(time) - {from_ms:Int64}, {step_ms:Int64}) AS bucket, count() AS events,
            countIf(outcome = 'deny') AS denied, countIf(notEmpty(flags)) AS flagged
     FROM ${table} FINAL WHERE ${where.join(' AND ')} GROUP BY bucket ORDER BY bucket`;
  return { query, params, from, to, step };
}

// The search's events counted over its window in equal buckets, empty
// buckets included.
export async function searchHistogram(storage: Storage, table: string, search: Filters, scope: TenantScope, buckets: number, now = Date.now()): Promise<Histogram> {
  const { query, params, from, to, step } = buildHistogram(table, search, scope, buckets, now);
  const rows = await select<{ bucket: string; events: string; denied: string; flagged: string }>(storage, query, params);
  const counted = new Map(rows.map((r) => [Number(r.bucket), r]));
  const count = Math.ceil((to - from) / step);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    step_ms: step,
    buckets: Array.from({ length: count }, (_, i) => {
      const r = counted.get(i);
      return { start: new Date(from + i * step).toISOString(), events: Number(r?.events ?? 0), denied: Number(r?.denied ?? 0), flagged: Number(r?.flagged ?? 0) };
    }),
  };
}

// Events of a search stored after a point (ingest order: ingested_at, id),
// oldest first: what a live tail sends next.
export async function storedAfter(
  storage: Storage,
  table: string,
  search: Filters,
  scope: TenantScope,
  after: { time: string; id: string },
  limit: number,
): Promise<SearchRow[]> {
  const params: Record<string, unknown> = { after_time: after.time, after_id: after.id, limit };
  const where = searchConditions({ ...search, since: undefined, from: undefined, to: undefined }, scope, params);
  where.push(`(ingested_at, id) > ({after_time:DateTime64(3, 'UTC')}, {after_id:String})`);
  return select<SearchRow>(storage, `SELECT ${LIST_COLUMNS} FROM ${table} FINAL WHERE ${where.join(' AND ')} ORDER BY ingested_at, id LIMIT {limit:UInt32}`, params);
}
