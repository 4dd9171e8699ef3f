// ClickHouse DDL as ordered migrations. Each statement is idempotent (IF NOT
// EXISTS), so two services starting at once, or a crash between a statement and
// its record in schema_migrations, is harmless: applying again changes nothing.
// Append new migrations; never edit one that has shipped. The events columns
// come from their specification (schemas/row.ts): a column added there names
// the migration that adds it (`since`), whose statement is `ADD COLUMN IF NOT
// EXISTS` built from eventColumnsDdl(version).
import { EVENT_COLUMNS } from '../schemas/row.js';

// The column definitions (name and type) that migration `version` introduces.
export function eventColumnsDdl(version: number): string[] {
  return Object.entries(EVENT_COLUMNS)
    .filter(([, c]) => c.since === version)
    .map(([name, c]) => `${name} ${c.sql}`);
}

// The events table's skip indexes: the lookups by agent, session, trace,
// server, tool, token jti and id that the sorting key does not serve.
const EVENT_INDEXES: [string, keyof typeof EVENT_COLUMNS][] = [
  ['idx_agent', 'agent_id'],
  ['idx_session', 'session_id'],
  ['idx_trace', 'trace_id'],
  ['idx_server', 'server_id'],
  ['idx_tool', 'tool_name'],
  ['idx_jti', 'token_jti'],
  ['idx_id', 'id'],
];

// The events table's projections: the same rows in another order, for the
// entry points the sorting key does not serve and a bloom filter cannot
// narrow (an agent acts all day long, so nearly every granule holds every
// agent). Narrow on purpose: a search finds its page's keys here, then reads
// those rows from the table (store/search.ts), so the copy is the key
// columns and the one it is ordered by. On a ReplacingMergeTree a projection
// needs to know what a merge that drops copies does to it: rebuild it.
export const EVENT_PROJECTIONS: [string, string][] = [
  ['by_agent', 'SELECT tenant, agent_id, human_sub, time, id ORDER BY tenant, agent_id, time, id'],
];
// Retention deletes rows with a lightweight DELETE, which the engine refuses
// on a table with projections unless told to rebuild them (migration 19).
const EVENT_PROJECTION_SETTINGS = ["deduplicate_merge_projection_mode = 'rebuild'", "lightweight_mutation_projection_mode = 'rebuild'"];

// The events table as the migrations leave it, under another name and with
// the variations the insert benchmark weighs (test/bench/store-levers.bench.ts).
export interface EventTableOptions {
  derivedEventJson?: boolean;
  eventCodec?: string;
  indexes?: 'all' | 'none' | 'coarse';
  projections?: boolean;
}
export function eventTableDdl(table: string, options: EventTableOptions = {}): string {
  const columns = Object.entries(EVENT_COLUMNS).map(([name, c]) => {
    if (name === 'event_json' && options.derivedEventJson) return `${name} String ALIAS base64URLDecode(splitByChar('.', raw_jws)[2])`;
    if ((name === 'event_json' || name === 'raw_jws') && options.eventCodec) return `${name} String CODEC(${options.eventCodec})`;
    return `${name} ${c.sql}`;
  });
  const granularity = options.indexes === 'coarse' ? 8 : 4;
  const indexes = options.indexes === 'none' ? [] : EVENT_INDEXES.map(([name, column]) => `INDEX ${name} ${column} TYPE bloom_filter GRANULARITY ${granularity}`);
  const projections = options.projections === false ? [] : EVENT_PROJECTIONS.map(([name, select]) => `PROJECTION ${name} (${select})`);
  return `CREATE TABLE ${table} (${[...columns, ...indexes, ...projections].join(', ')})
    ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(time) ORDER BY (tenant, human_sub, time, id)${projections.length ? ` SETTINGS ${EVENT_PROJECTION_SETTINGS.join(', ')}` : ''}`;
}

