// Per-emitter hash chains: an event's `prev` must be the SHA-256 of the
// compact JWS of the same emitter's event at seq - 1. A mismatch is a chain
// break, recorded apart from sequence gaps: it shows a withheld or replaced
// stretch even when the later seq values were made to look continuous. Only
// direct successors are checked; across a gap the gap is the finding. A
// link that verifies names its predecessor on the row (prev_event_id), which
// the OCSF mapping carries as attestation.prev_event.
import { createHash } from 'node:crypto';
import type { Storage, Tables } from '../../store/client.js';
import { loadChainHeads } from '../../store/state/chains.js';
import type { StateWrite } from '../../store/state/writes.js';
import { toClickHouseTime } from '../../lib/time.js';
import type { EventRow } from '../../schemas/row.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import type { Flag } from '../../schemas/flags.js';

interface Head {
  seq: number;
  digest: string;
  // the head event's id ('' for a head stored before ids were kept)
  id: string;
}

export const jwsDigest = (jws: string) => createHash('sha256').update(jws, 'utf8').digest('hex');

export class ChainState {
  private readonly heads = new Map<string, Head | null>();

  constructor(
    private readonly storage: Storage,
    private readonly tables: Tables,
  ) {}

  // Drops what is cached, so the next batch reads it from storage again.
  forget(): void {
    this.heads.clear();
  }

  async load(sources: Iterable<string>): Promise<void> {
    const missing = [...new Set(sources)].filter((s) => !this.heads.has(s));
    if (missing.length === 0) return;
    const rows = await loadChainHeads(this.storage, this.tables, missing);
    for (const source of missing) this.heads.set(source, null);
    for (const r of rows) this.heads.set(r.source, { seq: Number(r.last_seq), digest: r.last_digest, id: r.last_id });
  }

  stage(): ChainStage {
    return new ChainStage(this.heads);
  }
}

export class ChainStage {
  private readonly staged = new Map<string, Head | null>();
  private readonly breaks: Record<string, unknown>[] = [];

  constructor(private readonly heads: Map<string, Head | null>) {}

  observe(row: EventRow, event: ActorlogEvent, receivedAt: number): Flag[] {
    const head = this.staged.has(row.source) ? this.staged.get(row.source)! : (this.heads.get(row.source) ?? null);
    const flags: Flag[] = [];
    if (head && event.prev !== undefined && row.seq === head.seq + 1) {
      if (event.prev === head.digest) {
        row.prev_event_id = head.id;
      } else {
        flags.push('chain_break');
        this.breaks.push({ source: row.source, seq: row.seq, event_id: row.id, expected: head.digest, got: event.prev, detected_at: toClickHouseTime(receivedAt) });
      }
    }
    if (!head || row.seq > head.seq) this.staged.set(row.source, { seq: row.seq, digest: jwsDigest(row.raw_jws), id: row.id });
    return flags;
  }

  writes(): StateWrite[] {
    const now = toClickHouseTime(Date.now());
    const heads = [...this.staged].flatMap(([source, h]) => (h ? [{ source, last_seq: h.seq, last_digest: h.digest, last_id: h.id, updated_at: now }] : []));
    return [
      { table: 'emitterChains', values: heads },
      { table: 'chainBreaks', values: this.breaks },
    ];
  }

  commit(): void {
    for (const [source, head] of this.staged) this.heads.set(source, head);
  }
}
