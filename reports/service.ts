// Report definitions, runs and their history. A run streams the rows of its
// kind from ClickHouse to its file in the reports folder (hashing as it
// writes), then signs a manifest with actorlog's report key; memory stays
// flat whatever the row count. Scheduled runs happen once per due time even
// with several instances: each instance claims the run, and only the earliest
// claim runs it; the run id derives from (report, due time), so even a double
// run leaves one row. Definitions are limited per tenant and in how often they
// run; a change is a new version of the definition, a delete is recorded
// (who, when) and keeps every past run, its file and its manifest.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { streamBoundOf, streamBounds, type Storage, type Tables } from '../store/client.js';
import * as store from '../store/reports.js';
import { coverageOf } from '../store/coverage.js';
import { latestCheckpoint } from '../store/transparency-log.js';
import { fromClickHouseTime, toClickHouseTime } from '../lib/time.js';
import { EXPORT_EXTENSIONS, exportEncoder, type ExportFormat } from '../schemas/export-formats.js';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { ConcurrencyGate } from '../lib/concurrency.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { errorFields } from '../lib/logger.js';
import { every, type Periodic } from '../lib/periodic.js';
import { uuidv7 } from '@actorlog/sdk';
import { lastDueAt, parseCron, parsePeriod, shortestIntervalMinutes } from './cron.js';
import { reportInputSchema, type ReportDefinition, type ReportInput, type ReportUpdate } from './definition.js';
import { reportRows } from './kinds.js';
import { writeReportFile } from './report-file.js';
import { fileIsWholeLog, type Manifest, type ReportKey } from './signing.js';

// A run as the API answers it: the stored run without its file and manifest.
export type RunSummary = store.RunSummaryRecord;

export interface ReportServiceDeps {
  storage: Storage;
  tables: Tables;
  key: ReportKey;
  logger: Logger;
  // Each run is one batch of the reports component; a run stopped at a stream
  // bound is counted too. Absent: not counted (tests of the service alone).
  metrics?: Metrics;
  config: Pick<Config, 'reports' | 'exportConcurrency' | 'streams'>;
  // Shared with the exports of the query API, so both count against one bound.
  gate?: ConcurrencyGate;
  // Identifies this process among the instances claiming scheduled runs.
  instance?: string;
  // How long claims may arrive before the earliest one wins.
  claimSettleMs?: number;
}

// A run's file as the API serves it: a file in the reports folder, or (runs
// from before files went to disk) the bytes kept in ClickHouse.
export type RunFile = { manifest: string; format: ExportFormat; report_id: string } & ({ path: string } | { content: string });

// A claim older than this no longer blocks others (its instance may be gone).
const CLAIM_TTL_MS = 10 * 60_000;

