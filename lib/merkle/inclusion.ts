// Inclusion proofs, RFC 9162 section 2.1.3.
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

// Section 2.1.3.2, shared with the emitter package (batch signing).
export { rootFromInclusionProof, verifyInclusion } from '@actorlog/sdk/merkle';
