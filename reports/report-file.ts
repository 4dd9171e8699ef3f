// A report file written as its rows stream from storage: each chunk is
// encoded, hashed and appended to the file, so memory stays that of one chunk
// whatever the row count, and what the manifest says of the file (rows,
// bytes, SHA-256, the events per emitter) comes from the same stream. The
// file appears under its name only once complete (written to a `.partial`
// name, synced, then renamed), owner-only (0600).
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { ContentsTally, rowFacts, type Contents } from './contents.js';

export interface WrittenFile {
  rows: number;
  bytes: number;
  sha256: string;
  contents: Contents;
}

export async function writeReportFile(
  file: string,
  chunks: AsyncIterable<Record<string, unknown>[]>,
  encode: (row: Record<string, unknown>) => string,
): Promise<WrittenFile> {
  const partial = `${file}.partial`;
  const handle = await fs.promises.open(partial, 'wx', 0o600);
  const hash = createHash('sha256');
  const tally = new ContentsTally();
  let bytes = 0;
  try {
    for await (const rows of chunks) {
      let text = '';
      for (const row of rows) {
        text += encode(row);
        tally.add(rowFacts(row));
      }
      const buffer = Buffer.from(text, 'utf8');
      hash.update(buffer);
      bytes += buffer.byteLength;
      await handle.write(buffer);
    }
    await handle.sync();
    await handle.close();
    await fs.promises.rename(partial, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(partial, { force: true });
    throw err;
  }
  return { rows: tally.rows, bytes, sha256: hash.digest('hex'), contents: tally.result() };
}
