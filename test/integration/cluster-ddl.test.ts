// The cluster schema (CLICKHOUSE_CLUSTER): every statement generated from the
// migrations is read by the real ClickHouse parser in the embedded engine
// (formatQuery parses and prints it back, EXPLAIN AST shows the engine it
// names), and has the cluster shape: ON CLUSTER everywhere, a Replicated
// engine under each local table, a Distributed table for each name store/ uses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStorage, tablesOf, type Storage } from '../../store/client.js';
import { schemaStatements } from '../../store/migrate.js';
import { clusterStatements } from '../../store/cluster-ddl.js';
import { MIGRATIONS } from '../../store/migrations.js';
import { tempDir } from '../helpers/fixtures.js';
import path from 'node:path';

const tables = tablesOf('actorlog');
const CLUSTER = 'actorlog_cluster';

describe('the cluster schema', () => {
  let storage: Storage;
  const rows = async <T>(query: string, params: Record<string, unknown> = {}) => (await storage.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
  const parsed = async (statement: string) => (await rows<{ q: string }>('SELECT formatQuerySingleLine({statement:String}) AS q', { statement }))[0]!.q.trim();

  before(async () => {
    storage = await createStorage({ username: 'default', password: '', database: 'actorlog', embeddedPath: path.join(tempDir('actorlog-ddl-'), 'clickhouse') });
  });
  after(async () => {
    await storage.close();
  });

  test('every statement parses, and the parser reads the cluster shape back', async () => {
    const statements = schemaStatements(tables, CLUSTER);
    const single = schemaStatements(tables);
    assert.ok(statements.length > single.length, 'local and Distributed tables');
    const distributed = new Set<string>();
    const replicated = new Set<string>();
    for (const statement of statements) {
      const formatted = await parsed(statement);
      assert.match(formatted, new RegExp(`ON CLUSTER ${CLUSTER}\\b`), `no ON CLUSTER in: ${formatted.slice(0, 120)}`);
      const create = /^CREATE TABLE IF NOT EXISTS actorlog\.(\w+)/.exec(formatted);
      if (!create) continue;
      const name = create[1]!;
      if (name.endsWith('_local')) {
        assert.match(formatted, /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/actorlog\/\w+', '\{replica\}'/, formatted);
        replicated.add(name.slice(0, -'_local'.length));
      } else {
        assert.match(formatted, new RegExp(`AS actorlog\\.${name}_local ENGINE = Distributed\\(${CLUSTER}, actorlog, ${name}_local, cityHash64\\(`), formatted);
        distributed.add(name);
      }
    }
    // Every table the single-server schema has exists on the cluster both ways.
    const names = single.flatMap((s) => /CREATE TABLE IF NOT EXISTS actorlog\.(\w+)/.exec(s)?.[1] ?? []);
    assert.deepEqual([...replicated].sort(), [...names].sort());
    assert.deepEqual([...distributed].sort(), [...names].sort());
  });

  test('engines keep their variant and version column; sharding follows the sorting key', async () => {
    const db = tables.database;
    const ast = async (statement: string) => (await storage.query({ query: `EXPLAIN AST ${statement}`, format: 'TabSeparatedRaw' })).text();
    const emitterState = MIGRATIONS.find((m) => m.version === 3)!.statements(db)[0]!;
    const [local, dist] = clusterStatements(emitterState, { database: db, cluster: CLUSTER });
    assert.match(await parsed(local!), /ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/actorlog\/emitter_state', '\{replica\}', updated_at\)/);
    assert.match(await ast(local!), /Function ReplicatedReplacingMergeTree \(children 1\)/);
    assert.match(await parsed(dist!), /Distributed\(actorlog_cluster, actorlog, emitter_state_local, cityHash64\(source\)\)/);
    const events = MIGRATIONS.find((m) => m.version === 1)!.statements(db)[0]!;
    const [, eventsDist] = clusterStatements(events, { database: db, cluster: CLUSTER });
    assert.match(await parsed(eventsDist!), /cityHash64\(\(tenant, human_sub, time, id\)\)/);
    const accessLog = MIGRATIONS.find((m) => m.version === 4)!.statements(db)[0]!;
    assert.match(await parsed(clusterStatements(accessLog, { database: db, cluster: CLUSTER })[0]!), /ENGINE = ReplicatedMergeTree\(/);
  });

  test('column changes reach the local and the Distributed tables; other statements have no cluster form', async () => {
    const db = tables.database;
    const add = `ALTER TABLE ${db}.access_log ADD COLUMN IF NOT EXISTS phase LowCardinality(String) DEFAULT 'answered' AFTER caller_request_id`;
    const [local, dist] = clusterStatements(add, { database: db, cluster: CLUSTER });
    assert.match(await parsed(local!), /^ALTER TABLE actorlog\.access_log_local ON CLUSTER actorlog_cluster \(ADD COLUMN IF NOT EXISTS `phase` .* AFTER caller_request_id\)$/);
    assert.match(await parsed(dist!), /^ALTER TABLE actorlog\.access_log ON CLUSTER actorlog_cluster \(ADD COLUMN IF NOT EXISTS `phase` LowCardinality\(String\) DEFAULT 'answered'\)$/);
    assert.equal(clusterStatements(`ALTER TABLE ${db}.events ADD INDEX IF NOT EXISTS i x TYPE bloom_filter`, { database: db, cluster: CLUSTER }).length, 1);
    assert.throws(() => clusterStatements(`CREATE MATERIALIZED VIEW ${db}.v AS SELECT 1`, { database: db, cluster: CLUSTER }), /no cluster form/);
    assert.throws(() => clusterStatements(add, { database: db, cluster: 'bad name' }), /not a plain identifier/);
  });
});
