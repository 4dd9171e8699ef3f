// One storage path for both transports: always @clickhouse/client, talking HTTP
// to a server when CLICKHOUSE_URL is set, or driving the embedded engine (chdb)
// in-process under DATA_DIR otherwise. Only the connection differs.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Config } from '../lib/config.js';
import { sessionQueue } from './embedded-session.js';
import { ActorlogError } from '../lib/errors.js';

export type Storage = ClickHouseClient;
type EmbeddedConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

// The same storage, whose reads (select) the engine stops after timeoutMs
// (max_execution_time): for the query API, where a caller's query must not
// run unbounded. Streams have bounds of their own (StreamBounds); writes are
// not bounded, nor are the processor's reads, which share the connection.
export function withReadTimeout(storage: Storage, timeoutMs: number): Storage {
  const bounded = Object.create(storage) as Storage;
  readTimeouts.set(bounded, timeoutMs);
  return bounded;
}
const readTimeouts = new WeakMap<Storage, number>();

export async function createStorage(cfg: Config['clickhouse']): Promise<Storage> {
  if (cfg.url) {
    return createClient({
      url: cfg.url,
      username: cfg.username,
      password: cfg.password,
      // Counts come back as JSON numbers, as the embedded engine gives them.
      // On a cluster, an insert returns once the shards have the rows, so a
      // batch is stored (and readable) before its offsets are committed.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0, ...(cfg.cluster ? { insert_distributed_sync: 1 } : {}) },
    });
  }
  // Loaded only in embedded mode, so a deployment against a ClickHouse server
  // can install without the engine's native library.
  const { createChdbConnection } = await import('chdb/connection');
  // The engine's files hold every event: its folder is the owner's alone, as
  // is each file the engine creates under the process umask (cli/main.ts).
  fs.mkdirSync(cfg.embeddedPath, { recursive: true, mode: 0o700 });
  fs.chmodSync(cfg.embeddedPath, 0o700);
  // chdb types its connection against @clickhouse/client-common, which the
  // client now bundles as its own copy; the shapes are the same at run time.
  const chdbConnection = createChdbConnection({ path: cfg.embeddedPath });
  const queued = sessionQueue(() => chdbConnection.ping({ select: true }));
  for (const method of ['query', 'exec', 'command', 'insert'] as const) {
    (chdbConnection as unknown as Record<string, unknown>)[method] = queued(chdbConnection[method].bind(chdbConnection) as never);
  }
  const raw = chdbConnection.chdb;
  raw.rawInsert = queued(raw.rawInsert.bind(raw));
  const client = createClient({ connection: chdbConnection as unknown as EmbeddedConnection });
  embedded.set(client, { raw, path: cfg.embeddedPath });
  // Closing waits for engine work still running: a stream cut at its bound
  // leaves its last fetch to finish, and tearing the engine down under it
  // crashes the process.
  const { drainPending } = await import('chdb');
  const close = client.close.bind(client);
  client.close = async () => {
    await drainPending();
    await close();
  };
  return client;
}

// The embedded engine's own insert: the bytes go to the engine as they are
// (the client's insert turns them into one SQL string first).
type TextFormat = 'TabSeparated' | 'CSV' | 'JSONCompactEachRow';
interface RawInsert {
  rawInsert(params: { table: string; values: Buffer; format: TextFormat; columns: readonly string[]; settings?: Record<string, string | number> }): Promise<unknown>;
}
// The embedded engine's own paths: its raw insert, and its folder (a read
// streamed in chunks opens its own connection there, see streamSelect).
const embedded = new WeakMap<Storage, { raw: RawInsert; path: string }>();

// ClickHouse errors that mean the statement itself is wrong: retrying the
// same statement cannot help. Every other failure of storage (down, a table
// detached, too many parts, out of memory, a timeout) is passing.
const STATEMENT_ERRORS = new Set([
  'SYNTAX_ERROR',
  'UNKNOWN_IDENTIFIER',
  'UNKNOWN_FUNCTION',
  'NO_SUCH_COLUMN_IN_TABLE',
  'THERE_IS_NO_COLUMN',
  'TYPE_MISMATCH',
  'ILLEGAL_TYPE_OF_ARGUMENT',
  'ILLEGAL_COLUMN',
  'NUMBER_OF_ARGUMENTS_DOESNT_MATCH',
  'BAD_ARGUMENTS',
  'UNKNOWN_QUERY_PARAMETER',
  'BAD_QUERY_PARAMETER',
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_CONVERT_TYPE',
  'INCORRECT_DATA',
  'INCORRECT_QUERY',
  'ARGUMENT_OUT_OF_BOUND',
]);

