// RFC 9162 Merkle tree hashing and proofs: node:crypto only, no server
// dependency, so an emitter or an auditor can verify with the same code.
export { HASH_SIZE, emptyRoot, leafHash, nodeHash } from './hash.js';
export { coordKey, fullSubtrees, splitPoint, type Coord, type Range } from './subtrees.js';
export { mapLookup, rangeHash, type HashLookup } from './range-hash.js';
export { treeHead } from './tree-head.js';
export { inclusionProof, inclusionRanges, rootFromInclusionProof, verifyInclusion } from './inclusion.js';
export { consistencyProof, consistencyRanges, verifyConsistency } from './consistency.js';
