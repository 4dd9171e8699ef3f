// Assembles the services from one configuration. `start` runs all of them in
// one process; `ingest`, `processor` and `query-api` run one each.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { createKafka, ensureTopics, FAST_FAIL_RETRY } from '../lib/kafka.js';
import { createLogger, errorFields, type Logger } from '../lib/logger.js';
import { Metrics } from '../lib/metrics.js';
import { every, type Periodic } from '../lib/periodic.js';
import { createStorage, tablesOf, withReadTimeout, type Storage, type Tables } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { createEmbeddedSink } from '../ingest/embedded-sink.js';
import { createKafkaSink } from '../ingest/kafka-sink.js';
import { buildIngestServer } from '../ingest/server.js';
import type { IngestSink } from '../ingest/sink.js';
import { KeyResolver } from '../processor/key-resolver.js';
import { startConsumer } from '../processor/consumer.js';
import { watchConsumerLag } from '../processor/consumer-lag.js';
import { createProcessorState } from '../processor/batch.js';
import type { BatchSink, RunnerDeps } from '../processor/runner.js';
import { VerifyPool } from '../processor/verify-pool.js';
import { QuarantineBudget } from '../processor/quarantine-caps.js';
import { transparencyLogSink } from '../processor/sinks/transparency-log.js';
import { ocsfStreamSink } from '../processor/sinks/ocsf-stream.js';
import { loadSubscriptions } from '../webhooks/subscriptions.js';
import { findingWebhookSink, queueSilence } from '../webhooks/sink.js';
import { startDeliverer } from '../webhooks/deliverer.js';
import { createService } from '../lib/http.js';
import { ping } from '../store/client.js';
import { emittersFallingSilent, markSilentEmitters, type FallingSilent } from '../store/state/sequences.js';
import { buildQueryApi } from '../query-api/server.js';
import { jwtAuthenticator, staticAuthenticator } from '../query-api/auth.js';
import { reportRoutes } from '../query-api/routes/reports.js';
import { ConcurrencyGate } from '../lib/concurrency.js';
import { ReportService, startScheduler } from '../reports/service.js';
import { loadReportKey } from '../reports/signing.js';
import { LogAppender } from '../transparency/appender.js';
import { publishCheckpoint } from '../transparency/checkpoints.js';
import { expireAll } from '../transparency/expiry.js';
import { loadLogKey } from '../transparency/log-key.js';
import { logRoutes } from '../query-api/routes/log.js';
import { consoleAuthOf } from '../query-api/console.js';

export interface Running {
  ingestUrl?: string;
  queryUrl?: string;
  // The standalone processor's health and metrics.
  processorUrl?: string;
  close(): Promise<void>;
}

export interface Context {
  config: Config;
  metrics: Metrics;
  logger: Logger;
  storage: Storage;
  tables: Tables;
}

// Where each stored batch goes besides storage, in either driver (the Kafka
// driver puts its dead-letter sink first). A new sink is one line here.
// No appender: a processor that leaves the log to another instance (LOG_APPEND=false).
function batchSinks(_ctx: Context, log: LogAppender | undefined, extra: BatchSink[] = []): BatchSink[] {
  return [...(log ? [transparencyLogSink(log)] : []), ...extra];
}

// What the batch runner needs, in either driver.
function runnerDeps(ctx: Context, log: LogAppender | undefined, extraSinks: BatchSink[] = []): RunnerDeps {
  const { config, storage, tables, metrics, logger } = ctx;
  return {
    storage,
    tables,
    metrics,
    logger,
    sinks: batchSinks(ctx, log, extraSinks),
    keys: new KeyResolver(config.keysFile, { onError: (url, message) => logger.warn(`emitter JWKS ${url} not fetched (last good set kept): ${message}`) }),
    eventMaxBytes: config.ingest.eventMaxBytes,
    skew: { futureMs: config.processor.clockSkewFutureMs, pastMs: config.processor.clockSkewPastMs },
    state: createProcessorState(storage, tables, config.processor),
    verifier: verifyPool,
    quarantineBudget: new QuarantineBudget(config.processor.quarantineCaps, metrics, logger),
  };
}

// Signature checks on worker threads, one per core, shared by every batch of
// the process (the workers do not keep it alive).
const verifyPool = new VerifyPool();

