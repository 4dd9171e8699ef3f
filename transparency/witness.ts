// A witness co-signs a log's checkpoint only after checking that it extends
// the last checkpoint the witness saw (consistency proof), so a log that
// shows two different histories (a split view) cannot get both co-signed by
// one witness, and two witnesses comparing notes catch it.
import fs from 'node:fs';
import path from 'node:path';
import { cosignatureSigner, cosignNote, generateNoteKey, type NoteSigner } from '../lib/note/index.js';
import { openCheckpoint, verifyCheckpoints } from './verify.js';

export type WitnessStep = { ok: true; cosigned: string; size: number } | { ok: false; problem: string };

// One decision, pure: `last` is the note the witness last co-signed (none on
// first contact: trust on first use), `proof` the log's consistency proof
// from last's size to the new one's.
export function witnessCheckpoint(last: string | undefined, note: string, proof: string[], logKey: string, witness: NoteSigner): WitnessStep {
  let size: number;
  try {
    size = openCheckpoint(note, logKey).size;
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  if (last !== undefined) {
    const before = openCheckpoint(last, logKey);
    if (size < before.size) return { ok: false, problem: `the log went back from size ${before.size} to ${size}` };
    if (size === before.size) {
      if (!openCheckpoint(note, logKey).root.equals(before.root)) return { ok: false, problem: `two different trees of size ${size}: the log shows a split view` };
    } else {
      const verdict = verifyCheckpoints(last, note, proof, logKey);
      if (!verdict.ok) return { ok: false, problem: verdict.problems.join('; ') };
    }
  }
  return { ok: true, cosigned: cosignNote(note, witness), size };
}

// The witness's own Ed25519 key, made on first use (0600) under its state
// folder; it co-signs in the C2SP tlog-cosignature/v1 format, and its
// verifier key (type 0x04) is what log clients pin.
export function loadWitnessKey(file: string, name: string): { signer: NoteSigner; verifierKey: string } {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${generateNoteKey(name).signerKey}\n`, { mode: 0o600, flag: 'wx' });
  }
  const signer = cosignatureSigner(fs.readFileSync(file, 'utf8').trim());
  return { signer, verifierKey: signer.verifierKey };
}

export interface WitnessState {
  last(): string | undefined;
  record(size: number, cosigned: string): void;
}

// <dir>/latest.cosigned is the last co-signed checkpoint; <dir>/<size>.cosigned each.
export function witnessState(dir: string): WitnessState {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const latest = path.join(dir, 'latest.cosigned');
  return {
    last: () => (fs.existsSync(latest) ? fs.readFileSync(latest, 'utf8') : undefined),
    record(size, cosigned) {
      fs.writeFileSync(path.join(dir, `${size}.cosigned`), cosigned, { mode: 0o600 });
      const tmp = `${latest}.tmp`;
      fs.writeFileSync(tmp, cosigned, { mode: 0o600 });
      fs.renameSync(tmp, latest);
    },
  };
}
