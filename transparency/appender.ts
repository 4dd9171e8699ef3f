// Appends stored events to the Merkle log: each event's signed bytes (the
// compact JWS exactly as received) become one leaf, in the order given, once
// per event id. The appender keeps the right edge of the tree (the complete
// subtrees of the current size, O(log n) hashes) and writes each new leaf with
// the interior nodes it completes, so nothing is ever recomputed from all leaves.
//
// Several appenders may share one log (processors of one consumer group, or a
// stale process): each append claims its start position in storage (see
// insertLogNodes), reads back who won, and on losing re-reads the stored edge
// and tries again on top of the winner's leaves. No lease, no coordinator.
import { coordKey, leafHash, mapLookup, nodeHash, rangeHash, type Coord } from '../lib/merkle/index.js';
import type { Storage, Tables } from '../store/client.js';
import { insertLogNodes, leafIdsBetween, leavesOf, storedTreeSize, subtreeHashes, type LogNodeRow } from '../store/transparency-log.js';
import { ActorlogError } from '../lib/errors.js';
import { fullSubtrees } from '../lib/merkle/index.js';

export interface LoggedEvent {
  id: string;
  tenant: string;
  raw_jws: string;
}

interface Edge {
  coord: Coord;
  hash: Buffer;
}

export interface AppendResult {
  appended: number;
  size: number;
  ms: number;
  // Appends lost to another appender and retried on top of its leaves.
  conflicts: number;
}

// Losing this many races in a row means something other than a peer is
// writing the log: give up and let the batch be retried.
const MAX_CONFLICTS = 50;

export class LogAppender {
  private size = -1;
  private edge: Edge[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly tables: Tables,
  ) {}

  // Serialised: appends and tree heads never interleave within a process.
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  append(events: LoggedEvent[]): Promise<AppendResult> {
    return this.serial(() => this.appendNow(events));
  }

  // The current tree size and root, as stored.
  head(): Promise<{ size: number; root: Buffer }> {
    return this.serial(async () => {
      await this.sync();
      const lookup = mapLookup(new Map(this.edge.map((e) => [coordKey(e.coord), e.hash])));
      return { size: this.size, root: Buffer.from(rangeHash([0, this.size], lookup)) };
    });
  }

  // Re-reads the right edge when storage holds a different size than this
  // appender last wrote (first use, an insert whose outcome was unknown, or
  // another writer): one ordered read, plus O(log n) hashes when it moved.
  private async sync(): Promise<void> {
    const stored = await storedTreeSize(this.storage, this.tables);
    if (stored === this.size) return;
    const coords = fullSubtrees([0, stored]);
    const hashes = await subtreeHashes(this.storage, this.tables, coords);
    this.edge = coords.map((coord) => {
      const hex = hashes.get(coordKey(coord));
      if (!hex) throw new Error(`the transparency log lacks the stored hash of subtree ${coordKey(coord)} for size ${stored}`);
      return { coord, hash: Buffer.from(hex, 'hex') };
    });
    this.size = stored;
  }

  private async appendNow(events: LoggedEvent[]): Promise<AppendResult> {
    const began = performance.now();
    const unique = [...new Map(events.map((e) => [e.id, e])).values()];
    for (let conflicts = 0; ; conflicts++) {
      await this.sync();
      const logged = new Set((await leavesOf(this.storage, this.tables, unique.map((e) => e.id))).map((l) => l.event_id));
      const fresh = unique.filter((e) => !logged.has(e.id));
      if (fresh.length === 0) return { appended: 0, size: this.size, ms: performance.now() - began, conflicts };
      const start = this.size;
      const { rows, edge } = this.extend(fresh);
      await insertLogNodes(this.storage, this.tables, start, rows);
      const won = await leafIdsBetween(this.storage, this.tables, start, start + fresh.length);
      if (won.length === fresh.length && won.every((id, i) => id === fresh[i]!.id)) {
        this.edge = edge;
        this.size = start + fresh.length;
        return { appended: fresh.length, size: this.size, ms: performance.now() - began, conflicts };
      }
      // Another appender holds this position: start again from what it stored.
      this.size = -1;
      if (conflicts + 1 >= MAX_CONFLICTS) {
        throw new ActorlogError('STORAGE_UNAVAILABLE', `the transparency log append lost ${MAX_CONFLICTS} races in a row for its position (last at leaf ${start})`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    }
  }

  // The rows that append `fresh` at the current size, and the edge after them.
  private extend(fresh: LoggedEvent[]): { rows: LogNodeRow[]; edge: Edge[] } {
    const edge = [...this.edge];
    let size = this.size;
    const rows: LogNodeRow[] = [];
    const now = Date.now();
    for (const event of fresh) {
      const leaf = leafHash(Buffer.from(event.raw_jws, 'utf8'));
      rows.push({ level: 0, idx: size, hash: leaf.toString('hex'), event_id: event.id, tenant: event.tenant, appended_at: now });
      edge.push({ coord: { level: 0, index: size }, hash: leaf });
      while (edge.length >= 2 && edge[edge.length - 1]!.coord.level === edge[edge.length - 2]!.coord.level) {
        const right = edge.pop()!;
        const left = edge.pop()!;
        const node: Edge = { coord: { level: left.coord.level + 1, index: left.coord.index / 2 }, hash: nodeHash(left.hash, right.hash) };
        rows.push({ level: node.coord.level, idx: node.coord.index, hash: node.hash.toString('hex'), event_id: '', tenant: '', appended_at: now });
        edge.push(node);
      }
      size++;
    }
    return { rows, edge };
  }
}
