// MTH(D[n]) straight from leaf hashes (section 2.1.1): the reference the
// stored-hash path is checked against, and what a verifier uses on a handful
// of leaves. Shared with the emitter package.
export { treeHead } from '@actorlog/sdk/merkle';