// A failure of storage as a catalogue error: STORAGE_REJECTED for a wrong
// statement, STORAGE_UNAVAILABLE (retriable) otherwise. A JavaScript error
// raised before storage was reached (a bug in actorlog) passes through as is.
export function storageError(err: unknown): unknown {
  if (err instanceof ActorlogError) return err;
  // ClickHouse's own error (by shape: the embedded connection raises it from
  // its own copy of the client's classes, so instanceof cannot tell).
  const type = (err as { type?: unknown })?.type;
  // The engine stopped a read at max_execution_time (withReadTimeout).
  if (type === 'TIMEOUT_EXCEEDED' || /\(TIMEOUT_EXCEEDED\)/.test((err as Error)?.message ?? '')) return new ActorlogError('QUERY_TIMEOUT', undefined, { cause: err });
  if (typeof type === 'string' && typeof (err as { code?: unknown }).code === 'string') {
    return new ActorlogError(STATEMENT_ERRORS.has(type) ? 'STORAGE_REJECTED' : 'STORAGE_UNAVAILABLE', `${type}: ${(err as Error).message}`, { cause: err });
  }
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return err;
  return new ActorlogError('STORAGE_UNAVAILABLE', (err as Error)?.message ?? String(err), { cause: err });
}

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw storageError(err);
  }
}

// Rows of one parameterised query; every read in actorlog goes through here.
export function select<T>(storage: Storage, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const timeoutMs = readTimeouts.get(storage);
  const settings: ClickHouseSettings | undefined = timeoutMs ? { max_execution_time: timeoutMs / 1000, timeout_overflow_mode: 'throw' } : undefined;
  return guarded(async () => (await storage.query({ query, query_params: params, format: 'JSONEachRow', ...(settings ? { clickhouse_settings: settings } : {}) })).json<T>());
}

// What the engine itself reports for one query (its own elapsed time and the
// rows and bytes it read), the answer itself discarded: the ceiling the
// search benchmark sets the query API's times against.
export interface QueryStatistics {
  elapsedMs: number;
  rowsRead: number;
  bytesRead: number;
}
export function queryStatistics(storage: Storage, query: string, params: Record<string, unknown> = {}): Promise<QueryStatistics> {
  return guarded(async () => {
    const { statistics } = await (await storage.query({ query, query_params: params, format: 'JSON' })).json<unknown>();
    if (!statistics) throw new Error('the engine returned no statistics');
    return { elapsedMs: statistics.elapsed * 1000, rowsRead: Number(statistics.rows_read), bytesRead: Number(statistics.bytes_read) };
  });
}

const STREAM_BLOCK_ROWS = 2_048;

// Bounds on one streamed read (an export, a report run), which may run far
// longer than QUERY_TIMEOUT_MS: an overall deadline, shared by every query of
// the read, and the longest wait for storage's next chunk.
export interface StreamBounds {
  // Epoch milliseconds.
  deadline: number;
  idleMs: number;
}

export function streamBounds(limits: { timeoutMs: number; idleTimeoutMs: number }, now = Date.now()): StreamBounds {
  return { deadline: now + limits.timeoutMs, idleMs: limits.idleTimeoutMs };
}

// Which bound a STREAM_TIMEOUT error names.
export function streamBoundOf(err: unknown): 'total' | 'idle' | undefined {
  return err instanceof ActorlogError && err.code === 'STREAM_TIMEOUT' ? (/STREAM_IDLE_TIMEOUT_MS/.test(err.message) ? 'idle' : 'total') : undefined;
}

const pastDeadline = (cause?: unknown) => new ActorlogError('STREAM_TIMEOUT', 'it ran longer than STREAM_TIMEOUT_MS', { cause });

// The next chunk of a stream, or STREAM_TIMEOUT (after cancel()) when it does
// not come within the idle bound or before the deadline.
async function nextWithin<R>(next: Promise<R>, bounds: StreamBounds | undefined, cancel: () => void): Promise<R> {
  if (!bounds) return next;
  const left = bounds.deadline - Date.now();
  const idle = bounds.idleMs < left;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), Math.max(0, Math.min(bounds.idleMs, left)))));
  try {
    const first = await Promise.race([next, expired]);
    if (first !== 'expired') return first as R;
  } finally {
    clearTimeout(timer);
  }
  // The abandoned fetch settles later, once storage stops.
  next.catch(() => undefined);
  cancel();
  throw idle ? new ActorlogError('STREAM_TIMEOUT', 'storage sent nothing for STREAM_IDLE_TIMEOUT_MS') : pastDeadline();
}