export class ReportService {
  readonly instance: string;
  readonly gate: ConcurrencyGate;
  private readonly claimSettleMs: number;
  // Definitions are created one at a time in this process, so two at once
  // cannot both pass the per-tenant limit.
  private creating: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ReportServiceDeps) {
    this.instance = deps.instance ?? `${process.pid}-${randomUUID()}`;
    this.claimSettleMs = deps.claimSettleMs ?? 1_000;
    this.gate = deps.gate ?? new ConcurrencyGate(deps.config.exportConcurrency);
  }

  private get reportsDir(): string {
    const dir = this.deps.config.reports.dir;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  // A schedule may not run more often than REPORT_MIN_INTERVAL_MINUTES.
  private checkSchedule(schedule: string): void {
    const minimum = this.deps.config.reports.minIntervalMinutes;
    const shortest = shortestIntervalMinutes(parseCron(schedule));
    if (shortest < minimum) throw new ActorlogError('BAD_REQUEST', `schedule "${schedule}" runs ${shortest} minutes apart; the shortest allowed is ${minimum} (REPORT_MIN_INTERVAL_MINUTES)`);
  }

  private async store(definition: ReportDefinition, version: number, deleted?: { by: string; at: string }): Promise<void> {
    const { search, paused, created_at, updated_at, updated_by, deleted: _d, ...fields } = definition;
    await store.insertDefinition(this.deps.storage, this.deps.tables, {
      ...fields,
      search: search ? JSON.stringify(search) : '',
      paused: paused ? 1 : 0,
      created_at: toClickHouseTime(created_at),
      updated_by: updated_by ?? '',
      updated_at: toClickHouseTime(updated_at ?? created_at),
      deleted: deleted ? 1 : 0,
      deleted_by: deleted?.by ?? '',
      deleted_at: toClickHouseTime(deleted ? deleted.at : 0),
      version,
    });
  }

  create(input: ReportInput, createdBy: string): Promise<ReportDefinition> {
    const created = this.creating.then(async () => {
      this.checkSchedule(input.schedule);
      const max = this.deps.config.reports.maxDefinitions;
      if ((await store.countDefinitions(this.deps.storage, this.deps.tables, input.tenant)) >= max) {
        throw new ActorlogError('TOO_MANY_DEFINITIONS', `tenant ${input.tenant} has ${max} (REPORT_MAX_DEFINITIONS)`);
      }
      const definition: ReportDefinition = { ...input, id: uuidv7(), paused: false, created_by: createdBy, created_at: new Date().toISOString(), updated_by: null, updated_at: null };
      await this.store(definition, Date.now());
      return definition;
    });
    this.creating = created.catch(() => undefined);
    return created;
  }

  // tenants null: every tenant. withDeleted: deleted definitions too, with who deleted them and when.
  async list(tenants: string[] | null, opts: { id?: string; withDeleted?: boolean } = {}): Promise<ReportDefinition[]> {
    const rows = await store.listDefinitions(this.deps.storage, this.deps.tables, tenants, opts);
    return rows.map((r) => {
      const { version: _v, ...definition } = this.definitionOf(r);
      return definition;
    });
  }

  async get(tenants: string[] | null, id: string, opts: { withDeleted?: boolean } = {}): Promise<ReportDefinition> {
    const [found] = await this.list(tenants, { id, ...opts });
    if (!found) throw new ActorlogError('NOT_FOUND', `no report ${id}`);
    return found;
  }

  private definitionOf(r: store.DefinitionRecord): ReportDefinition & { version: number } {
    const edited = r.updated_by !== '';
    return {
      id: r.id,
      name: r.name,
      kind: r.kind as ReportDefinition['kind'],
      tenant: r.tenant,
      period: r.period,
      schedule: r.schedule,
      format: r.format as ExportFormat,
      ...(r.search ? { search: JSON.parse(r.search) as ReportDefinition['search'] } : {}),
      paused: Number(r.paused) === 1,
      created_by: r.created_by,
      created_at: fromClickHouseTime(r.created_at),
      updated_by: edited ? r.updated_by : null,
      updated_at: edited ? fromClickHouseTime(r.updated_at) : null,
      ...(Number(r.deleted) === 1 ? { deleted: { by: r.deleted_by, at: fromClickHouseTime(r.deleted_at) } } : {}),
      version: Number(r.version),
    };
  }

  // A new version of a stored definition; versions only grow, even within one millisecond.
  private async revise(tenants: string[] | null, id: string, by: string, change: (d: ReportDefinition) => ReportDefinition, deleted = false): Promise<ReportDefinition> {
    const [row] = await store.listDefinitions(this.deps.storage, this.deps.tables, tenants, { id });
    if (!row) throw new ActorlogError('NOT_FOUND', `no report ${id}`);
    const { version, ...current } = this.definitionOf(row);
    const at = new Date().toISOString();
    const next = { ...change(current), updated_by: by, updated_at: at };
    await this.store(next, Math.max(Date.now(), version + 1), deleted ? { by, at } : undefined);
    return deleted ? { ...next, deleted: { by, at } } : next;
  }

  // name, period, schedule, format or search; the result is checked as a whole, as a new definition is.
  update(tenants: string[] | null, id: string, patch: ReportUpdate, by: string): Promise<ReportDefinition> {
    return this.revise(tenants, id, by, (current) => {
      const { id: _id, paused: _p, created_by: _cb, created_at: _ca, updated_by: _ub, updated_at: _ua, ...input } = current;
      const checked = reportInputSchema.safeParse({ ...input, ...patch });
      if (!checked.success) throw new ActorlogError('BAD_REQUEST', checked.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
      if (patch.schedule !== undefined) this.checkSchedule(checked.data.schedule);
      return { ...current, ...checked.data };
    });
  }

  setPaused(tenants: string[] | null, id: string, paused: boolean, by: string): Promise<ReportDefinition> {
    return this.revise(tenants, id, by, (current) => ({ ...current, paused }));
  }

  // The definition stops being listed and run; its runs, files and manifests stay.
  delete(tenants: string[] | null, id: string, by: string): Promise<ReportDefinition> {
    return this.revise(tenants, id, by, (current) => current, true);
  }

  async runs(tenants: string[] | null, reportId: string): Promise<RunSummary[]> {
    const rows = await store.listRuns(this.deps.storage, this.deps.tables, tenants, reportId);
    return rows.map((r) => ({
      ...r,
      row_count: Number(r.row_count),
      bytes: Number(r.bytes),
      period_from: fromClickHouseTime(r.period_from),
      period_to: fromClickHouseTime(r.period_to),
      due_at: fromClickHouseTime(r.due_at),
      generated_at: fromClickHouseTime(r.generated_at),
    }));
  }

  async runFile(tenants: string[] | null, runId: string): Promise<RunFile | undefined> {
    const row = await store.runFile(this.deps.storage, this.deps.tables, tenants, runId);
    if (!row) return undefined;
    const common = { manifest: row.manifest_jws, format: row.format, report_id: row.report_id };
    return row.file ? { ...common, path: path.join(this.deps.config.reports.dir, row.file) } : { ...common, content: row.content };
  }

  // Runs one report over [from, to) and records the run, failed or not.
  // Refused (TOO_MANY_EXPORTS, EXPORTS_BUSY) without a record when as many
  // runs and exports as allowed are running.
  async run(definition: ReportDefinition, opts: { runId: string; trigger: 'schedule' | 'manual'; dueAt: number; by: string }): Promise<RunSummary> {
    const leave = this.gate.enter([definition.tenant]);
    try {
      return await this.runInside(definition, opts);
    } finally {
      leave();
    }
  }

  private async runInside(definition: ReportDefinition, opts: { runId: string; trigger: 'schedule' | 'manual'; dueAt: number; by: string }): Promise<RunSummary> {
    const to = opts.dueAt;
    const from = to - parsePeriod(definition.period);
    const generatedAt = new Date().toISOString();
    const base = {
      run_id: opts.runId,
      report_id: definition.id,
      tenant: definition.tenant,
      trigger: opts.trigger,
      due_at: toClickHouseTime(to),
      period_from: toClickHouseTime(from),
      period_to: toClickHouseTime(to),
      format: definition.format,
      generated_at: toClickHouseTime(generatedAt),
      generated_by: opts.by,
    };
    // Each attempt its own file: a run id tried twice never overwrites a file a stored manifest names.
    const name = `${opts.runId}.${randomUUID().slice(0, 8)}`;
    const fileName = `${name}.${EXPORT_EXTENSIONS[definition.format]}`;
    let record: store.RunRecord;
    const started = performance.now();
    try {
      const dir = this.reportsDir;
      const rows = reportRows(this.deps.storage, this.deps.tables, definition, { from, to }, streamBounds(this.deps.config.streams));
      const written = await writeReportFile(path.join(dir, fileName), rows, exportEncoder(definition.format));
      const { id, name: reportName, kind, tenant, period, schedule, format, search } = definition;
      const [checkpoint, covered] = await Promise.all([latestCheckpoint(this.deps.storage, this.deps.tables), coverageOf(this.deps.storage, this.deps.tables, tenant, { from, to })]);
      const coverage = { checkpoint: checkpoint ? { size: checkpoint.size, note: checkpoint.note } : null, ...covered };
      // A file that is every event of the period covers exactly what it holds
      // (counted as written, so events stored meanwhile cannot make the two differ).
      if (fileIsWholeLog({ report: definition, row_count: written.rows })) coverage.emitters = written.contents.emitters;
      const manifest: Manifest = {
        v: 1,
        run_id: opts.runId,
        report: { id, name: reportName, kind, tenant, period, schedule, format, ...(search ? { search } : {}) },
        period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        trigger: opts.trigger,
        row_count: written.rows,
        bytes: written.bytes,
        sha256: written.sha256,
        generated_at: generatedAt,
        generated_by: opts.by,
        contents: written.contents,
        coverage,
      };
      const manifestJws = await this.deps.key.sign(manifest);
      fs.writeFileSync(path.join(dir, `${name}.manifest.jws`), manifestJws, { mode: 0o600, flag: 'wx' });
      record = { ...base, status: 'ok', error: '', row_count: written.rows, bytes: written.bytes, sha256: written.sha256, file: fileName, content: '', manifest_jws: manifestJws };
      this.deps.metrics?.batch('reports', { received: written.rows, sent: written.rows, durationMs: performance.now() - started });
    } catch (err) {
      this.deps.metrics?.error('reports', err);
      const bound = streamBoundOf(err);
      if (bound) this.deps.metrics?.add('actorlog_stream_timeouts_total', { work: 'report', bound });
      this.deps.logger.error('report run failed', { report: definition.id, run: opts.runId, ...errorFields(err) });
      record = { ...base, status: 'failed', error: (err as Error).message.slice(0, 2000), row_count: 0, bytes: 0, sha256: '', file: '', content: '', manifest_jws: '' };
    }
    await store.insertRun(this.deps.storage, this.deps.tables, record);
    const { content: _content, manifest_jws: _m, file: _f, ...summary } = record;
    return {
      ...summary,
      status: summary.status as RunSummary['status'],
      period_from: fromClickHouseTime(summary.period_from),
      period_to: fromClickHouseTime(summary.period_to),
      due_at: fromClickHouseTime(summary.due_at),
      generated_at: generatedAt,
    };
  }

  runNow(definition: ReportDefinition, by: string): Promise<RunSummary> {
    return this.run(definition, { runId: uuidv7(), trigger: 'manual', dueAt: Date.now(), by });
  }

  // Every definition whose latest due time has no successful run yet and that
  // this instance wins the claim for. Returns the run ids it ran.
  async runDue(now = Date.now()): Promise<string[]> {
    const ran: string[] = [];
    for (const definition of await this.list(null)) {
      if (definition.paused) continue;
      const due = lastDueAt(parseCron(definition.schedule), now);
      if (due === undefined || due < Date.parse(definition.created_at)) continue;
      const runId = `sched-${createHash('sha256').update(`${definition.id}\u0000${due}`).digest('hex').slice(0, 32)}`;
      if ((await store.runSucceeded(this.deps.storage, this.deps.tables, runId)) || !(await this.claim(runId, now))) continue;
      try {
        await this.run(definition, { runId, trigger: 'schedule', dueAt: due, by: `scheduler:${this.instance}` });
      } catch (err) {
        // At the bound of runs at once: still due, so a later tick runs it.
        if (err instanceof ActorlogError && (err.code === 'TOO_MANY_EXPORTS' || err.code === 'EXPORTS_BUSY')) continue;
        throw err;
      }
      ran.push(runId);
    }
    return ran;
  }

  private async claim(runId: string, now: number): Promise<boolean> {
    await store.insertClaim(this.deps.storage, this.deps.tables, runId, this.instance, now);
    await sleep(this.claimSettleMs);
    const winner = await store.earliestClaim(this.deps.storage, this.deps.tables, runId, now - CLAIM_TTL_MS);
    return winner === this.instance;
  }
}

export function startScheduler(service: ReportService, tickMs: number, logger: Logger): Periodic {
  return every(
    tickMs,
    async () => {
      const ran = await service.runDue();
      if (ran.length > 0) logger.info('scheduled reports ran', { runs: ran });
    },
    (err) => logger.warn('report scheduler tick failed', errorFields(err)),
  );
}
