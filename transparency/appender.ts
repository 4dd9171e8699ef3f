// Appends stored events to the Merkle log: each event's signed bytes (the
// compact JWS exactly as received) become one leaf, in the order given, once
// per event id. The appender keeps the right edge of the tree (the complete
// subtrees of the current size, O(log n) hashes) and writes each new leaf with
// the interior nodes it completes, so nothing is ever recomputed from all leaves.
import { coordKey, leafHash, mapLookup, nodeHash, rangeHash, type Coord } from '../lib/merkle/index.js';
import type { Storage, Tables } from '../store/client.js';
import { insertLogNodes, leavesOf, storedTreeSize, subtreeHashes, type LogNodeRow } from '../store/transparency-log.js';
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
}

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
    await this.sync();
    const unique = [...new Map(events.map((e) => [e.id, e])).values()];
    const logged = new Set((await leavesOf(this.storage, this.tables, unique.map((e) => e.id))).map((l) => l.event_id));
    const fresh = unique.filter((e) => !logged.has(e.id));
    if (fresh.length === 0) return { appended: 0, size: this.size, ms: performance.now() - began };

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
    await insertLogNodes(this.storage, this.tables, rows);
    this.edge = edge;
    this.size = size;
    return { appended: fresh.length, size, ms: performance.now() - began };
  }
}
