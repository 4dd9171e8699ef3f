// The schema for a ClickHouse cluster (CLICKHOUSE_CLUSTER, docs/scale-out.md),
// derived from the same migrations as the single-server schema, statement by
// statement, so the two cannot drift:
// - each table becomes `<name>_local` ON CLUSTER with the Replicated variant of
//   its engine (ReplacingMergeTree -> ReplicatedReplacingMergeTree, keeping its
//   version column), replicated through Keeper under
//   /clickhouse/tables/{shard}/<database>/<name>, one replica per {replica};
// - `<name>` itself becomes a Distributed table over the local ones, so every
//   read and write in store/ keeps its table name. Rows are spread by a hash of
//   the table's sorting key: copies of one row (a redelivered event, a state
//   row written again) land on one shard, where ReplacingMergeTree collapses
//   them and FINAL hides them, as on one server;
// - ALTERs apply ON CLUSTER to the local tables, and column changes to the
//   Distributed tables too.
// A statement of another kind has no cluster form yet: it throws, and the
// unit test over every migration fails until it gets one.

export interface ClusterOptions {
  database: string;
  cluster: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

// The statement that creates the database on every node.
export function clusterDatabase(opts: ClusterOptions): string {
  return `CREATE DATABASE IF NOT EXISTS ${opts.database} ON CLUSTER ${opts.cluster}`;
}

// The sorting key of a CREATE TABLE: the expression after its last ORDER BY,
// a parenthesised tuple or one column.
function sortingKey(statement: string): string {
  const at = statement.lastIndexOf('ORDER BY');
  if (at < 0) throw new Error(`no ORDER BY to shard by in: ${statement.slice(0, 80)}`);
  const rest = statement.slice(at + 'ORDER BY'.length).trim();
  if (!rest.startsWith('(')) return rest.split(/\s/)[0]!;
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '(') depth++;
    else if (rest[i] === ')' && --depth === 0) return rest.slice(0, i + 1);
  }
  throw new Error(`unbalanced ORDER BY in: ${statement.slice(0, 80)}`);
}

const CREATE = /^\s*CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \(/;
const ENGINE = /ENGINE = (\w*MergeTree)(?:\(([^)]*)\))?/;
const ALTER = /^\s*ALTER TABLE (\w+)\.(\w+) ([\s\S]*)$/;

// The cluster form of one single-server statement.
export function clusterStatements(statement: string, opts: ClusterOptions): string[] {
  const { database: db, cluster } = opts;
  if (!IDENT.test(cluster)) throw new Error(`cluster name ${JSON.stringify(cluster)} is not a plain identifier`);
  const create = CREATE.exec(statement);
  if (create) {
    const [, database, table] = create as unknown as [string, string, string];
    if (database !== db) throw new Error(`statement for database ${database}, expected ${db}`);
    const engine = ENGINE.exec(statement);
    if (!engine) throw new Error(`no MergeTree engine to replicate in: ${statement.slice(0, 80)}`);
    const [whole, family, args] = engine as unknown as [string, string, string | undefined];
    const replicated = [quote(`/clickhouse/tables/{shard}/${db}/${table}`), quote('{replica}'), ...(args?.trim() ? [args.trim()] : [])];
    const local = statement
      .replace(CREATE, `CREATE TABLE IF NOT EXISTS ${db}.${table}_local ON CLUSTER ${cluster} (`)
      .replace(whole, `ENGINE = Replicated${family}(${replicated.join(', ')})`);
    const distributed = `CREATE TABLE IF NOT EXISTS ${db}.${table} ON CLUSTER ${cluster} AS ${db}.${table}_local
      ENGINE = Distributed(${cluster}, ${db}, ${table}_local, cityHash64(${sortingKey(statement)}))`;
    return [local, distributed];
  }
  const alter = ALTER.exec(statement);
  if (alter) {
    const [, database, table, change] = alter as unknown as [string, string, string, string];
    if (database !== db) throw new Error(`statement for database ${database}, expected ${db}`);
    const local = `ALTER TABLE ${db}.${table}_local ON CLUSTER ${cluster} ${change}`;
    // A Distributed table has columns but no indexes, TTLs or projections.
    const columns = /^\s*(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN /i.test(change);
    return columns ? [local, `ALTER TABLE ${db}.${table} ON CLUSTER ${cluster} ${change.replace(/\s+AFTER \w+\s*$/i, '')}`] : [local];
  }
  throw new Error(`no cluster form for: ${statement.trim().slice(0, 80)}`);
}
