// Quarantine is bounded: refused records are kept with their bytes only up to
// a budget per window, per sender and overall; the sender is the emitter
// ingest authenticated, or the client address when none was (INGEST_AUTH=off),
// never what the refused bytes claim. Past the budget a
// record is counted, not stored (one row per cap, key and reason in each
// batch: how many, how many bytes, a digest of their SHA-256s, and when).
// Bytes kept per record are bounded too: a longer record keeps its first
// QUARANTINE_RAW_MAX_BYTES, with its original length and SHA-256 of the whole.
// The budget lives in the process that writes quarantine (embedded ingest, or
// each processor): N processors may keep up to N times the global cap.
import { createHash } from 'node:crypto';
import type { QuarantineCaps } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { toClickHouseTime } from '../lib/time.js';
import type { QuarantineDropped, QuarantineRow } from '../store/quarantine.js';

type Cap = 'emitter' | 'address' | 'global';

interface Spent {
  windowStart: number;
  rows: number;
  bytes: number;
  warned: boolean;
}

// Keys remembered at most; a forgotten key starts a fresh budget, which the
// global cap still bounds.
const MAX_KEYS = 100_000;

export class QuarantineBudget {
  private readonly spent = new Map<string, Spent>();

  constructor(
    private readonly caps: QuarantineCaps,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  private entry(cap: Cap, key: string, now: number): Spent {
    const id = `${cap}\u0000${key}`;
    const windowStart = now - (now % this.caps.windowMs);
    let spent = this.spent.get(id);
    if (!spent || spent.windowStart !== windowStart) {
      spent = { windowStart, rows: 0, bytes: 0, warned: false };
      this.spent.delete(id);
      this.spent.set(id, spent);
      if (this.spent.size > MAX_KEYS) this.spent.delete(this.spent.keys().next().value!);
    }
    return spent;
  }

  // Truncates what is too long, keeps what fits the budget, and counts the rest.
  apply(rows: readonly QuarantineRow[], now = Date.now()): { kept: QuarantineRow[]; dropped: QuarantineDropped[] } {
    const kept: QuarantineRow[] = [];
    const dropped = new Map<string, QuarantineDropped & { hash: ReturnType<typeof createHash> }>();
    for (const row of rows) {
      this.truncate(row);
      const size = Math.ceil((row.raw_base64.length * 3) / 4);
      const budgets: [Cap, string, number, number][] = [
        row.caller ? ['emitter', row.caller, this.caps.rowsPerSource, this.caps.bytesPerSource] : ['address', row.address, this.caps.rowsPerSource, this.caps.bytesPerSource],
        ['global', '', this.caps.rowsGlobal, this.caps.bytesGlobal],
      ];
      const entries = budgets.map(([cap, key, maxRows, maxBytes]) => ({ cap, key, maxRows, maxBytes, spent: this.entry(cap, key, now) }));
      const full = entries.find((e) => e.spent.rows + 1 > e.maxRows || e.spent.bytes + size > e.maxBytes);
      if (!full) {
        for (const e of entries) {
          e.spent.rows += 1;
          e.spent.bytes += size;
        }
        kept.push(row);
        continue;
      }
      this.metrics.add('actorlog_quarantine_dropped_total', { stage: row.stage, cap: full.cap, reason: row.reason });
      if (!full.spent.warned) {
        full.spent.warned = true;
        this.logger.warn('quarantine cap reached: further refused records of this window are counted, not stored', {
          cap: full.cap,
          key: full.key,
          window_start: new Date(full.spent.windowStart).toISOString(),
        });
      }
      const group = `${row.stage}\u0000${full.cap}\u0000${full.key}\u0000${row.reason}`;
      let count = dropped.get(group);
      if (!count) {
        count = {
          // The first dropped record names the count, so a redelivered batch lands on the same row.
          drop_id: `${row.quarantine_id}/${full.cap}`,
          window_start: toClickHouseTime(full.spent.windowStart),
          first_received_at: row.received_at,
          last_received_at: row.received_at,
          stage: row.stage,
          cap: full.cap,
          cap_key: full.key,
          reason: row.reason,
          records: 0,
          bytes: 0,
          digest: '',
          hash: createHash('sha256'),
        };
        dropped.set(group, count);
      }
      count.records += 1;
      count.bytes += row.raw_bytes;
      count.last_received_at = row.received_at;
      count.hash.update(row.raw_sha256);
    }
    return {
      kept,
      dropped: [...dropped.values()].map(({ hash, ...count }) => ({ ...count, digest: hash.digest('hex') })),
    };
  }

  private truncate(row: QuarantineRow): void {
    const max = this.caps.rawMaxBytes;
    if (row.raw_bytes <= max) return;
    row.raw_base64 = Buffer.from(row.raw_base64, 'base64').subarray(0, max).toString('base64');
    row.raw_truncated = 1;
    this.metrics.add('actorlog_quarantine_truncated_total', { stage: row.stage });
  }
}
