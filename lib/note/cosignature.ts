// C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), Ed25519 type:
// a witness's note signature over a checkpoint, whose signature bytes are
//   u64 timestamp (big-endian, POSIX seconds) || Ed25519 signature (64)
// over the message
//   "cosignature/v1\ntime <timestamp>\n" || <the whole checkpoint text>
// and whose key ID is SHA-256(name || "\n" || 0x04 || public key)[:4].
// The witness keeps an ordinary Ed25519 signer key (PRIVATE+KEY+..., 0x01);
// the same public key published as a vkey with type 0x04 is what verifiers pin.
import { verify } from 'node:crypto';
import { ed25519PublicKey, hex8, isKeyName, keyHash, NoteKeyError, parseSignerKey, splitKey, strictBase64, verifierKeyOf, type NoteSigner, type NoteVerifier } from './keys.js';

const ALG_ED25519 = 0x01;
const ALG_COSIGNATURE_V1 = 0x04;
const MAX_TIMESTAMP = (1n << 63n) - 1n;

export function cosignedMessage(text: string, timestamp: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${text}`, 'utf8');
}

export interface CosignatureSigner extends NoteSigner {
  // The cosigner's vkey (type 0x04): what log clients and `verify --witness` pin.
  verifierKey: string;
}

// A cosigner from an Ed25519 signer key; `now` gives the time each
// cosignature states (ms since the epoch, stored in seconds).
export function cosignatureSigner(skey: string, now: () => number = Date.now): CosignatureSigner {
  const base = parseSignerKey(skey);
  const [name, , encoded] = splitKey(verifierKeyOf(skey), 3) as [string, string, string];
  const publicKey = strictBase64(encoded)!.subarray(1);
  const hash = keyHash(name, publicKey, ALG_COSIGNATURE_V1);
  return {
    name,
    hash,
    verifierKey: `${name}+${hex8(hash)}+${Buffer.concat([Buffer.of(ALG_COSIGNATURE_V1), publicKey]).toString('base64')}`,
    sign(message) {
      const timestamp = BigInt(Math.floor(now() / 1000));
      const head = Buffer.alloc(8);
      head.writeBigUInt64BE(timestamp);
      return Buffer.concat([head, base.sign(cosignedMessage(Buffer.from(message).toString('utf8'), timestamp))]);
    },
  };
}

// A cosignature verifier from a vkey of type 0x04, or of type 0x01 (the same
// public key as an ordinary note key, converted as Go's formats/note does).
export function parseCosignatureVerifierKey(vkey: string): NoteVerifier {
  const [name, hashHex, encoded] = splitKey(vkey.trim(), 3) as [string, string, string];
  if (!isKeyName(name)) throw new NoteKeyError('malformed key name');
  if (!/^[0-9a-f]{8}$/.test(hashHex)) throw new NoteKeyError('malformed key hash');
  const bytes = strictBase64(encoded);
  if (!bytes || bytes.length !== 33 || (bytes[0] !== ALG_COSIGNATURE_V1 && bytes[0] !== ALG_ED25519)) throw new NoteKeyError('not an Ed25519 cosignature key');
  const publicKey = bytes.subarray(1);
  if (keyHash(name, publicKey, bytes[0]) !== Number.parseInt(hashHex, 16)) throw new NoteKeyError('the key hash does not match the key');
  const key = ed25519PublicKey(publicKey);
  return {
    name,
    hash: keyHash(name, publicKey, ALG_COSIGNATURE_V1),
    verify(message, signature) {
      if (signature.length !== 8 + 64) return false;
      const timestamp = Buffer.from(signature).readBigUInt64BE(0);
      if (timestamp > MAX_TIMESTAMP) return false;
      return verify(null, cosignedMessage(Buffer.from(message).toString('utf8'), timestamp), key, signature.subarray(8));
    },
  };
}

// The time (POSIX seconds) a cosignature states, from its signature line's
// base64 (key ID || timestamp || signature).
export function cosignatureTime(base64: string): number {
  const bytes = strictBase64(base64);
  if (!bytes || bytes.length !== 4 + 8 + 64) throw new NoteKeyError('not a cosignature/v1 signature');
  const timestamp = bytes.readBigUInt64BE(4);
  if (timestamp > MAX_TIMESTAMP) throw new NoteKeyError('the cosignature timestamp exceeds 2^63 - 1');
  return Number(timestamp);
}