// The transparency log, wherever events are stored: its appender, and a
// checkpoint published every LOG_CHECKPOINT_MS when the log grew, plus a
// last one on stop so every stored event is covered. With a retention
// configured, the expiry job runs here too: it signs with the log key.
function transparencyLog(ctx: Context): { appender: LogAppender; stop(): Promise<void> } {
  const { config, storage, tables } = ctx;
  const appender = new LogAppender(storage, tables);
  const key = loadLogKey(config.log.signingKeyFile, config.log.origin);
  const publish = () => publishCheckpoint({ storage, tables, appender, key, dir: config.log.checkpointDir });
  const timer = every(config.log.checkpointMs, publish, (err) => ctx.logger.error('checkpoint not published', errorFields(err)));
  const { retention } = config;
  const expiry =
    retention.defaultDays || Object.values(retention.days).some((d) => d > 0)
      ? every(
          retention.checkMs,
          async () => {
            for (const done of await expireAll({ storage, tables, key, dir: config.log.checkpointDir }, retention)) {
              ctx.logger.info('events expired', { tenant: done.tenant, count: done.count, record: done.record_id });
            }
          },
          (err) => ctx.logger.error('expiry failed', errorFields(err)),
        )
      : undefined;
  return {
    appender,
    async stop() {
      await expiry?.stop();
      await timer.stop();
      await publish().catch((err: unknown) => ctx.logger.error('checkpoint not published', errorFields(err)));
    },
  };
}

// Marks emitters silent while the processor runs, wherever it runs; with
// finding webhooks, queues their emitter_silent findings first, so a failed
// mark only queues them again under the same ids.
function watchSilence(ctx: Context, webhooks?: FindingWebhooks): Periodic {
  const after = ctx.config.processor.emitterSilentAfterMs;
  return every(
    Math.min(60_000, after),
    async () => {
      if (webhooks) await webhooks.silent(await emittersFallingSilent(ctx.storage, ctx.tables, after), after);
      await markSilentEmitters(ctx.storage, ctx.tables, after);
    },
    (err) => ctx.logger.warn('silence check failed', errorFields(err)),
  );
}

export async function openContext(config: Config, name: string): Promise<Context> {
  const logger = createLogger(name, config.logLevel);
  const storage = await createStorage(config.clickhouse);
  const tables = tablesOf(config.clickhouse.database);
  const applied = await migrate(storage, tables, config.clickhouse.cluster);
  if (applied.length > 0) logger.info('storage migrated', { applied });
  return { config, metrics: new Metrics(), logger, storage, tables };
}

// The analyst token: ACTORLOG_ANALYST_TOKEN, or else one generated once into
// DATA_DIR/analyst-token (mode 0600). Its value is never logged.
export function analystToken(config: Config): { token: string; file?: string } {
  if (config.query.analystToken) return { token: config.query.analystToken };
  const file = path.join(config.dataDir, 'analyst-token');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return { token: fs.readFileSync(file, 'utf8').trim(), file };
}

async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
}

// Signed webhooks for findings (docs/webhooks.md), run where batches are
// stored: their sink queues, their deliverer sends. None without subscriptions.
interface FindingWebhooks {
  sink: BatchSink;
  silent(emitters: FallingSilent[], silentAfterMs: number): Promise<void>;
  deliverer: Periodic;
}
async function findingWebhooks(ctx: Context): Promise<FindingWebhooks | undefined> {
  const subscriptions = loadSubscriptions(ctx.config.webhooks.file);
  if (subscriptions.length === 0) return undefined;
  const deps = { ...ctx, key: await loadReportKey(ctx.config.reports.signingKeyFile), subscriptions };
  return {
    sink: findingWebhookSink(deps),
    silent: (emitters, after) => queueSilence(deps, emitters, after),
    deliverer: startDeliverer(ctx, ctx.config.webhooks),
  };
}

export async function startIngest(ctx: Context): Promise<Running> {
  const { config } = ctx;
  let sink: IngestSink;
  let log: ReturnType<typeof transparencyLog> | undefined;
  let webhooks: Awaited<ReturnType<typeof findingWebhooks>>;
  if (config.kafka) {
    const kafka = createKafka(config.kafka, 'ingest', config.logLevel, FAST_FAIL_RETRY);
    await ensureTopics(kafka, config.kafka);
    sink = await createKafkaSink(kafka, config.kafka);
  } else {
    log = transparencyLog(ctx);
    webhooks = await findingWebhooks(ctx);
    sink = createEmbeddedSink(runnerDeps(ctx, log.appender, webhooks ? [webhooks.sink] : []));
  }
  const silence = config.kafka ? undefined : watchSilence(ctx, webhooks);
  if (config.ingest.auth === 'off') ctx.logger.warn('ingest takes events from anyone (INGEST_AUTH=off); for development only');
  const app = buildIngestServer({
    sink,
    metrics: ctx.metrics,
    logLevel: config.logLevel,
    bodyTimeoutMs: config.bodyTimeoutMs,
    keys: new KeyResolver(config.keysFile, { onError: (url, message) => ctx.logger.warn(`emitter JWKS ${url} not fetched (last good set kept): ${message}`) }),
    ...config.ingest,
  });
  const ingestUrl = await listen(app, config.host, config.ingest.port);
  return {
    ingestUrl,
    async close() {
      await app.close();
      await silence?.stop();
      await sink.close();
      await webhooks?.deliverer.stop();
      await log?.stop();
    },
  };
}

