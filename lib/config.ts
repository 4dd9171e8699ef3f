// All configuration is one object, read from the environment once and
// validated here. Each variable, its default and its meaning is listed in the
// README's configuration table; keep the two in step.
import path from 'node:path';
import { z } from 'zod';
import { ActorlogError } from './errors.js';

// The quarantine's bounds (used by processor/quarantine-caps.ts).
export interface QuarantineCaps {
  windowMs: number;
  // Per sender: the authenticated emitter, else the client address.
  rowsPerSource: number;
  bytesPerSource: number;
  rowsGlobal: number;
  bytesGlobal: number;
  rawMaxBytes: number;
}

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().positive();
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

// How a JWT claim that is one string is read: as one value (none), or split.
export const CLAIM_SEPARATORS = ['none', 'space', 'comma'] as const;
export type ClaimSeparator = (typeof CLAIM_SEPARATORS)[number];

export const envSchema = z.object({
  DATA_DIR: z.string().default('./data'),
  HOST: z.string().default('127.0.0.1'),
  INGEST_PORT: port.default(8080),
  QUERY_PORT: port.default(8081),
  PROCESSOR_PORT: port.default(8082),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STOP_TIMEOUT_MS: positive.default(20_000),

  KAFKA_BROKERS: optionalText,
  KAFKA_CLIENT_ID: z.string().default('actorlog'),
  KAFKA_TOPIC: z.string().default('actorlog.events'),
  KAFKA_DLQ_TOPIC: z.string().default('actorlog.events.dlq'),
  KAFKA_GROUP_ID: z.string().default('actorlog-processor'),
  KAFKA_TOPIC_PARTITIONS: positive.default(3),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(30_000),
  // Compression of what ingest produces: none or gzip (the codecs kafkajs
  // carries). Measured by test/bench/kafka-producer.bench.ts (docs/performance.md,
  // "Kafka producer settings"): on loopback with 1.5 kB signed events, 2,000
  // events, one repeat, load ~10, gzip cost 268 vs 268 us of CPU per event at
  // 100 a send and 117 vs 177 at 500 (producer + broker), within the noise of
  // that run; none stays the default until a quiet-machine run separates them.
  KAFKA_COMPRESSION: z.enum(['none', 'gzip']).default('none'),
  // The SIEM stream: every stored event as OCSF JSON (docs/ocsf.md), on the
  // events' cluster unless KAFKA_OCSF_BROKERS names another; empty: no stream.
  KAFKA_OCSF_TOPIC: z.string().default('actorlog.ocsf'),
  KAFKA_OCSF_BROKERS: optionalText,

  CLICKHOUSE_URL: optionalText,
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain identifier').default('actorlog'),
  // Set: the schema is created ON CLUSTER with replicated tables behind
  // Distributed ones (docs/scale-out.md); needs CLICKHOUSE_URL.
  CLICKHOUSE_CLUSTER: z
    .string()
    .regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, 'a plain identifier')
    .optional()
    .transform((v) => v || undefined),

  ACTORLOG_KEYS_FILE: optionalText,
  ACTORLOG_ANALYST_TOKEN: optionalText,
  ACTORLOG_AUTH_JWKS: optionalText,
  ACTORLOG_AUTH_ISSUER: optionalText,
  ACTORLOG_AUTH_AUDIENCE: optionalText,
  ACTORLOG_AUTH_ROLES_CLAIM: z.string().default('roles'),
  ACTORLOG_AUTH_TENANT_CLAIM: z.string().default('tenant'),
  ACTORLOG_AUTH_CLAIM_SEPARATOR: z.enum(CLAIM_SEPARATORS).default('none'),
  // The console's OIDC login (docs/console.md): a public client of the issuer
  // the API trusts (ACTORLOG_AUTH_ISSUER), authorization code with PKCE.
  ACTORLOG_CONSOLE_OIDC_CLIENT_ID: optionalText,
  ACTORLOG_CONSOLE_OIDC_SCOPES: z.string().trim().min(1).default('openid'),
  ACTORLOG_CONSOLE_OIDC_REDIRECT_URI: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  ACTORLOG_CONSOLE_OIDC_RESOURCE: optionalText,
  QUERY_RATE_LIMIT: positive.default(600),
  // A read that runs longer is stopped by the engine (max_execution_time) and
  // answered 504 QUERY_TIMEOUT; streamed reads have the bounds below.
  QUERY_TIMEOUT_MS: positive.default(30_000),
  // Streamed reads (exports, report runs): at most this long in all, and at
  // most STREAM_IDLE_TIMEOUT_MS waiting for storage's next chunk; past either
  // the query is cancelled and the export or run ends aborted (docs/reports.md).
  STREAM_TIMEOUT_MS: positive.default(30 * 60_000),
  STREAM_IDLE_TIMEOUT_MS: positive.default(120_000),
  REPORT_TICK_MS: positive.default(30_000),
  // Where report files and their manifests are written (default DATA_DIR/reports).
  REPORTS_DIR: optionalText,
  // Report definitions per tenant, and the shortest time between two runs a schedule may name.
  REPORT_MAX_DEFINITIONS: positive.default(100),
  REPORT_MIN_INTERVAL_MINUTES: positive.default(60),
  // Exports and report runs at once, per tenant and in all (docs/reports.md).
  EXPORT_CONCURRENCY_PER_TENANT: positive.default(2),
  EXPORT_CONCURRENCY_TOTAL: positive.default(4),
  // Signed webhooks for findings (docs/webhooks.md).
  WEBHOOKS_FILE: optionalText,
  WEBHOOK_TICK_MS: positive.default(1_000),
  WEBHOOK_TIMEOUT_MS: positive.default(5_000),
  WEBHOOK_RETRY_BASE_MS: positive.default(1_000),
  WEBHOOK_MAX_ATTEMPTS: positive.default(15),
  INGEST_BODY_LIMIT: positive.default(5 * 1024 * 1024),
  // Emitters authenticate to ingest with a short-lived token signed by their
  // registered key (ingest/emitter-auth.ts); `off` for development only.
  INGEST_AUTH: z.enum(['required', 'off']).default('required'),
  INGEST_AUTH_MAX_TOKEN_SECONDS: positive.default(300),
  // Token buckets: requests per minute, bursts of up to a minute's worth.
  INGEST_RATE_LIMIT_EMITTER: positive.default(6_000),
  INGEST_RATE_LIMIT_ADDRESS: positive.default(12_000),
  // A request (headers and body) not received whole within this is cut off (408).
  BODY_TIMEOUT_MS: positive.default(30_000),
  INGEST_MAX_EVENTS: positive.default(1000),
  EVENT_MAX_BYTES: positive.default(64 * 1024),
  // Quarantine bounds (processor/quarantine-caps.ts, docs/quarantine-reasons.md).
  QUARANTINE_WINDOW_MS: positive.default(60_000),
  QUARANTINE_CAP_ROWS: positive.default(1_000),
  QUARANTINE_CAP_BYTES: positive.default(8 * 1024 * 1024),
  QUARANTINE_CAP_GLOBAL_ROWS: positive.default(10_000),
  QUARANTINE_CAP_GLOBAL_BYTES: positive.default(64 * 1024 * 1024),
  QUARANTINE_RAW_MAX_BYTES: positive.default(64 * 1024),
  CLOCK_SKEW_FUTURE_MS: positive.default(5 * 60_000),
  CLOCK_SKEW_PAST_MS: positive.default(24 * 3_600_000),
  EMITTER_SILENT_AFTER_MS: positive.default(5 * 60_000),
  // How often a Kafka processor reads its group's lag for /metrics (docs/metrics.md).
  PROCESSOR_LAG_INTERVAL_MS: positive.default(10_000),
  LOG_ORIGIN: z.string().regex(/^[^\s+]+$/, 'one word without spaces or "+"').default('actorlog.localhost/log'),
  LOG_CHECKPOINT_MS: positive.default(10_000),
  LOG_CHECKPOINT_DIR: optionalText,
  // Retention per tenant (docs/transparency-log.md#retention-and-legal-hold):
  // "acme=90,globex=365,*=730" in days; "*" is every other tenant; 0 or
  // "forever" keeps forever. Unset: every tenant's events are kept forever.
  RETENTION: optionalText,
  RETENTION_CHECK_MS: positive.default(3_600_000),
  // false: this Kafka processor stores without appending to the transparency
  // log (docs/scale-out.md): the log has one appender, so in a group of
  // several processors every instance but one runs with it off.
  LOG_APPEND: z.enum(['true', 'false']).default('true'),
});

