// MTH(D[n]) straight from leaf hashes, as RFC 9162 section 2.1.1 defines it.
// The reference the stored-hash path is checked against, and what a verifier
// uses on a handful of leaves.
import { emptyRoot, nodeHash } from './hash.js';
import { splitPoint } from './subtrees.js';

export function treeHead(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  if (leafHashes.length === 1) return leafHashes[0]!;
  const k = splitPoint(leafHashes.length);
  return nodeHash(treeHead(leafHashes.slice(0, k)), treeHead(leafHashes.slice(k)));
}
