// RFC 9162 (section 2.1) Merkle tree hashing, the part an emitter and an
// auditor need: leaf and node hashes, the root of a list of leaves, every
// leaf's inclusion path, and the root a path leads to. node:crypto only. The
// server's transparency log (lib/merkle) builds its stored-subtree proofs on
// these same functions.
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

// Leaves and interior nodes carry distinct one-byte prefixes, so a leaf can
// never be passed off as a node.
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(0x00)).update(data).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(0x01)).update(left).update(right).digest();
}

// MTH({}) = SHA-256 of the empty string.
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

// Largest power of two strictly below n (n > 1): the RFC's split point k.
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[n]) straight from leaf hashes, as section 2.1.1 defines it.
export function treeHead(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  if (leafHashes.length === 1) return leafHashes[0]!;
  const k = splitPoint(leafHashes.length);
  return nodeHash(treeHead(leafHashes.slice(0, k)), treeHead(leafHashes.slice(k)));
}

// The root and PATH(m, D[n]) (section 2.1.3.1) of every leaf at once, in
// O(n log n) hashes: each leaf's path is its path inside its half followed by
// the other half's root.
export function treeWithPaths(leafHashes: readonly Uint8Array[]): { root: Uint8Array; paths: Uint8Array[][] } {
  if (leafHashes.length === 0) return { root: emptyRoot(), paths: [] };
  if (leafHashes.length === 1) return { root: leafHashes[0]!, paths: [[]] };
  const k = splitPoint(leafHashes.length);
  const left = treeWithPaths(leafHashes.slice(0, k));
  const right = treeWithPaths(leafHashes.slice(k));
  for (const path of left.paths) path.push(right.root);
  for (const path of right.paths) path.push(left.root);
  return { root: nodeHash(left.root, right.root), paths: [...left.paths, ...right.paths] };
}

// Section 2.1.3.2: the root the proof leads to, or null when the proof has
// the wrong shape for (index, size).
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | null {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return null;
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return null;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const got = rootFromInclusionProof(index, size, leaf, proof);
  return got !== null && Buffer.from(got).equals(Buffer.from(root));
}
