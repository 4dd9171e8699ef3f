// The bounds on report and export work: how often a schedule runs, how many
// exports and runs at once, and what `report verify` rechecks of a manifest
// against the file (rows, period, events per emitter, coverage).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseCron, shortestIntervalMinutes } from '../../reports/cron.js';
import { ConcurrencyGate } from '../../lib/concurrency.js';
import { ActorlogError } from '../../lib/errors.js';
import { FileTally, ContentsTally, rowFacts } from '../../reports/contents.js';
import { loadReportKey, verifyReport, type Manifest } from '../../reports/signing.js';
import { exportEncoder, type ExportFormat } from '../../schemas/export-formats.js';
import { normalise } from '../../processor/normalise.js';
import { present } from '../../store/present.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import { fullEvent, tempDir } from '../helpers/fixtures.js';

describe('schedules: the shortest time between two runs', () => {
  for (const [schedule, minutes] of [
    ['* * * * *', 1],
    ['*/5 * * * *', 5],
    ['0 */2 * * *', 120],
    ['0 0,12 * * *', 720],
    ['30 23 * * *', 1440],
    ['0 6 * * 1', 10080],
    ['59 23 * * 1-5', 1440],
    ['0 0 1 * *', 28 * 1440],
  ] as const) {
    test(`"${schedule}" runs ${minutes} minutes apart at the closest`, () => assert.equal(shortestIntervalMinutes(parseCron(schedule)), minutes));
  }
});

describe('concurrency gate', () => {
  test('per tenant (429) and in all (503), counted, places given back once', () => {
    const refused: string[] = [];
    const gate = new ConcurrencyGate({ perTenant: 1, total: 2 }, (limit) => refused.push(limit));
    const acme = gate.enter(['acme']);
    assert.throws(() => gate.enter(['acme']), (err: ActorlogError) => err.code === 'TOO_MANY_EXPORTS' && err.statusCode === 429 && err.retriable);
    assert.throws(() => gate.enter(['globex', 'acme']), (err: ActorlogError) => err.code === 'TOO_MANY_EXPORTS');
    const globex = gate.enter(['globex']);
    assert.throws(() => gate.enter(['initech']), (err: ActorlogError) => err.code === 'EXPORTS_BUSY' && err.statusCode === 503);
    assert.deepEqual(refused, ['tenant', 'tenant', 'total']);
    acme();
    acme(); // a second call gives nothing back twice
    assert.equal(gate.active, 1);
    const again = gate.enter(['acme']);
    assert.throws(() => gate.enter(null), (err: ActorlogError) => err.code === 'EXPORTS_BUSY');
    again();
    globex();
    const all = gate.enter(null);
    assert.throws(() => gate.enter(null), (err: ActorlogError) => err.code === 'TOO_MANY_EXPORTS', 'every tenant counts as one');
    all();
    assert.equal(gate.active, 0);
  });
});

// Event rows as a saved search presents them.
const events = (source: string, seqs: number[], start = Date.parse('2026-01-01T10:00:00Z')) =>
  seqs.map((seq, i) => ({
    id: `${source}-${seq}`,
    tenant: 'acme',
    type: 'mcp.tool.call',
    time: new Date(start + i * 1000).toISOString(),
    seq,
    source,
    note: 'a "quoted", comma\r\nand a line break',
  }));

describe('report files read back as written', () => {
  test('CSV with quotes, commas and line breaks, fed a byte at a time, tallies as the rows it was written from', () => {
    const rows = [...events('gw:a', [1, 2, 3]), ...events('gw:b', [7, 9])];
    const encode = exportEncoder('csv');
    const bytes = Buffer.from(rows.map(encode).join(''));
    const file = new FileTally('csv');
    for (const b of bytes) file.push(Uint8Array.of(b));
    const written = new ContentsTally();
    for (const row of rows) written.add(rowFacts(row));
    assert.deepEqual(file.end().result(), written.result());
    assert.deepEqual(written.result().emitters, [
      { source: 'gw:a', events: 3, first_seq: 1, last_seq: 3 },
      { source: 'gw:b', events: 2, first_seq: 7, last_seq: 9 },
    ]);
  });

  test('an NDJSON line that is not JSON is named', () => {
    const file = new FileTally('ndjson');
    assert.throws(() => {
      file.push(Buffer.from('{"a":1}\n{"b":\n'));
      file.end();
    }, /line 2 of the file is not JSON/);
  });
});

