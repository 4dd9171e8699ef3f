// One storage path for both transports: always @clickhouse/client, talking HTTP
// to a server when CLICKHOUSE_URL is set, or driving the embedded engine (chdb)
// in-process under DATA_DIR otherwise. Only the connection differs.
import fs from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Config } from '../lib/config.js';

export type Storage = ClickHouseClient;
type EmbeddedConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export async function createStorage(cfg: Config['clickhouse']): Promise<Storage> {
  if (cfg.url) {
    return createClient({
      url: cfg.url,
      username: cfg.username,
      password: cfg.password,
      // Counts come back as JSON numbers, as the embedded engine gives them.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
  }
  // Loaded only in embedded mode, so a deployment against a ClickHouse server
  // can install without the engine's native library.
  const { createChdbConnection } = await import('chdb/connection');
  fs.mkdirSync(cfg.embeddedPath, { recursive: true });
  // chdb types its connection against @clickhouse/client-common, which the
  // client now bundles as its own copy; the shapes are the same at run time.
  const connection = createChdbConnection({ path: cfg.embeddedPath }) as unknown as EmbeddedConnection;
  return createClient({ connection });
}

// Rows of one parameterised query; every read in actorlog goes through here.
export async function select<T>(storage: Storage, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await storage.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
}

// Rows into one table; every write of rows in actorlog goes through here.
export async function insertRows(storage: Storage, table: string, values: readonly object[]): Promise<void> {
  if (values.length === 0) return;
  await storage.insert({ table, values: values as Record<string, unknown>[], format: 'JSONEachRow' });
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
  migrations: string;
  emitterState: string;
  sequenceGaps: string;
  revocations: string;
  tokenUses: string;
  accessLog: string;
  reportDefinitions: string;
  reportRuns: string;
  reportClaims: string;
}

export function tablesOf(database: string): Tables {
  return {
    database,
    events: `${database}.events`,
    quarantine: `${database}.quarantine`,
    migrations: `${database}.schema_migrations`,
    emitterState: `${database}.emitter_state`,
    sequenceGaps: `${database}.sequence_gaps`,
    revocations: `${database}.revocations`,
    tokenUses: `${database}.token_uses`,
    accessLog: `${database}.access_log`,
    reportDefinitions: `${database}.report_definitions`,
    reportRuns: `${database}.report_runs`,
    reportClaims: `${database}.report_claims`,
  };
}
