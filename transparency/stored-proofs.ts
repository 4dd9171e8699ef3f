// Proofs and tree heads computed from the complete-subtree hashes the log
// stores: each reads O(log n) rows in one query.
import { coordKey, consistencyRanges, fullSubtrees, inclusionRanges, mapLookup, rangeHash, type Coord, type Range } from '../lib/merkle/index.js';
import type { Storage, Tables } from '../store/client.js';
import { subtreeHashes } from '../store/transparency-log.js';

async function hashesOfRanges(storage: Storage, tables: Tables, ranges: Range[][]): Promise<Buffer[][]> {
  const coords = new Map<string, Coord>();
  for (const list of ranges) for (const r of list) for (const c of fullSubtrees(r)) coords.set(coordKey(c), c);
  const found = await subtreeHashes(storage, tables, [...coords.values()]);
  const lookup = mapLookup(new Map([...found].map(([k, hex]) => [k, Buffer.from(hex, 'hex')])));
  return ranges.map((list) => list.map((r) => Buffer.from(rangeHash(r, lookup))));
}

export async function storedRoot(storage: Storage, tables: Tables, size: number): Promise<Buffer> {
  return (await hashesOfRanges(storage, tables, [[[0, size]]]))[0]![0]!;
}

export async function storedInclusionProofs(storage: Storage, tables: Tables, indexes: number[], size: number): Promise<Buffer[][]> {
  return hashesOfRanges(storage, tables, indexes.map((i) => inclusionRanges(i, size)));
}

export async function storedConsistencyProof(storage: Storage, tables: Tables, size1: number, size2: number): Promise<Buffer[]> {
  return (await hashesOfRanges(storage, tables, [consistencyRanges(size1, size2)]))[0]!;
}
