// Inclusion proofs, RFC 9162 section 2.1.3.
import { nodeHash } from './hash.js';
import { rangeHash, type HashLookup } from './range-hash.js';
import { splitPoint, type Range } from './subtrees.js';

// The ranges whose hashes make PATH(index, D[0:size]), in proof order (the
// leaf's sibling first).
export function inclusionRanges(index: number, size: number): Range[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const out: Range[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
    }
  }
  return out.reverse();
}

export function inclusionProof(index: number, size: number, lookup: HashLookup): Uint8Array[] {
  return inclusionRanges(index, size).map((r) => rangeHash(r, lookup));
}

// Section 2.1.3.2: the root the proof leads to, or null when the proof has
// the wrong shape for (index, size).
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | null {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return null;
  if (leaf.length !== 32 || proof.some((p) => p.length !== 32)) return null;
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
