// Per-emitter sequence tracking: gaps (lost events), late arrivals that fill
// them (reordering), and silence (no event, not even a heartbeat, for longer
// than allowed). Times are ingest receipt times, never the emitter's clock.
import { select, type Storage, type Tables } from '../../lib/storage.js';
import { fromClickHouseTime, toClickHouseTime } from '../../lib/time.js';
import type { EventRow, Flag } from '../../schemas/row.js';
import { nextVersion } from './versions.js';

interface Gap {
  from: number;
  to: number;
  detectedAt: number;
  detectedBy: string;
  late: number[];
  closedAt: number | null;
}

interface Track {
  lastSeq: number;
  lastSeen: number | null;
  lastHeartbeat: number | null;
  gaps: Gap[];
}

const clone = (t: Track): Track => ({ ...t, gaps: t.gaps.map((g) => ({ ...g, late: [...g.late] })) });
const ms = (v: string | null) => (v === null ? null : Date.parse(fromClickHouseTime(v)));

export class SequenceState {
  private readonly tracks = new Map<string, Track>();

  constructor(
    private readonly storage: Storage,
    private readonly tables: Tables,
    private readonly silentAfterMs: number,
  ) {}

  async load(sources: Iterable<string>): Promise<void> {
    const missing = [...new Set(sources)].filter((s) => !this.tracks.has(s));
    if (missing.length === 0) return;
    const [states, gaps] = await Promise.all([
      select<{ source: string; last_seq: string; last_seen: string; last_heartbeat: string | null }>(
        this.storage,
        `SELECT source, last_seq, last_seen, last_heartbeat FROM ${this.tables.emitterState} FINAL WHERE source IN {sources:Array(String)}`,
        { sources: missing },
      ),
      select<{ source: string; gap_from: string; gap_to: string; detected_at: string; detected_by_event: string; late_arrivals: string[] }>(
        this.storage,
        `SELECT source, gap_from, gap_to, detected_at, detected_by_event, late_arrivals FROM ${this.tables.sequenceGaps} FINAL
         WHERE source IN {sources:Array(String)} AND closed_at IS NULL`,
        { sources: missing },
      ),
    ]);
    for (const source of missing) this.tracks.set(source, { lastSeq: 0, lastSeen: null, lastHeartbeat: null, gaps: [] });
    for (const s of states) {
      Object.assign(this.tracks.get(s.source)!, { lastSeq: Number(s.last_seq), lastSeen: ms(s.last_seen), lastHeartbeat: ms(s.last_heartbeat) });
    }
    for (const g of gaps) {
      this.tracks.get(g.source)!.gaps.push({
        from: Number(g.gap_from),
        to: Number(g.gap_to),
        detectedAt: ms(g.detected_at)!,
        detectedBy: g.detected_by_event,
        late: g.late_arrivals.map(Number),
        closedAt: null,
      });
    }
  }

  // Changes are made on copies and become the state only on commit(), after
  // the batch is stored: a failed write leaves the state as it was.
  stage(): SequenceStage {
    return new SequenceStage(this.tracks, this.silentAfterMs, this.tables);
  }
}

export class SequenceStage {
  private readonly staged = new Map<string, Track>();
  private readonly changedGaps = new Map<string, { source: string; gap: Gap }>();

  constructor(
    private readonly tracks: Map<string, Track>,
    private readonly silentAfterMs: number,
    private readonly tables: Tables,
  ) {}

  private track(source: string): Track {
    let t = this.staged.get(source);
    if (!t) {
      t = clone(this.tracks.get(source) ?? { lastSeq: 0, lastSeen: null, lastHeartbeat: null, gaps: [] });
      this.staged.set(source, t);
    }
    return t;
  }

  observe(row: EventRow, receivedAt: number): Flag[] {
    const flags: Flag[] = [];
    const t = this.track(row.source);
    const seq = row.seq;
    if (t.lastSeen !== null && receivedAt - t.lastSeen > this.silentAfterMs) flags.push('emitter_silent');

    if (seq > t.lastSeq + 1) {
      const gap: Gap = { from: t.lastSeq + 1, to: seq - 1, detectedAt: receivedAt, detectedBy: row.id, late: [], closedAt: null };
      t.gaps.push(gap);
      this.changedGaps.set(`${row.source}\u0000${gap.from}`, { source: row.source, gap });
      flags.push('sequence_gap');
    } else if (seq <= t.lastSeq) {
      const gap = t.gaps.find((g) => g.closedAt === null && seq >= g.from && seq <= g.to && !g.late.includes(seq));
      if (gap) {
        gap.late.push(seq);
        if (gap.late.length === gap.to - gap.from + 1) gap.closedAt = receivedAt;
        this.changedGaps.set(`${row.source}\u0000${gap.from}`, { source: row.source, gap });
      }
    }
    t.lastSeq = Math.max(t.lastSeq, seq);
    t.lastSeen = Math.max(t.lastSeen ?? receivedAt, receivedAt);
    if (row.type === 'emitter.heartbeat') t.lastHeartbeat = receivedAt;
    return flags;
  }

  writes(): { table: string; values: Record<string, unknown>[] }[] {
    const now = Date.now();
    const emitterRows = [...this.staged].map(([source, t]) => ({
      source,
      last_seq: t.lastSeq,
      last_seen: toClickHouseTime(t.lastSeen ?? now),
      last_heartbeat: t.lastHeartbeat === null ? null : toClickHouseTime(t.lastHeartbeat),
      silent_since: null,
      updated_at: toClickHouseTime(now),
    }));
    const gapRows = [...this.changedGaps.values()].map(({ source, gap }) => ({
      source,
      gap_from: gap.from,
      gap_to: gap.to,
      detected_at: toClickHouseTime(gap.detectedAt),
      detected_by_event: gap.detectedBy,
      missing: gap.to - gap.from + 1 - gap.late.length,
      late_arrivals: gap.late,
      closed_at: gap.closedAt === null ? null : toClickHouseTime(gap.closedAt),
      version: nextVersion(now),
    }));
    return [
      { table: this.tables.emitterState, values: emitterRows },
      { table: this.tables.sequenceGaps, values: gapRows },
    ];
  }

  commit(): void {
    for (const [source, t] of this.staged) {
      t.gaps = t.gaps.filter((g) => g.closedAt === null);
      this.tracks.set(source, t);
    }
  }
}

// Marks emitters that sent nothing, not even a heartbeat, for longer than
// allowed. Run periodically; the mark clears with the emitter's next event.
export async function markSilentEmitters(storage: Storage, tables: Tables, silentAfterMs: number, now = Date.now()): Promise<void> {
  await storage.command({
    query: `INSERT INTO ${tables.emitterState}
      SELECT source, last_seq, last_seen, last_heartbeat,
             last_seen + toIntervalMillisecond({after:UInt64}), {now:DateTime64(3, 'UTC')}
      FROM ${tables.emitterState} FINAL
      WHERE silent_since IS NULL AND last_seen < {now:DateTime64(3, 'UTC')} - toIntervalMillisecond({after:UInt64})`,
    query_params: { after: silentAfterMs, now: toClickHouseTime(now) },
  });
}
