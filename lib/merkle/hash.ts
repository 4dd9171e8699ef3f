// RFC 9162 section 2.1.1 hashing lives in the emitter package, so an emitter
// signing a batch and this log hash alike (one implementation).
export { HASH_SIZE, emptyRoot, leafHash, nodeHash } from '@actorlog/sdk/merkle';
