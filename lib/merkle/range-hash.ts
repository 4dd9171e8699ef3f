// MTH of a range from the hashes of its complete subtrees: the RFC splits at
// the largest power of two below the size, which is exactly the left-most
// complete subtree, so folding from the right rebuilds the same tree.
import { emptyRoot, nodeHash } from './hash.js';
import { coordKey, fullSubtrees, type Coord, type Range } from './subtrees.js';

export type HashLookup = (coord: Coord) => Uint8Array;

export function rangeHash(range: Range, lookup: HashLookup): Uint8Array {
  const parts = fullSubtrees(range);
  if (parts.length === 0) return emptyRoot();
  let hash = lookup(parts[parts.length - 1]!);
  for (let i = parts.length - 2; i >= 0; i--) hash = nodeHash(lookup(parts[i]!), hash);
  return hash;
}

// A lookup over hashes fetched beforehand; a missing one is a storage fault.
export function mapLookup(hashes: Map<string, Uint8Array>): HashLookup {
  return (coord) => {
    const hash = hashes.get(coordKey(coord));
    if (!hash) throw new Error(`the log has no stored hash for subtree level ${coord.level} index ${coord.index}`);
    return hash;
  };
}
