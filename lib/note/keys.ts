// C2SP signed-note keys (https://c2sp.org/signed-note), Ed25519 only:
//   verifier key  <name>+<key hash, 8 hex>+<base64(0x01 || public key)>
//   signer key    PRIVATE+KEY+<name>+<key hash>+<base64(0x01 || seed)>
// The key hash is the first four bytes of SHA-256(name || "\n" || 0x01 || public key).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

const ALG_ED25519 = 0x01;
// DER prefixes that wrap a raw 32-byte Ed25519 seed (PKCS#8) or public key (SPKI).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteSigner {
  name: string;
  hash: number;
  sign(message: Uint8Array): Buffer;
}

export interface NoteVerifier {
  name: string;
  hash: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export class NoteKeyError extends Error {
  override name = 'NoteKeyError';
}

// Names are printed in signature lines: no whitespace, no '+', not empty.
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !name.includes('\u2014');
}

// `alg` is the signature type byte: 0x01 for Ed25519 notes, 0x04 for
// tlog-cosignature/v1 (lib/note/cosignature.ts).
export function keyHash(name: string, publicKey: Uint8Array, alg = ALG_ED25519): number {
  const digest = createHash('sha256').update(name).update('\n').update(Buffer.of(alg)).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

export const hex8 = (n: number) => n.toString(16).padStart(8, '0');

export function strictBase64(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

// The base64 key material may itself hold '+', so only the leading fields split.
export function splitKey(text: string, parts: number): string[] {
  const fields = text.split('+');
  if (fields.length < parts) throw new NoteKeyError('malformed key');
  return [...fields.slice(0, parts - 1), fields.slice(parts - 1).join('+')];
}

function checkedKey(name: string, hashHex: string, encoded: string): { hash: number; material: Buffer } {
  if (!isKeyName(name)) throw new NoteKeyError('malformed key name');
  if (!/^[0-9a-f]{8}$/.test(hashHex)) throw new NoteKeyError('malformed key hash');
  const bytes = strictBase64(encoded);
  if (!bytes || bytes.length !== 33 || bytes[0] !== ALG_ED25519) throw new NoteKeyError('the key is not an Ed25519 key');
  return { hash: Number.parseInt(hashHex, 16), material: bytes.subarray(1) };
}

// A raw 32-byte Ed25519 public key as a KeyObject.
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function parseVerifierKey(vkey: string): NoteVerifier {
  const [name, hashHex, encoded] = splitKey(vkey, 3) as [string, string, string];
  const { hash, material } = checkedKey(name, hashHex, encoded);
  if (keyHash(name, material) !== hash) throw new NoteKeyError('the key hash does not match the key');
  const key = ed25519PublicKey(material);
  return { name, hash, verify: (message, signature) => signature.length === 64 && verify(null, message, key, signature) };
}

export function parseSignerKey(skey: string): NoteSigner {
  const [p, k, name, hashHex, encoded] = splitKey(skey, 5) as [string, string, string, string, string];
  if (p !== 'PRIVATE' || k !== 'KEY') throw new NoteKeyError('malformed key');
  const { hash, material } = checkedKey(name, hashHex, encoded);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, material]), format: 'der', type: 'pkcs8' });
  if (keyHash(name, rawPublicKey(createPublicKey(key))) !== hash) throw new NoteKeyError('the key hash does not match the key');
  return { name, hash, sign: (message) => sign(null, message, key) };
}

// The verifier key that goes with a signer key.
export function verifierKeyOf(skey: string): string {
  const [, , name, , encoded] = splitKey(skey, 5) as [string, string, string, string, string];
  const seed = strictBase64(encoded)!.subarray(1);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const pub = rawPublicKey(createPublicKey(key));
  return `${name}+${hex8(keyHash(name, pub))}+${Buffer.concat([Buffer.of(ALG_ED25519), pub]).toString('base64')}`;
}

export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isKeyName(name)) throw new NoteKeyError(`"${name}" cannot name a key: no spaces or '+'`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const pub = rawPublicKey(publicKey);
  const hash = hex8(keyHash(name, pub));
  return {
    signerKey: `PRIVATE+KEY+${name}+${hash}+${Buffer.concat([Buffer.of(ALG_ED25519), seed]).toString('base64')}`,
    verifierKey: `${name}+${hash}+${Buffer.concat([Buffer.of(ALG_ED25519), pub]).toString('base64')}`,
  };
}
