// RFC 9162 section 2.1.1 hashing: leaves and interior nodes carry distinct
// one-byte prefixes, so a leaf can never be passed off as a node.
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

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