export interface Migration {
  version: number;
  name: string;
  statements: (db: string) => string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'events',
    statements: (db) => [
      // Analysts ask "what did this human's agents do, when" first, then by agent,
      // session, tool or token. So:
      // - ORDER BY (tenant, human_sub, time, id): every query is confined to one
      //   tenant, the human is the most frequent entry point, and a time range for
      //   one human reads a contiguous slice. `id` last makes the key unique.
      // - PARTITION BY month: time windows prune whole parts, and retention can
      //   drop a month at once.
      // - Bloom-filter skip indexes answer the other entry points (agent, session,
      //   trace, server, tool, token jti) without a full scan.
      // - ReplacingMergeTree: an event delivered twice (Kafka redelivery after a
      //   crash between insert and commit) has the same bytes, hence the same
      //   sorting key, and collapses to one row; queries read with FINAL so the
      //   duplicate is never visible even before a merge.
      // Absent optional fields are stored as '' (or NULL for times), so filters
      // stay simple equality on plain String columns.
      `CREATE TABLE IF NOT EXISTS ${db}.events (
        ${eventColumnsDdl(1).join(',\n        ')},
        ${EVENT_INDEXES.map(([name, column]) => `INDEX ${name} ${column} TYPE bloom_filter GRANULARITY 4`).join(',\n        ')}
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(time)
      ORDER BY (tenant, human_sub, time, id)`,
    ],
  },
  {
    version: 2,
    name: 'quarantine',
    statements: (db) => [
      // Everything refused, with the raw bytes (base64, so any byte survives the
      // JSON transport) and the reason. Claimed fields come from the unverified
      // payload where it could be read: hints for the analyst, never trusted.
      // quarantine_id is the Kafka coordinates when the record came from Kafka, so
      // a redelivered record collapses to one row; otherwise a fresh UUID.
      `CREATE TABLE IF NOT EXISTS ${db}.quarantine (
        quarantine_id String,
        received_at DateTime64(3, 'UTC'),
        stage LowCardinality(String),
        reason LowCardinality(String),
        detail String,
        claimed_source String,
        claimed_kid String,
        claimed_id String,
        claimed_tenant String,
        raw_base64 String CODEC(ZSTD(3)),
        raw_sha256 String,
        raw_bytes UInt64,
        kafka_topic String,
        kafka_partition Int32,
        kafka_offset Int64
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(received_at)
      ORDER BY (quarantine_id)`,
    ],
  },
  {
    version: 3,
    name: 'processor state',
    statements: (db) => [
      // What the processor remembers between batches and restarts. Each is a
      // ReplacingMergeTree keyed by what it tracks, with a version column, so
      // an update is an insert and re-writing the same state is harmless;
      // readers use FINAL. The processor writes these before the events of a
      // batch, so a crash in between replays into state that already holds them.
      `CREATE TABLE IF NOT EXISTS ${db}.emitter_state (
        source String,
        last_seq UInt64,
        last_seen DateTime64(3, 'UTC'),
        last_heartbeat Nullable(DateTime64(3, 'UTC')),
        silent_since Nullable(DateTime64(3, 'UTC')),
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY source`,
      // One row per gap as detected: [gap_from, gap_to] were missing when the
      // event detected_by_event arrived; late_arrivals lists the seqs that came
      // afterwards (reordering), missing counts what is still absent.
      `CREATE TABLE IF NOT EXISTS ${db}.sequence_gaps (
        source String,
        gap_from UInt64,
        gap_to UInt64,
        detected_at DateTime64(3, 'UTC'),
        detected_by_event String,
        missing UInt64,
        late_arrivals Array(UInt64),
        closed_at Nullable(DateTime64(3, 'UTC')),
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (source, gap_from)`,
      // Grants, consents and humans (offboarded) with the time they were revoked;
      // NULL once granted again.
      `CREATE TABLE IF NOT EXISTS ${db}.revocations (
        tenant String,
        kind LowCardinality(String),
        subject String,
        revoked_at Nullable(DateTime64(3, 'UTC')),
        by_event String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant, kind, subject)`,
      // Which servers each token id was presented to.
      `CREATE TABLE IF NOT EXISTS ${db}.token_uses (
        tenant String,
        jti String,
        server_id String,
        first_seen DateTime64(3, 'UTC'),
        event_id String
      ) ENGINE = ReplacingMergeTree ORDER BY (tenant, jti, server_id)`,
    ],
  },
  {
    version: 4,
    name: 'access log and reports',
    statements: (db) => [
      // Every query API call: who, what, with which parameters, how many rows.
      `CREATE TABLE IF NOT EXISTS ${db}.access_log (
        time DateTime64(3, 'UTC'),
        request_id String,
        sub String,
        via LowCardinality(String),
        roles Array(LowCardinality(String)),
        tenants Array(String),
        method LowCardinality(String),
        route String,
        params String,
        status UInt16,
        rows Int64,
        duration_ms Float64,
        client_ip String
      ) ENGINE = MergeTree PARTITION BY toYYYYMM(time) ORDER BY (time, sub)`,
      `CREATE TABLE IF NOT EXISTS ${db}.report_definitions (
        id String,
        tenant String,
        name String,
        kind LowCardinality(String),
        search String,
        period String,
        schedule String,
        format LowCardinality(String),
        created_by String,
        created_at DateTime64(3, 'UTC'),
        deleted UInt8,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant, id)`,
      // run_id is derived from (report, due time) for scheduled runs, so two
      // instances that both ran one due time leave one row.
      `CREATE TABLE IF NOT EXISTS ${db}.report_runs (
        run_id String,
        report_id String,
        tenant String,
        trigger LowCardinality(String),
        due_at DateTime64(3, 'UTC'),
        period_from DateTime64(3, 'UTC'),
        period_to DateTime64(3, 'UTC'),
        status LowCardinality(String),
        error String,
        format LowCardinality(String),
        row_count UInt64,
        sha256 String,
        content String CODEC(ZSTD(3)),
        manifest_jws String,
        generated_at DateTime64(3, 'UTC'),
        generated_by String
      ) ENGINE = ReplacingMergeTree ORDER BY (tenant, report_id, run_id)`,
      // Instances claim a due run here; the earliest claim runs it.
      `CREATE TABLE IF NOT EXISTS ${db}.report_claims (
        run_id String,
        instance String,
        claimed_at DateTime64(3, 'UTC')
      ) ENGINE = MergeTree ORDER BY (run_id, claimed_at, instance)`,
    ],
  },
  {
    version: 5,
    name: 'transparency log',
    statements: (db) => [
      // The Merkle log over every stored event (docs/transparency-log.md). One
      // row per complete subtree hash, addressed by (level, idx); level 0 rows
      // are the leaves and name the event they log. A batch's leaves and the
      // nodes they complete go in one insert into this one unpartitioned
      // table, so they land together or not at all. Proofs and tree heads
      // read O(log n) rows by primary key; an event's leaf is found through
      // the bloom filter on event_id.
      `CREATE TABLE IF NOT EXISTS ${db}.log_nodes (
        level UInt8,
        idx UInt64,
        hash String,
        event_id String,
        tenant LowCardinality(String),
        appended_at DateTime64(3, 'UTC'),
        INDEX idx_event event_id TYPE bloom_filter GRANULARITY 1
      ) ENGINE = ReplacingMergeTree ORDER BY (level, idx)`,
      // Signed checkpoints (C2SP signed-note text), also written outside
      // ClickHouse to the checkpoint directory.
      `CREATE TABLE IF NOT EXISTS ${db}.log_checkpoints (
        size UInt64,
        root String,
        note String,
        created_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree ORDER BY size`,
    ],
  },
  {
    version: 6,
    name: 'emitter hash chains',
    statements: (db) => [
      // The head of each emitter's hash chain: the highest seq seen and the
      // SHA-256 of that event's signed bytes, which its successor's `prev`
      // must name (docs/event.md).
      `CREATE TABLE IF NOT EXISTS ${db}.emitter_chains (
        source String,
        last_seq UInt64,
        last_digest String,
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY source`,
      // One row per broken link: the event at seq names a predecessor digest
      // (got) other than the digest of the stored event at seq - 1 (expected).
      `CREATE TABLE IF NOT EXISTS ${db}.chain_breaks (
        source String,
        seq UInt64,
        event_id String,
        expected String,
        got String,
        detected_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree ORDER BY (source, seq, event_id)`,
    ],
  },
  {
    version: 7,
    name: 'webhook deliveries',
    statements: (db) => [
      // One row per finding to send to one subscriber, and its latest attempt
      // (docs/webhooks.md). The row with the greatest updated_at wins: a
      // finding queued again after a redelivered batch carries its event's
      // receipt time, so it never undoes a later attempt.
      `CREATE TABLE IF NOT EXISTS ${db}.webhook_deliveries (
        delivery_id String,
        subscription_id String,
        tenant LowCardinality(String),
        kind LowCardinality(String),
        event_id String,
        url String,
        payload String,
        status LowCardinality(String),
        attempts UInt32,
        last_status UInt16,
        last_error String,
        created_at DateTime64(3, 'UTC'),
        next_attempt_at DateTime64(3, 'UTC'),
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY (tenant, delivery_id)`,
    ],
  },
  {
    version: 8,
    name: 'access log: own request ids and stream phases',
    statements: (db) => [
      // request_id is actorlog's own; the caller's X-Request-Id is kept apart.
      `ALTER TABLE ${db}.access_log ADD COLUMN IF NOT EXISTS caller_request_id String AFTER request_id`,
      // answered | stream_started | stream_completed | stream_aborted
      `ALTER TABLE ${db}.access_log ADD COLUMN IF NOT EXISTS phase LowCardinality(String) DEFAULT 'answered' AFTER caller_request_id`,
    ],
  },
  {
    version: 9,
    name: 'verified hash-chain links: the previous event id',
    statements: (db) => [
      // The head's event id, so a direct successor whose `prev` matches the
      // head's digest can name its predecessor (OCSF prev_event.uid).
      `ALTER TABLE ${db}.emitter_chains ADD COLUMN IF NOT EXISTS last_id String DEFAULT ''`,
      ...eventColumnsDdl(9).map((c) => `ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS ${c}`),
    ],
  },
  {
    version: 11,
    name: 'bounded quarantine: who sent, truncation, counts past the caps',
    statements: (db) => [
      // Who sent a refused record as ingest saw them, so caps and analysts can
      // tell one emitter's or one address's flood from another's.
      `ALTER TABLE ${db}.quarantine ADD COLUMN IF NOT EXISTS caller String DEFAULT ''`,
      `ALTER TABLE ${db}.quarantine ADD COLUMN IF NOT EXISTS address String DEFAULT ''`,
      // 1: raw_base64 holds the first QUARANTINE_RAW_MAX_BYTES only; raw_bytes
      // and raw_sha256 stay those of the whole record.
      `ALTER TABLE ${db}.quarantine ADD COLUMN IF NOT EXISTS raw_truncated UInt8 DEFAULT 0`,
      // Refused records past a quarantine cap: counted, not stored. drop_id is
      // the first such record's quarantine id, so a redelivered batch replaces its row.
      `CREATE TABLE IF NOT EXISTS ${db}.quarantine_dropped (
        drop_id String,
        window_start DateTime64(3, 'UTC'),
        first_received_at DateTime64(3, 'UTC'),
        last_received_at DateTime64(3, 'UTC'),
        stage LowCardinality(String),
        cap LowCardinality(String),
        cap_key String,
        reason LowCardinality(String),
        records UInt64,
        bytes UInt64,
        digest String
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(window_start)
      ORDER BY (drop_id)`,
    ],
  },
  {
    version: 12,
    name: 'report files on disk; definitions paused, updated and deleted by whom',
    statements: (db) => [
      // A run's file is written to the reports folder as its rows stream
      // (reports/report-file.ts); the row names it. Runs from before keep
      // their file in `content`.
      `ALTER TABLE ${db}.report_runs ADD COLUMN IF NOT EXISTS file String DEFAULT '' AFTER content`,
      `ALTER TABLE ${db}.report_runs ADD COLUMN IF NOT EXISTS bytes UInt64 DEFAULT 0 AFTER row_count`,
      // Each change of a definition is a new version of its row; a delete is
      // one too (deleted = 1), so who deleted it and when stay readable.
      `ALTER TABLE ${db}.report_definitions ADD COLUMN IF NOT EXISTS paused UInt8 DEFAULT 0 AFTER format`,
      `ALTER TABLE ${db}.report_definitions ADD COLUMN IF NOT EXISTS updated_by String DEFAULT '' AFTER created_at`,
      `ALTER TABLE ${db}.report_definitions ADD COLUMN IF NOT EXISTS updated_at DateTime64(3, 'UTC') DEFAULT created_at AFTER updated_by`,
      `ALTER TABLE ${db}.report_definitions ADD COLUMN IF NOT EXISTS deleted_by String DEFAULT '' AFTER deleted`,
      `ALTER TABLE ${db}.report_definitions ADD COLUMN IF NOT EXISTS deleted_at DateTime64(3, 'UTC') DEFAULT 0 AFTER deleted_by`,
    ],
  },
  {
    version: 14,
    name: 'transparency log: one append per tree position',
    statements: (db) => [
      // Each append is one block whose deduplication token is its start
      // position (store/transparency-log.ts insertLogNodes). With a window,
      // a second block for the same position is dropped whole, so several
      // appenders can share the log without a lease. The window only has to
      // cover appends racing at the same moment; 10,000 is ample.
      `ALTER TABLE ${db}.log_nodes MODIFY SETTING non_replicated_deduplication_window = 10000`,
    ],
  },
  {
    version: 15,
    name: 'retention: legal holds and signed expiry records',
    statements: (db) => [
      // A hold exempts from expiry what matches all its non-empty fields:
      // the tenant, and optionally one human, one session, a time range.
      // Released, a hold keeps its row with who released it, when and why
      // (the version with the greatest `version` wins); nothing deletes one.
      `CREATE TABLE IF NOT EXISTS ${db}.legal_holds (
        hold_id String,
        tenant LowCardinality(String),
        human_sub String,
        session_id String,
        from_time Nullable(DateTime64(3, 'UTC')),
        to_time Nullable(DateTime64(3, 'UTC')),
        reason String,
        created_by String,
        created_at DateTime64(3, 'UTC'),
        released_by String,
        released_at Nullable(DateTime64(3, 'UTC')),
        release_reason String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant, hold_id)`,
      // One row per expiry run and tenant: the signed record (a signed note
      // by the log key) naming the leaves whose events were expired, also
      // written to the checkpoint directory.
      `CREATE TABLE IF NOT EXISTS ${db}.expiry_records (
        record_id String,
        tenant LowCardinality(String),
        expired_before DateTime64(3, 'UTC'),
        count UInt64,
        checkpoint_size UInt64,
        note String,
        created_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree ORDER BY (tenant, record_id)`,
    ],
  },
  {
    version: 16,
    name: 'the tool result as columns',
    statements: (db) => [
      // What the target answered (is_error, error code, duration), so a
      // search can ask for the calls that failed without reading event_json.
      ...eventColumnsDdl(16).map((c) => `ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS ${c}`),
    ],
  },
  {
    version: 18,
    name: 'events: a projection by agent for searches',
    statements: (db) => [
      // Searches by agent read the page's keys from this projection, a few
      // granules instead of the whole table (docs/performance.md). Existing
      // parts get it through the MATERIALIZE mutation, which runs in the
      // background; until a part has it, a search reads that part as before.
      `ALTER TABLE ${db}.events MODIFY SETTING ${EVENT_PROJECTION_SETTINGS[0]}`,
      ...EVENT_PROJECTIONS.flatMap(([name, select]) => [
        `ALTER TABLE ${db}.events ADD PROJECTION IF NOT EXISTS ${name} (${select})`,
        `ALTER TABLE ${db}.events MATERIALIZE PROJECTION ${name}`,
      ]),
    ],
  },
  {
    version: 19,
    name: 'events: retention deletes rebuild the projections',
    statements: (db) => [`ALTER TABLE ${db}.events MODIFY SETTING ${EVENT_PROJECTION_SETTINGS[1]}`],
  },
];