describe('report verify rechecks the manifest against the file', () => {
  const from = '2026-01-01T00:00:00.000Z';
  const to = '2026-01-02T00:00:00.000Z';
  // Rows as a saved search presents them: real stored events, two emitters.
  const stored = (source: string, seqs: number[]) =>
    events(source, seqs).map(({ time, seq }) => {
      const event = fullEvent(source, { time, seq } as never) as ActorlogEvent;
      return present(normalise({ ...event, time, seq }, { kid: 'k', rawJws: 'x.y.z', ingestedAt: Date.parse(time), skew: { futureMs: 1e9, pastMs: 1e12 } }) as unknown as Record<string, unknown>);
    });
  const rows = [...stored('gw:a', [1, 2, 3]), ...stored('gw:b', [5, 6])];

  async function signed(format: ExportFormat, change: (m: Manifest) => void = () => undefined, search: Record<string, unknown> = {}) {
    const key = await loadReportKey(path.join(tempDir(), 'report.jwk'));
    const encode = exportEncoder(format);
    const body = Buffer.from(rows.map(encode).join(''));
    const tally = new ContentsTally();
    for (const row of rows) tally.add(rowFacts(row));
    const { createHash } = await import('node:crypto');
    const manifest: Manifest = {
      v: 1,
      run_id: 'run-1',
      report: { id: 'r', name: 'all', kind: 'saved_search', tenant: 'acme', period: 'P1D', schedule: '0 6 * * *', format, search },
      period: { from, to },
      trigger: 'manual',
      row_count: rows.length,
      bytes: body.byteLength,
      sha256: createHash('sha256').update(body).digest('hex'),
      generated_at: to,
      generated_by: 'test',
      contents: tally.result(),
      coverage: { checkpoint: null, emitters: tally.result().emitters, gaps: [], chain_breaks: [], quarantined: 0 },
    };
    change(manifest);
    return { body, jws: await key.sign(manifest), jwks: key.jwks };
  }
  const verdictOf = async (format: ExportFormat, change?: (m: Manifest) => void, search?: Record<string, unknown>) => {
    const { body, jws, jwks } = await signed(format, change, search);
    return verifyReport(body, jws, jwks);
  };
  const reason = async (...args: Parameters<typeof verdictOf>) => {
    const verdict = await verdictOf(...args);
    assert.equal(verdict.ok, false, 'the verdict should fail');
    return (verdict as { reason: string }).reason;
  };

  test('an honest manifest verifies in every format, saying what was checked', async () => {
    for (const format of ['csv', 'ndjson', 'ocsf'] as const) {
      const verdict = await verdictOf(format);
      assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
      assert.match(verdict.checked.join('\n'), /5 rows and every time in the period/);
      assert.match(verdict.checked.join('\n'), /equal to it: the file is every event of the period/);
    }
  });

  test('a coverage claim the file does not bear out fails, though signed', async () => {
    assert.match(
      await reason('csv', (m) => (m.coverage!.emitters[0]!.last_seq = 4)),
      /emitter gw:a: the coverage says the period holds 3 events, seq 1-4, the file \(every event of the period\) has 3 events, seq 1-3/,
    );
    assert.match(await reason('ndjson', (m) => m.coverage!.emitters.push({ source: 'gw:c', first_seq: 1, last_seq: 1, events: 1 })), /emitter gw:c: the coverage says/);
    assert.match(await reason('ndjson', (m) => (m.coverage!.emitters = m.coverage!.emitters.slice(1))), /emitter gw:a: the file has 3 events, seq 1-3, beyond the coverage's none/);
    // A filtered search holds some of the period's events: within the coverage is enough, beyond it is not.
    assert.ok((await verdictOf('csv', (m) => (m.coverage!.emitters[0]!.events = 10), { human: 'u-bob' })).ok);
    assert.match(await reason('csv', (m) => (m.coverage!.emitters[0]!.first_seq = 2), { human: 'u-bob' }), /beyond the coverage's 3 events, seq 2-3/);
  });

  test('contents, row count and period claims are rechecked too', async () => {
    assert.match(await reason('ocsf', (m) => (m.contents!.emitters[1]!.events = 1)), /emitter gw:b: the manifest says the file has 1 events, seq 5-6, the file has 2 events, seq 5-6/);
    assert.match(await reason('csv', (m) => (m.row_count = 4)), /the file has 5 rows, the manifest says 4/);
    assert.match(await reason('csv', (m) => (m.period.from = '2026-01-01T10:00:02.000Z')), /is not the report's P1D/);
    assert.match(
      await reason('csv', (m) => {
        m.period = { from: '2026-01-01T10:00:02.000Z', to: '2026-01-02T10:00:02.000Z' };
      }),
      /outside the period/,
    );
  });
});