export interface Config {
  dataDir: string;
  host: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  stopTimeoutMs: number;
  keysFile: string;
  kafka?: {
    brokers: string[];
    clientId: string;
    topic: string;
    dlqTopic: string;
    groupId: string;
    partitions: number;
    sessionTimeoutMs: number;
    compression: 'none' | 'gzip';
    // absent: no SIEM stream
    ocsf?: { topic: string; brokers: string[] };
  };
  clickhouse: {
    url?: string;
    username: string;
    password: string;
    database: string;
    // A cluster named in the servers' remote_servers: cluster schema and writes.
    cluster?: string;
    // Where the embedded engine keeps its files when no URL is given.
    embeddedPath: string;
  };
  // Slow requests are cut after this, in every HTTP service.
  bodyTimeoutMs: number;
  ingest: {
    port: number;
    bodyLimit: number;
    maxEvents: number;
    eventMaxBytes: number;
    auth: 'required' | 'off';
    maxTokenSeconds: number;
    // Requests per minute per emitter and per source address.
    rateLimitEmitter: number;
    rateLimitAddress: number;
  };
  query: {
    port: number;
    // Development only: one static token with every role on every tenant.
    analystToken?: string;
    // Set: analysts present JWTs from the identity provider, verified here.
    jwt?: { jwks: string; issuer: string; audience: string; rolesClaim: string; tenantClaim: string; claimSeparator: ClaimSeparator };
    // Set: the console signs in with OIDC against jwt.issuer; absent: with
    // the development token. redirectUri absent: <console origin>/oidc/callback.
    // resource: the RFC 8707 resource indicator sent to the issuer, if any.
    consoleOidc?: { issuer: string; clientId: string; scope: string; redirectUri?: string; resource?: string };
    // Requests per minute per caller.
    rateLimit: number;
    // The longest one read of the query API may run (streamed exports excepted).
    timeoutMs: number;
  };
  reports: { tickMs: number; dir: string; signingKeyFile: string; maxDefinitions: number; minIntervalMinutes: number };
  // Exports and report runs running at once (lib/concurrency.ts).
  exportConcurrency: { perTenant: number; total: number };
  // Bounds of one streamed read (an export, a report run).
  streams: { timeoutMs: number; idleTimeoutMs: number };
  webhooks: { file?: string; tickMs: number; timeoutMs: number; retryBaseMs: number; maxAttempts: number };
  // port: health, readiness and /metrics of `actorlog processor` run alone.
  processor: {
    port: number;
    clockSkewFutureMs: number;
    clockSkewPastMs: number;
    emitterSilentAfterMs: number;
    lagIntervalMs: number;
    quarantineCaps: QuarantineCaps;
  };
  // The transparency log (docs/transparency-log.md): checkpoint origin (also
  // the log key's name), how often one is published, where they are written.
  // append: whether a Kafka processor appends what it stores and publishes checkpoints.
  log: { origin: string; checkpointMs: number; checkpointDir: string; signingKeyFile: string; append: boolean };
  // Days each tenant's events are kept (absent: forever), and how often the
  // expiry job runs where the log is appended.
  retention: { days: Record<string, number>; defaultDays?: number; checkMs: number };
}

