// Applies the migrations that storage has not recorded yet, in order.
import { execute, insertRows, select, type Storage, type Tables } from './client.js';
import { MIGRATIONS } from './migrations.js';

export async function migrate(storage: Storage, tables: Tables): Promise<number[]> {
  await execute(storage, `CREATE DATABASE IF NOT EXISTS ${tables.database}`);
  await execute(
    storage,
    `CREATE TABLE IF NOT EXISTS ${tables.migrations} (
      version UInt32, name String, applied_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree ORDER BY version`,
  );
  const rows = await select<{ version: number }>(storage, `SELECT version FROM ${tables.migrations} FINAL`);
  const applied = new Set(rows.map((r) => Number(r.version)));

  const done: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements(tables.database)) {
      await execute(storage, statement);
    }
    await insertRows(storage, tables.migrations, [{ version: migration.version, name: migration.name, applied_at: Date.now() }]);
    done.push(migration.version);
  }
  return done;
}