// Rows of one parameterised query in chunks as storage produces them, for
// reads too large to hold at once (report files, exports): memory stays that
// of one chunk whatever the row count. The client's query buffers the whole
// answer in embedded mode, so there each stream runs on its own connection
// to the engine (one streaming cursor per connection), closed when the
// caller finishes or stops early.
export async function* streamSelect<T>(storage: Storage, sql: string, params: Record<string, unknown> = {}, bounds?: StreamBounds): AsyncGenerator<T[]> {
  // Small blocks: a chunk is a few MB of rows, not the engine's default 65,536 rows.
  const settings = [`max_block_size = ${STREAM_BLOCK_ROWS}`];
  if (bounds) {
    if (Date.now() >= bounds.deadline) throw pastDeadline();
    // The engine itself stops the query at the deadline, whatever it is doing.
    settings.push(`max_execution_time = ${Math.max(1, Math.ceil((bounds.deadline - Date.now()) / 1000))}`, `timeout_overflow_mode = 'throw'`);
  }
  const query = `${sql} SETTINGS ${settings.join(', ')}`;
  // The engine stopping at max_execution_time is the overall bound here, not QUERY_TIMEOUT_MS.
  const failure = (err: unknown) => {
    const error = storageError(err);
    return bounds && error instanceof ActorlogError && error.code === 'QUERY_TIMEOUT' ? pastDeadline(err) : error;
  };
  // A storage with a read timeout (withReadTimeout) is the engine's client underneath.
  const engine = embedded.get(storage) ?? embedded.get(Object.getPrototypeOf(storage) as Storage);
  if (engine) {
    const { Session } = await import('chdb');
    const session = new Session(engine.path);
    try {
      const stream = session.queryStreamBind(query, params, { format: 'JSONEachRow' });
      const chunks = stream[Symbol.asyncIterator]();
      for (;;) {
        // Cancelled as soon as the fetch in flight returns (the engine has no
        // interrupt), which max_execution_time bounds.
        const next = await nextWithin(chunks.next(), bounds, () => stream.cancel());
        if (next.done) return;
        yield next.value.rows<T>();
      }
    } catch (err) {
      throw failure(err);
    } finally {
      session.close();
    }
  }
  const abort = new AbortController();
  const result = await guarded(() => storage.query({ query, query_params: params, format: 'JSONEachRow', abort_signal: abort.signal }));
  try {
    const chunks = (result.stream() as AsyncIterable<{ json<U>(): U }[]>)[Symbol.asyncIterator]();
    for (;;) {
      const next = await nextWithin(chunks.next(), bounds, () => abort.abort());
      if (next.done) return;
      yield next.value.map((row) => row.json<T>());
    }
  } catch (err) {
    throw failure(err);
  } finally {
    result.close();
  }
}

// Rows into one table; every write of rows in actorlog goes through here.
export async function insertRows(storage: Storage, table: string, values: readonly object[], settings?: ClickHouseSettings): Promise<void> {
  if (values.length === 0) return;
  await guarded(() => storage.insert({ table, values: values as Record<string, unknown>[], format: 'JSONEachRow', ...(settings ? { clickhouse_settings: settings } : {}) }));
}

// Rows already encoded as TabSeparated, one a line, in the order of `columns`.
// The fastest text format both transports take (see store/tsv.ts).
export function insertTabSeparated(storage: Storage, table: string, columns: readonly string[], body: Buffer): Promise<void> {
  return insertRawText(storage, table, columns, body, 'TabSeparated');
}

// Rows already encoded in a text format both transports take.
export async function insertRawText(
  storage: Storage,
  table: string,
  columns: readonly string[],
  body: Buffer,
  format: TextFormat,
  settings?: Record<string, string | number>,
): Promise<void> {
  if (body.length === 0) return;
  const raw = (embedded.get(storage) ?? embedded.get(Object.getPrototypeOf(storage) as Storage))?.raw;
  await guarded(() =>
    raw
      ? raw.rawInsert({ table, values: body, format, columns, ...(settings ? { settings } : {}) })
      : storage.insert({ table, values: Readable.from([body]), format, columns: columns as [string, ...string[]], ...(settings ? { clickhouse_settings: settings } : {}) }),
  );
}

// A statement that returns no rows (DDL, INSERT ... SELECT).
export async function execute(storage: Storage, query: string, params: Record<string, unknown> = {}): Promise<void> {
  await guarded(() => storage.command({ query, query_params: params }));
}

// Answers once storage answers a query: readiness of the services.
export async function ping(storage: Storage): Promise<void> {
  await select(storage, 'SELECT 1');
}

// The embedded connection ignores a client-level default database, so every
// statement names its tables in full. The database name is a validated
// identifier from configuration, never user input.
export interface Tables {
  database: string;
  events: string;
  quarantine: string;
  quarantineDropped: string;
  migrations: string;
  emitterState: string;
  sequenceGaps: string;
  emitterChains: string;
  chainBreaks: string;
  revocations: string;
  tokenUses: string;
  accessLog: string;
  reportDefinitions: string;
  reportRuns: string;
  reportClaims: string;
  webhookDeliveries: string;
}

export function tablesOf(database: string): Tables {
  return {
    database,
    events: `${database}.events`,
    quarantine: `${database}.quarantine`,
    quarantineDropped: `${database}.quarantine_dropped`,
    migrations: `${database}.schema_migrations`,
    emitterState: `${database}.emitter_state`,
    sequenceGaps: `${database}.sequence_gaps`,
    emitterChains: `${database}.emitter_chains`,
    chainBreaks: `${database}.chain_breaks`,
    revocations: `${database}.revocations`,
    tokenUses: `${database}.token_uses`,
    accessLog: `${database}.access_log`,
    reportDefinitions: `${database}.report_definitions`,
    reportRuns: `${database}.report_runs`,
    reportClaims: `${database}.report_claims`,
    webhookDeliveries: `${database}.webhook_deliveries`,
  };
}