// "acme=90,*=365" -> days per tenant and the default; 0 or "forever" keeps.
export function parseRetention(text: string | undefined): { days: Record<string, number>; defaultDays?: number } {
  const days: Record<string, number> = {};
  let defaultDays: number | undefined;
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)\s*=\s*(forever|\d+)$/.exec(part);
    if (!match) throw new ActorlogError('CONFIG_INVALID', `RETENTION: "${part}" is not tenant=days (days a whole number, 0 or "forever" to keep)`);
    const value = match[2] === 'forever' ? 0 : Number(match[2]);
    if (match[1] === '*') defaultDays = value || undefined;
    else days[match[1]!] = value;
  }
  return { days, defaultDays };
}

const brokerList = (list: string) => list.split(',').map((b) => b.trim()).filter(Boolean);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ActorlogError('CONFIG_INVALID', detail);
  }
  const e = parsed.data;
  if (e.ACTORLOG_AUTH_JWKS && (!e.ACTORLOG_AUTH_ISSUER || !e.ACTORLOG_AUTH_AUDIENCE)) {
    throw new ActorlogError('CONFIG_INVALID', 'ACTORLOG_AUTH_JWKS needs ACTORLOG_AUTH_ISSUER and ACTORLOG_AUTH_AUDIENCE');
  }
  if (e.ACTORLOG_CONSOLE_OIDC_CLIENT_ID && !e.ACTORLOG_AUTH_JWKS) {
    throw new ActorlogError('CONFIG_INVALID', 'ACTORLOG_CONSOLE_OIDC_CLIENT_ID needs ACTORLOG_AUTH_JWKS, ACTORLOG_AUTH_ISSUER and ACTORLOG_AUTH_AUDIENCE: the console signs in where the API trusts tokens from');
  }
  if (e.ACTORLOG_CONSOLE_OIDC_CLIENT_ID && !URL.canParse(e.ACTORLOG_AUTH_ISSUER!)) {
    throw new ActorlogError('CONFIG_INVALID', 'ACTORLOG_AUTH_ISSUER must be a URL for the console to sign in there');
  }
  if (e.CLICKHOUSE_CLUSTER && !e.CLICKHOUSE_URL) {
    throw new ActorlogError('CONFIG_INVALID', 'CLICKHOUSE_CLUSTER needs CLICKHOUSE_URL: the embedded engine is one process, not a cluster');
  }
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    dataDir,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    stopTimeoutMs: e.STOP_TIMEOUT_MS,
    bodyTimeoutMs: e.BODY_TIMEOUT_MS,
    keysFile: path.resolve(e.ACTORLOG_KEYS_FILE ?? path.join(dataDir, 'keys', 'emitters.json')),
    kafka: e.KAFKA_BROKERS
      ? {
          brokers: brokerList(e.KAFKA_BROKERS),
          clientId: e.KAFKA_CLIENT_ID,
          topic: e.KAFKA_TOPIC,
          dlqTopic: e.KAFKA_DLQ_TOPIC,
          groupId: e.KAFKA_GROUP_ID,
          partitions: e.KAFKA_TOPIC_PARTITIONS,
          sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
          compression: e.KAFKA_COMPRESSION,
          ocsf: e.KAFKA_OCSF_TOPIC ? { topic: e.KAFKA_OCSF_TOPIC, brokers: brokerList(e.KAFKA_OCSF_BROKERS ?? e.KAFKA_BROKERS) } : undefined,
        }
      : undefined,
    clickhouse: {
      url: e.CLICKHOUSE_URL,
      username: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
      database: e.CLICKHOUSE_DATABASE,
      cluster: e.CLICKHOUSE_CLUSTER,
      embeddedPath: path.join(dataDir, 'clickhouse'),
    },
    ingest: {
      port: e.INGEST_PORT,
      bodyLimit: e.INGEST_BODY_LIMIT,
      maxEvents: e.INGEST_MAX_EVENTS,
      eventMaxBytes: e.EVENT_MAX_BYTES,
      auth: e.INGEST_AUTH,
      maxTokenSeconds: e.INGEST_AUTH_MAX_TOKEN_SECONDS,
      rateLimitEmitter: e.INGEST_RATE_LIMIT_EMITTER,
      rateLimitAddress: e.INGEST_RATE_LIMIT_ADDRESS,
    },
    query: {
      port: e.QUERY_PORT,
      analystToken: e.ACTORLOG_ANALYST_TOKEN,
      jwt: e.ACTORLOG_AUTH_JWKS
        ? {
            jwks: e.ACTORLOG_AUTH_JWKS,
            issuer: e.ACTORLOG_AUTH_ISSUER!,
            audience: e.ACTORLOG_AUTH_AUDIENCE!,
            rolesClaim: e.ACTORLOG_AUTH_ROLES_CLAIM,
            tenantClaim: e.ACTORLOG_AUTH_TENANT_CLAIM,
            claimSeparator: e.ACTORLOG_AUTH_CLAIM_SEPARATOR,
          }
        : undefined,
      consoleOidc: e.ACTORLOG_CONSOLE_OIDC_CLIENT_ID
        ? {
            issuer: e.ACTORLOG_AUTH_ISSUER!,
            clientId: e.ACTORLOG_CONSOLE_OIDC_CLIENT_ID,
            scope: e.ACTORLOG_CONSOLE_OIDC_SCOPES,
            redirectUri: e.ACTORLOG_CONSOLE_OIDC_REDIRECT_URI,
            resource: e.ACTORLOG_CONSOLE_OIDC_RESOURCE,
          }
        : undefined,
      rateLimit: e.QUERY_RATE_LIMIT,
      timeoutMs: e.QUERY_TIMEOUT_MS,
    },
    webhooks: {
      file: e.WEBHOOKS_FILE ? path.resolve(e.WEBHOOKS_FILE) : undefined,
      tickMs: e.WEBHOOK_TICK_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
    },
    reports: {
      tickMs: e.REPORT_TICK_MS,
      dir: path.resolve(e.REPORTS_DIR ?? path.join(dataDir, 'reports')),
      signingKeyFile: path.join(dataDir, 'keys', 'report-signing.jwk'),
      maxDefinitions: e.REPORT_MAX_DEFINITIONS,
      minIntervalMinutes: e.REPORT_MIN_INTERVAL_MINUTES,
    },
    exportConcurrency: { perTenant: e.EXPORT_CONCURRENCY_PER_TENANT, total: e.EXPORT_CONCURRENCY_TOTAL },
    streams: { timeoutMs: e.STREAM_TIMEOUT_MS, idleTimeoutMs: e.STREAM_IDLE_TIMEOUT_MS },
    processor: {
      port: e.PROCESSOR_PORT,
      clockSkewFutureMs: e.CLOCK_SKEW_FUTURE_MS,
      clockSkewPastMs: e.CLOCK_SKEW_PAST_MS,
      emitterSilentAfterMs: e.EMITTER_SILENT_AFTER_MS,
      lagIntervalMs: e.PROCESSOR_LAG_INTERVAL_MS,
      quarantineCaps: {
        windowMs: e.QUARANTINE_WINDOW_MS,
        rowsPerSource: e.QUARANTINE_CAP_ROWS,
        bytesPerSource: e.QUARANTINE_CAP_BYTES,
        rowsGlobal: e.QUARANTINE_CAP_GLOBAL_ROWS,
        bytesGlobal: e.QUARANTINE_CAP_GLOBAL_BYTES,
        rawMaxBytes: e.QUARANTINE_RAW_MAX_BYTES,
      },
    },
    log: {
      origin: e.LOG_ORIGIN,
      checkpointMs: e.LOG_CHECKPOINT_MS,
      checkpointDir: path.resolve(e.LOG_CHECKPOINT_DIR ?? path.join(dataDir, 'checkpoints')),
      signingKeyFile: path.join(dataDir, 'keys', 'log-signing.key'),
      append: e.LOG_APPEND === 'true',
    },
    retention: { ...parseRetention(e.RETENTION), checkMs: e.RETENTION_CHECK_MS },
  };
}
