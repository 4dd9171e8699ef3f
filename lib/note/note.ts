// C2SP signed notes: UTF-8 text ending in a newline, a blank line, then one
// line per signature: "— <key name> <base64(key hash || signature)>".
import type { NoteSigner, NoteVerifier } from './keys.js';
import { isKeyName } from './keys.js';

const DASH = '\u2014 ';
const MAX_SIGNATURES = 100;

export interface NoteSignature {
  name: string;
  hash: number;
  base64: string;
}

export interface OpenedNote {
  text: string;
  // Signatures by a known key that verified.
  verified: NoteSignature[];
  // Signatures by keys the caller did not name.
  unverified: NoteSignature[];
}

export class NoteError extends Error {
  override name = 'NoteError';
}

// Text a note may carry: ends in a newline, no control character but newline.
function checkText(text: string): void {
  // eslint-disable-next-line no-control-regex
  if (text.length === 0 || !text.endsWith('\n') || /[\x00-\x09\x0b-\x1f\x7f]/.test(text)) throw new NoteError('malformed note');
}

function signatureLine(signer: NoteSigner, text: string): string {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(signer.hash >>> 0);
  return `${DASH}${signer.name} ${Buffer.concat([head, signer.sign(Buffer.from(text, 'utf8'))]).toString('base64')}\n`;
}

export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  return `${text}\n${signers.map((s) => signatureLine(s, text)).join('')}`;
}

function parseSignature(line: string): NoteSignature {
  if (!line.startsWith(DASH)) throw new NoteError('malformed note');
  const rest = line.slice(DASH.length);
  const space = rest.lastIndexOf(' ');
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  const bytes = Buffer.from(base64, 'base64');
  if (space <= 0 || !isKeyName(name) || bytes.toString('base64') !== base64 || bytes.length < 5) throw new NoteError('malformed note');
  return { name, hash: bytes.readUInt32BE(0), base64 };
}

// Splits and checks a signed note; every signature by a key in `verifiers`
// must verify (a bad one is an error, not merely unverified).
export function openNote(message: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const split = message.lastIndexOf('\n\n');
  if (split < 0 || !message.endsWith('\n')) throw new NoteError('malformed note');
  const text = message.slice(0, split + 1);
  checkText(text);
  const lines = message.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('malformed note');
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const body = Buffer.from(text, 'utf8');
  for (const line of lines) {
    const sig = parseSignature(line);
    const known = verifiers.filter((v) => v.name === sig.name && v.hash === sig.hash);
    if (known.length > 1) throw new NoteError(`ambiguous key ${sig.name}+${sig.hash.toString(16).padStart(8, '0')}`);
    if (known.length === 0) {
      unverified.push(sig);
      continue;
    }
    if (!known[0]!.verify(body, Buffer.from(sig.base64, 'base64').subarray(4))) {
      throw new NoteError(`invalid signature for key ${sig.name}+${sig.hash.toString(16).padStart(8, '0')}`);
    }
    if (!verified.some((v) => v.name === sig.name && v.hash === sig.hash)) verified.push(sig);
  }
  if (verified.length === 0) throw new NoteError('note has no verifiable signatures');
  return { text, verified, unverified };
}

// Adds a signature to an already signed note (a witness co-signing a
// checkpoint): the text and the signatures already there are kept as they are.
export function cosignNote(message: string, signer: NoteSigner): string {
  const split = message.lastIndexOf('\n\n');
  if (split < 0 || !message.endsWith('\n')) throw new NoteError('malformed note');
  const text = message.slice(0, split + 1);
  checkText(text);
  return `${message}${signatureLine(signer, text)}`;
}
