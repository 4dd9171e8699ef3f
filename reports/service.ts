// Report definitions, runs and their history in ClickHouse. A run queries the
// rows of its kind, writes the file (CSV or NDJSON), hashes it, and signs a
// manifest with actorlog's report key. Scheduled runs happen once per due
// time even with several instances: each instance claims the run, and only
// the earliest claim runs it; the run id derives from (report, due time), so
// even a double run leaves one row.
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage, Tables } from '../store/client.js';
import * as store from '../store/reports.js';
import { coverageOf } from '../store/coverage.js';
import { latestCheckpoint } from '../store/transparency-log.js';
import { fromClickHouseTime, toClickHouseTime } from '../lib/time.js';
import { exportEncoder, type ExportFormat } from '../schemas/export-formats.js';
import type { Logger } from '../lib/logger.js';
import { errorFields } from '../lib/logger.js';
import { every, type Periodic } from '../lib/periodic.js';
import { uuidv7 } from '@actorlog/sdk';
import { lastDueAt, parseCron, parsePeriod } from './cron.js';
import type { ReportDefinition, ReportInput } from './definition.js';
import { reportRows } from './kinds.js';
import { sha256Hex, type Manifest, type ReportKey } from './signing.js';

// A run as the API answers it: the stored run without its file and manifest.
export type RunSummary = store.RunSummaryRecord;

export interface ReportServiceDeps {
  storage: Storage;
  tables: Tables;
  key: ReportKey;
  logger: Logger;
  // Identifies this process among the instances claiming scheduled runs.
  instance?: string;
  // How long claims may arrive before the earliest one wins.
  claimSettleMs?: number;
}

// A claim older than this no longer blocks others (its instance may be gone).
const CLAIM_TTL_MS = 10 * 60_000;

export class ReportService {
  readonly instance: string;
  private readonly claimSettleMs: number;

  constructor(private readonly deps: ReportServiceDeps) {
    this.instance = deps.instance ?? `${process.pid}-${randomUUID()}`;
    this.claimSettleMs = deps.claimSettleMs ?? 1_000;
  }

  async create(input: ReportInput, createdBy: string): Promise<ReportDefinition> {
    const definition: ReportDefinition = { ...input, id: uuidv7(), created_by: createdBy, created_at: new Date().toISOString() };
    const { search: _search, ...fields } = definition;
    await store.insertDefinition(
      this.deps.storage,
      this.deps.tables,
      { ...fields, search: input.search ? JSON.stringify(input.search) : '', created_at: toClickHouseTime(definition.created_at) },
      Date.now(),
    );
    return definition;
  }

  // tenants null: every tenant.
  async list(tenants: string[] | null, id?: string): Promise<ReportDefinition[]> {
    const rows = await store.listDefinitions(this.deps.storage, this.deps.tables, tenants, id);
    return rows.map((r) => ({ ...r, search: r.search ? JSON.parse(r.search) : undefined, created_at: fromClickHouseTime(r.created_at) }) as ReportDefinition);
  }

  async runs(tenants: string[] | null, reportId: string): Promise<RunSummary[]> {
    const rows = await store.listRuns(this.deps.storage, this.deps.tables, tenants, reportId);
    return rows.map((r) => ({
      ...r,
      row_count: Number(r.row_count),
      period_from: fromClickHouseTime(r.period_from),
      period_to: fromClickHouseTime(r.period_to),
      due_at: fromClickHouseTime(r.due_at),
      generated_at: fromClickHouseTime(r.generated_at),
    }));
  }

  async runFile(tenants: string[] | null, runId: string): Promise<{ content: string; manifest: string; format: ExportFormat; report_id: string } | undefined> {
    const row = await store.runFile(this.deps.storage, this.deps.tables, tenants, runId);
    return row ? { content: row.content, manifest: row.manifest_jws, format: row.format, report_id: row.report_id } : undefined;
  }

  // Runs one report over [from, to) and records the run, failed or not.
  async run(definition: ReportDefinition, opts: { runId: string; trigger: 'schedule' | 'manual'; dueAt: number; by: string }): Promise<RunSummary> {
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
    let record: store.RunRecord;
    try {
      const encode = exportEncoder(definition.format);
      const parts: string[] = [];
      let rowCount = 0;
      for await (const rows of reportRows(this.deps.storage, this.deps.tables, definition, { from, to })) {
        for (const row of rows) parts.push(encode(row));
        rowCount += rows.length;
      }
      const content = parts.join('');
      const bytes = Buffer.from(content, 'utf8');
      const { id, name, kind, tenant, period, schedule, format, search } = definition;
      const [checkpoint, covered] = await Promise.all([latestCheckpoint(this.deps.storage, this.deps.tables), coverageOf(this.deps.storage, this.deps.tables, tenant, { from, to })]);
      const manifest: Manifest = {
        v: 1,
        run_id: opts.runId,
        report: { id, name, kind, tenant, period, schedule, format, ...(search ? { search } : {}) },
        period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        trigger: opts.trigger,
        row_count: rowCount,
        bytes: bytes.byteLength,
        sha256: sha256Hex(bytes),
        generated_at: generatedAt,
        generated_by: opts.by,
        coverage: { checkpoint: checkpoint ? { size: checkpoint.size, note: checkpoint.note } : null, ...covered },
      };
      const manifestJws = await this.deps.key.sign(manifest);
      record = { ...base, status: 'ok', error: '', row_count: rowCount, sha256: manifest.sha256, content, manifest_jws: manifestJws };
    } catch (err) {
      this.deps.logger.error('report run failed', { report: definition.id, run: opts.runId, ...errorFields(err) });
      record = { ...base, status: 'failed', error: (err as Error).message.slice(0, 2000), row_count: 0, sha256: '', content: '', manifest_jws: '' };
    }
    await store.insertRun(this.deps.storage, this.deps.tables, record);
    const { content: _content, manifest_jws: _m, ...summary } = record;
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
      const due = lastDueAt(parseCron(definition.schedule), now);
      if (due === undefined || due < Date.parse(definition.created_at)) continue;
      const runId = `sched-${createHash('sha256').update(`${definition.id}\u0000${due}`).digest('hex').slice(0, 32)}`;
      if ((await store.runSucceeded(this.deps.storage, this.deps.tables, runId)) || !(await this.claim(runId, now))) continue;
      await this.run(definition, { runId, trigger: 'schedule', dueAt: due, by: `scheduler:${this.instance}` });
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
