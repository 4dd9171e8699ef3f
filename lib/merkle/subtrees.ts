// Trees of any size are made of complete (power-of-two) subtrees. A stored
// log keeps the hash of every complete subtree it has finished, addressed by
// (level, index): the subtree of 2^level leaves starting at leaf index*2^level.
// Any range the RFC 9162 algorithms ask for is a few such subtrees, so proofs
// and tree heads read O(log n) stored hashes, never all leaves.

export interface Coord {
  level: number;
  index: number;
}

// [lo, hi): leaves lo .. hi-1.
export type Range = readonly [number, number];

// Largest power of two strictly below n (n > 1): the RFC's split point k.
export { splitPoint } from '@actorlog/sdk/merkle';

// The complete subtrees covering [lo, hi), left to right, largest first. The
// ranges RFC 9162 recursion produces always start on a boundary of their
// largest part, so the parts are aligned subtrees.
export function fullSubtrees([lo, hi]: Range): Coord[] {
  const parts: Coord[] = [];
  let start = lo;
  while (start < hi) {
    let size = 1;
    let level = 0;
    while (start % (size * 2) === 0 && start + size * 2 <= hi) {
      size *= 2;
      level++;
    }
    parts.push({ level, index: start / size });
    start += size;
  }
  return parts;
}

export const coordKey = (c: Coord) => `${c.level}/${c.index}`;
