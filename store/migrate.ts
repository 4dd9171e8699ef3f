// Applies the migrations that storage has not recorded yet, in order. With a
// cluster name (CLICKHOUSE_CLUSTER) every statement is applied in its cluster
// form (store/cluster-ddl.ts): replicated local tables behind Distributed ones.
import { execute, insertRows, select, type Storage, type Tables } from './client.js';
import { clusterDatabase, clusterStatements } from './cluster-ddl.js';
import { MIGRATIONS } from './migrations.js';

const migrationsTable = (tables: Tables) => `CREATE TABLE IF NOT EXISTS ${tables.migrations} (
      version UInt32, name String, applied_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree ORDER BY version`;

function forTarget(statement: string, database: string, cluster?: string): string[] {
  return cluster ? clusterStatements(statement, { database, cluster }) : [statement];
}

// Every statement of the schema, in order (`actorlog schema` prints them).
export function schemaStatements(tables: Tables, cluster?: string): string[] {
  const db = tables.database;
  return [
    cluster ? clusterDatabase({ database: db, cluster }) : `CREATE DATABASE IF NOT EXISTS ${db}`,
    ...forTarget(migrationsTable(tables), db, cluster),
    ...MIGRATIONS.flatMap((m) => m.statements(db).flatMap((s) => forTarget(s, db, cluster))),
  ];
}

export async function migrate(storage: Storage, tables: Tables, cluster?: string): Promise<number[]> {
  const db = tables.database;
  await execute(storage, cluster ? clusterDatabase({ database: db, cluster }) : `CREATE DATABASE IF NOT EXISTS ${db}`);
  for (const statement of forTarget(migrationsTable(tables), db, cluster)) await execute(storage, statement);
  const rows = await select<{ version: number }>(storage, `SELECT version FROM ${tables.migrations} FINAL`);
  const applied = new Set(rows.map((r) => Number(r.version)));

  const done: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements(db).flatMap((s) => forTarget(s, db, cluster))) {
      await execute(storage, statement);
    }
    await insertRows(storage, tables.migrations, [{ version: migration.version, name: migration.name, applied_at: Date.now() }]);
    done.push(migration.version);
  }
  return done;
}
