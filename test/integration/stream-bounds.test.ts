// Streamed reads are bounded (STREAM_TIMEOUT_MS overall, STREAM_IDLE_TIMEOUT_MS
// waiting for storage's next chunk), on the real engine with tiny bounds: an
// export past a bound ends cut short with a `stream_aborted` access-log row, a
// report run past one is recorded failed with the reason and leaves no file,
// and each is counted on /metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startQueryApi, type Context, type Running } from '../../cli/services.js';
import { ReportService } from '../../reports/service.js';
import { loadReportKey } from '../../reports/signing.js';
import type { ReportDefinition } from '../../reports/definition.js';
import { createLogger } from '../../lib/logger.js';
import { generateEvents } from '../helpers/generated-events.js';
import { ANALYST_TOKEN, api, context, eventually, rowsOf, testConfig } from '../helpers/services.js';

const EVENTS = 20_000;
const TENANT = 'acme';

const metric = async (base: string, line: string): Promise<number> => {
  const text = (await api(base, '/metrics', null)).body as string;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
};

describe('stream bounds', { timeout: 240_000 }, () => {
  let ctx: Context;
  const running: Running[] = [];
  // A query API of the same storage with its own stream bounds.
  const queryApi = async (streams: { timeoutMs: number; idleTimeoutMs: number }) => {
    const started = await startQueryApi({ ...ctx, config: { ...ctx.config, streams } });
    running.push(started);
    return started.queryUrl!;
  };
  const accessRows = (requestId: string) =>
    rowsOf<{ phase: string; rows: number; status: number }>(ctx, `SELECT phase, rows, status FROM ${ctx.tables.accessLog} WHERE request_id = {id:String} ORDER BY phase`, { id: requestId });

  before(async () => {
    ctx = await context(testConfig());
    await generateEvents(ctx.storage, ctx.tables, { tenant: TENANT, source: 'gw:stream-bounds', count: EVENTS });
  });
  after(async () => {
    for (const r of running) await r.close();
    await ctx?.storage.close();
  });

  test('an export whose reader stalls past STREAM_TIMEOUT_MS is cut short, logged aborted, counted', async () => {
    const q = await queryApi({ timeoutMs: 1_500, idleTimeoutMs: 60_000 });
    const response = await fetch(`${q}/v1/events/export?tenant=${TENANT}&since=1h&format=ndjson`, { headers: { authorization: `Bearer ${ANALYST_TOKEN}` } });
    assert.equal(response.status, 200);
    const requestId = response.headers.get('x-request-id')!;
    const reader = response.body!.getReader();
    let lines = 0;
    const first = await reader.read();
    for (const b of first.value ?? []) if (b === 10) lines++;
    // The reader stops reading past the deadline; the server cuts the stream.
    await sleep(3_000);
    let cut: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const b of value) if (b === 10) lines++;
      }
    } catch (err) {
      cut = err;
    }
    assert.ok(cut, 'the answer ended without its final chunk');
    assert.ok(lines < EVENTS, `${lines} of ${EVENTS} rows before the cut`);
    const rows = await eventually(async () => {
      const found = await accessRows(requestId);
      return found.some((r) => r.phase === 'stream_aborted') ? found : undefined;
    }, 'the stream_aborted row');
    assert.deepEqual(
      rows.map((r) => r.phase),
      ['stream_aborted', 'stream_started'],
    );
    assert.equal(await metric(q, 'actorlog_stream_timeouts_total{work="export",bound="total"}'), 1);
  });

  test('an export waiting on storage longer than STREAM_IDLE_TIMEOUT_MS is cut short, logged aborted, counted', async () => {
    const q = await queryApi({ timeoutMs: 600_000, idleTimeoutMs: 1 });
    const response = await fetch(`${q}/v1/events/export?tenant=${TENANT}&since=1h&format=ndjson`, { headers: { authorization: `Bearer ${ANALYST_TOKEN}` } });
    const requestId = response.headers.get('x-request-id')!;
    // Storage sends no first chunk in time: the answer is 504 when no byte had
    // gone out yet, else the stream is cut.
    const text = await response.text().catch((err: Error) => `cut: ${err.message}`);
    if (response.status === 504) assert.match(text, /"code":"STREAM_TIMEOUT".*STREAM_IDLE_TIMEOUT_MS/);
    else assert.match(`${response.status} ${text}`, /^200 cut: terminated/);
    const rows = await eventually(async () => {
      const found = await accessRows(requestId);
      return found.some((r) => r.phase === 'stream_aborted') ? found : undefined;
    }, 'the stream_aborted row');
    assert.equal(rows.find((r) => r.phase === 'stream_aborted')!.rows, 0);
    assert.equal(await metric(q, 'actorlog_stream_timeouts_total{work="export",bound="idle"}'), 1);
  });

  test('a report run past a stream bound is recorded failed with the reason, leaves no file, counted', async () => {
    const definition: ReportDefinition = {
      id: 'every-event',
      name: 'every event',
      kind: 'saved_search',
      tenant: TENANT,
      period: 'P1D',
      schedule: '0 6 * * 1',
      format: 'csv',
      search: {},
      paused: false,
      created_by: 'test',
      created_at: new Date().toISOString(),
      updated_by: null,
      updated_at: null,
    };
    const service = new ReportService({
      ...ctx,
      config: { ...ctx.config, streams: { timeoutMs: 600_000, idleTimeoutMs: 1 } },
      key: await loadReportKey(ctx.config.reports.signingKeyFile),
      logger: createLogger('test', 'silent'),
    });
    const run = await service.runNow(definition, 'test');
    assert.equal(run.status, 'failed');
    assert.match(run.error, /STREAM_IDLE_TIMEOUT_MS/);
    assert.deepEqual(fs.existsSync(ctx.config.reports.dir) ? fs.readdirSync(ctx.config.reports.dir) : [], []);
    const [stored] = await rowsOf<{ status: string; error: string }>(ctx, `SELECT status, error FROM ${ctx.tables.reportRuns} FINAL WHERE run_id = {id:String}`, { id: run.run_id });
    assert.equal(stored!.status, 'failed');
    assert.match(stored!.error, /STREAM_IDLE_TIMEOUT_MS/);
    assert.match(ctx.metrics.render(), /actorlog_stream_timeouts_total\{work="report",bound="idle"\} 1/);
  });
});
