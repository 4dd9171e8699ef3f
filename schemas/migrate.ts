// Applies the migrations that storage has not recorded yet, in order.
import type { Storage, Tables } from '../lib/storage.js';
import { MIGRATIONS } from './migrations.js';

export async function migrate(storage: Storage, tables: Tables): Promise<number[]> {
  await storage.command({ query: `CREATE DATABASE IF NOT EXISTS ${tables.database}` });
  await storage.command({
    query: `CREATE TABLE IF NOT EXISTS ${tables.migrations} (
      version UInt32, name String, applied_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const result = await storage.query({ query: `SELECT version FROM ${tables.migrations} FINAL`, format: 'JSONEachRow' });
  const applied = new Set((await result.json<{ version: number }>()).map((r) => Number(r.version)));

  const done: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements(tables.database)) {
      await storage.command({ query: statement });
    }
    await storage.insert({
      table: tables.migrations,
      values: [{ version: migration.version, name: migration.name, applied_at: Date.now() }],
      format: 'JSONEachRow',
    });
    done.push(migration.version);
  }
  return done;
}
