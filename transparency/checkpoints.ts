// Signed checkpoints: the tree size and root in the C2SP checkpoint format,
// signed with the log key, kept in ClickHouse and written to a directory
// outside it, so rewriting the database cannot rewrite what was published.
import fs from 'node:fs';
import path from 'node:path';
import { formatCheckpoint, signNote } from '../lib/note/index.js';
import type { Storage, Tables } from '../store/client.js';
import { insertCheckpoint, latestCheckpoint, type StoredCheckpoint } from '../store/transparency-log.js';
import type { LogAppender } from './appender.js';
import type { LogKey } from './log-key.js';

// <dir>/<size>.checkpoint for each, and <dir>/latest.checkpoint (renamed into place).
export function writeCheckpointFile(dir: string, size: number, note: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, `${size}.checkpoint`), note, { mode: 0o600 });
  const tmp = path.join(dir, `.latest.${process.pid}.tmp`);
  fs.writeFileSync(tmp, note, { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, 'latest.checkpoint'));
}

// Publishes a checkpoint when the log grew since the last one (or there is none).
export async function publishCheckpoint(deps: { storage: Storage; tables: Tables; appender: LogAppender; key: LogKey; dir: string }): Promise<StoredCheckpoint> {
  const { storage, tables, appender, key, dir } = deps;
  const head = await appender.head();
  const last = await latestCheckpoint(storage, tables);
  if (last && last.size === head.size) return last;
  if (last && last.size > head.size) throw new Error(`the log holds ${head.size} leaves but checkpoint ${last.size} was published: leaves were removed from storage`);
  const note = signNote(formatCheckpoint({ origin: key.origin, size: head.size, root: head.root, extensions: [] }), [key.signer]);
  await insertCheckpoint(storage, tables, { size: head.size, root: head.root.toString('hex'), note });
  writeCheckpointFile(dir, head.size, note);
  return { size: head.size, root: head.root.toString('hex'), note, created_at: new Date().toISOString() };
}