// opts.http: serve /healthz, /readyz and /metrics on PROCESSOR_PORT, for a
// processor that runs alone (with the other services it shares theirs).
export async function startProcessor(ctx: Context, opts: { http?: boolean } = {}): Promise<Running> {
  const { config } = ctx;
  if (!config.kafka) throw new ActorlogError('CONFIG_INVALID', 'the processor reads Kafka: set KAFKA_BROKERS');
  const kafka = createKafka(config.kafka, 'processor', config.logLevel);
  await ensureTopics(kafka, config.kafka);
  // The log has one appender: in a group of several processors, one appends
  // and the others store only (docs/scale-out.md).
  const log = config.log.append ? transparencyLog(ctx) : undefined;
  if (!log) ctx.logger.warn('transparency log appends are off on this processor (LOG_APPEND=false); another instance must append');
  // The SIEM stream (docs/ocsf.md), on its own client: its cluster may be another.
  const { ocsf } = config.kafka;
  const siem = ocsf ? ocsfStreamSink(createKafka({ ...config.kafka, brokers: ocsf.brokers }, 'ocsf-stream', config.logLevel), ocsf.topic, config.kafka.partitions) : undefined;
  const webhooks = await findingWebhooks(ctx);
  const extraSinks = [...(siem ? [siem] : []), ...(webhooks ? [webhooks.sink] : [])];
  const consumer = await startConsumer({ ...runnerDeps(ctx, log?.appender, extraSinks), kafka, kafkaConfig: config.kafka });
  const silence = watchSilence(ctx, webhooks);
  const lag = watchConsumerLag(kafka, { groupId: config.kafka.groupId, topic: config.kafka.topic, intervalMs: config.processor.lagIntervalMs, metrics: ctx.metrics, logger: ctx.logger });
  // Not awaited: ingest and the query API serve while the group rebalances.
  consumer.joined.then(
    () => ctx.logger.info('processor consuming', { topic: config.kafka!.topic, group: config.kafka!.groupId }),
    (err: unknown) => ctx.logger.error('processor could not join its group', errorFields(err)),
  );
  const app = opts.http
    ? createService({ name: 'processor', component: 'processor', logLevel: config.logLevel, bodyTimeoutMs: config.bodyTimeoutMs, metrics: ctx.metrics, ready: () => ping(ctx.storage) })
    : undefined;
  const processorUrl = app ? await listen(app, config.host, config.processor.port) : undefined;
  return {
    processorUrl,
    async close() {
      await app?.close();
      await lag.stop();
      await consumer.stop();
      await siem?.close();
      await webhooks?.deliverer.stop();
      await silence.stop();
      await log?.stop();
    },
  };
}

export async function startQueryApi(ctx: Context): Promise<Running> {
  const { config } = ctx;
  const authenticate = config.query.jwt ? jwtAuthenticator(config.query.jwt) : staticAuthenticator(analystToken(config).token);
  if (!config.query.jwt) ctx.logger.warn('query API uses the static development token; set ACTORLOG_AUTH_JWKS for analyst JWTs');
  const reportKey = await loadReportKey(config.reports.signingKeyFile);
  const exportGate = new ConcurrencyGate(config.exportConcurrency, (limit) => ctx.metrics.add('actorlog_work_refused_total', { work: 'export_or_report', limit }));
  const reports = new ReportService({ ...ctx, key: reportKey, gate: exportGate });
  const app = buildQueryApi({
    ...ctx,
    storage: withReadTimeout(ctx.storage, config.query.timeoutMs),
    exportGate,
    streams: config.streams,
    authenticate,
    keysFile: config.keysFile,
    rateLimit: config.query.rateLimit,
    logLevel: config.logLevel,
    bodyTimeoutMs: config.bodyTimeoutMs,
    extraRoutes: [reportRoutes(reports, reportKey), logRoutes(loadLogKey(config.log.signingKeyFile, config.log.origin))],
    console: { auth: consoleAuthOf(config.query.consoleOidc) },
  });
  const queryUrl = await listen(app, config.host, config.query.port);
  const scheduler = startScheduler(reports, config.reports.tickMs, ctx.logger);
  return {
    queryUrl,
    async close() {
      await app.close();
      await scheduler.stop();
    },
  };
}

// Everything in one process: ingest, the processor when there is a bus, and
// the query API.
export async function startAll(ctx: Context): Promise<Running> {
  const parts: Running[] = [];
  try {
    parts.push(await startIngest(ctx));
    if (ctx.config.kafka) parts.push(await startProcessor(ctx));
    parts.push(await startQueryApi(ctx));
  } catch (err) {
    await Promise.allSettled(parts.map((p) => p.close()));
    throw err;
  }
  return {
    ingestUrl: parts[0]?.ingestUrl,
    queryUrl: parts[parts.length - 1]?.queryUrl,
    async close() {
      for (const part of parts) await part.close();
      await ctx.storage.close();
    },
  };
}
