// Per-emitter sequence tracking: gaps (lost events), late arrivals that fill
// them (reordering), and silence (no event, not even a heartbeat, for longer
// than allowed). Times are ingest receipt times, never the emitter's clock.
import type { Storage, Tables } from '../../store/client.js';
import type { EventRow } from '../../schemas/row.js';
import { loadEmitterStates, loadOpenGaps } from '../../store/state/sequences.js';
import type { StateWrite } from '../../store/state/writes.js';
import { fromClickHouseTime, toClickHouseTime } from '../../lib/time.js';
import type { Flag } from '../../schemas/flags.js';
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

  // Drops what is cached, so the next batch reads it from storage again.
  forget(): void {
    this.tracks.clear();
  }

  async load(sources: Iterable<string>): Promise<void> {
    const missing = [...new Set(sources)].filter((s) => !this.tracks.has(s));
    if (missing.length === 0) return;
    const [states, gaps] = await Promise.all([
      loadEmitterStates(this.storage, this.tables, missing),
      loadOpenGaps(this.storage, this.tables, missing),
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
    return new SequenceStage(this.tracks, this.silentAfterMs);
  }
}

export class SequenceStage {
  private readonly staged = new Map<string, Track>();
  private readonly changedGaps = new Map<string, { source: string; gap: Gap }>();

  constructor(
    private readonly tracks: Map<string, Track>,
    private readonly silentAfterMs: number,
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

  writes(): StateWrite[] {
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
      { table: 'emitterState', values: emitterRows },
      { table: 'sequenceGaps', values: gapRows },
    ];
  }

  commit(): void {
    for (const [source, t] of this.staged) {
      t.gaps = t.gaps.filter((g) => g.closedAt === null);
      this.tracks.set(source, t);
    }
  }
}
