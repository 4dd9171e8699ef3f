// actorlog's own log key: a C2SP signed-note Ed25519 key whose name is the
// log's origin. Created on first use (0600, folder 0700) like the report key;
// its verifier key is what auditors pin.
import fs from 'node:fs';
import path from 'node:path';
import { ActorlogError } from '../lib/errors.js';
import { generateNoteKey, parseSignerKey, verifierKeyOf, type NoteSigner } from '../lib/note/index.js';

export interface LogKey {
  origin: string;
  signer: NoteSigner;
  verifierKey: string;
}

export function loadLogKey(file: string, origin: string): LogKey {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${generateNoteKey(origin).signerKey}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another service of this instance made it first: use that one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const signerKey = fs.readFileSync(file, 'utf8').trim();
  const signer = parseSignerKey(signerKey);
  if (signer.name !== origin) {
    throw new ActorlogError('CONFIG_INVALID', `the log key in ${file} is named "${signer.name}", not the log origin "${origin}" (LOG_ORIGIN)`);
  }
  return { origin, signer, verifierKey: verifierKeyOf(signerKey) };
}
