// The emitter's durable state in one folder: an append-only outbox of events
// (one a line: a compact JWS, or the event's JSON when the client signs whole
// batches as it sends them) and a small state file with the last seq
// handed out, the digest of the last event on disk (the hash chain, event
// field `prev`) and how many outbox lines ingest has answered for. All survive
// a restart, so numbering and the chain continue and nothing signed is lost
// while ingest is unreachable.
//
// Group commit: appends made while a write is in flight are written together
// with one fsync; each append's promise resolves only once its line is on disk.
// All file work runs in one chain off the event loop, so an emit costs its
// signature and a few microseconds, not a synchronous write.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

const safeName = (source: string) => source.replace(/[^A-Za-z0-9._-]/g, '_');

// Settled lines are dropped from the file once they are this many and more
// than what is left, so a long outage does not rewrite the backlog per batch.
const REWRITE_AFTER_SETTLED = 10_000;

interface Group {
  lines: string[];
  // the chain digest of the group's last line, computed once at append
  last: string | undefined;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface SavedState {
  seq: number;
  settled: number;
  prev?: string | undefined;
}

// What the next event names as `prev`: the SHA-256 of the compact JWS before
// it. An event kept as JSON is signed later inside a batch, whose signed form
// it cannot know in advance, so it starts no link (docs/event.md).
const chainDigest = (line: string): string | undefined => (isUnsigned(line) ? undefined : createHash('sha256').update(line, 'utf8').digest('hex'));

// An outbox line holding the event's JSON, to be signed in a batch when sent.
export const isUnsigned = (line: string) => line.charCodeAt(0) === 0x7b; // '{'

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that does not await must not see an unhandled rejection.
  done.catch(() => undefined);
  return { lines: [], last: undefined, done, resolve, reject };
}

async function writeFileDurably(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

// The event inside an outbox line, or undefined when it does not parse.
export function eventOfLine(line: string | undefined): Record<string, unknown> | undefined {
  if (line === undefined) return undefined;
  try {
    const text = isUnsigned(line) ? line : Buffer.from(line.split('.')[1] ?? '', 'base64url').toString('utf8');
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function seqOf(line: string): number {
  const seq = eventOfLine(line)?.seq;
  return typeof seq === 'number' ? seq : 0;
}

export class Outbox {
  private readonly outboxFile: string;
  private readonly stateFile: string;
  private seq: number;
  // Lines on disk and synced that ingest has not answered for yet.
  private durable: string[];
  // Lines on disk before `durable` that ingest has answered for.
  private settledInFile: number;
  private group?: Group;
  private io: Promise<void> = Promise.resolve();
  private handle?: FileHandle;
  private saveQueued = false;
  private torn = false;
  // SHA-256 of the last event signed (what the next one names as prev), and
  // of the last one on disk (what a restart continues from).
  private prevSigned: string | undefined;
  private prevOnDisk: string | undefined;

  constructor(dir: string, source: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const base = path.join(dir, safeName(source));
    this.outboxFile = `${base}.outbox`;
    this.stateFile = `${base}.state`;
    const saved = this.loadState(`${base}.seq`, `${base}.prev`);
    const lines = this.loadLines();
    const last = lines[lines.length - 1];
    this.prevOnDisk = last !== undefined ? chainDigest(last) : saved.prev;
    this.prevSigned = this.prevOnDisk;
    this.settledInFile = Math.min(saved.settled, lines.length);
    this.durable = lines.slice(this.settledInFile);
    this.seq = Math.max(saved.seq, ...this.durable.map(seqOf));
  }

  private loadState(legacySeqFile: string, legacyPrevFile: string): SavedState {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as Partial<SavedState>;
      return { seq: Number(parsed.seq) || 0, settled: Number(parsed.settled) || 0, prev: typeof parsed.prev === 'string' ? parsed.prev : undefined };
    } catch {
      // Before the state file, seq and prev had files of their own.
      const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '');
      return { seq: Number(read(legacySeqFile)) || 0, settled: 0, prev: read(legacyPrevFile) || undefined };
    }
  }

  // A line without its newline was being written when the process died; its
  // emit never resolved, so it is cut off rather than left to corrupt the next append.
  private loadLines(): string[] {
    if (!fs.existsSync(this.outboxFile)) return [];
    const text = fs.readFileSync(this.outboxFile, 'utf8');
    const complete = text.lastIndexOf('\n') + 1;
    if (complete < text.length) fs.truncateSync(this.outboxFile, Buffer.byteLength(text.slice(0, complete)));
    return text
      .slice(0, complete)
      .split('\n')
      .filter((line) => line !== '');
  }

  // Numbers are handed out in memory; the state file records the highest one
  // whenever the outbox is settled, and the outbox itself holds the rest, so a
  // restart never reuses a number that reached disk.
  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  // The digest the next event names as `prev` (undefined for the first ever).
  get prev(): string | undefined {
    return this.prevSigned;
  }

  // Resolves once the line is on disk (fsync), together with every line
  // appended while the previous write was in flight.
  append(line: string): Promise<void> {
    this.prevSigned = chainDigest(line);
    let group = this.group;
    if (!group) {
      const fresh = newGroup();
      group = fresh;
      this.group = fresh;
      this.io = this.io.then(() => this.write(fresh));
    }
    group.lines.push(line);
    group.last = this.prevSigned;
    return group.done;
  }

  private async write(group: Group): Promise<void> {
    if (this.group === group) this.group = undefined;
    try {
      // A failed write may have left part of a line: cut it off first, so the
      // next line does not merge with it.
      if (this.torn) {
        this.loadLines();
        this.torn = false;
      }
      this.handle ??= await open(this.outboxFile, 'a', 0o600);
      await this.handle.appendFile(group.lines.map((line) => `${line}\n`).join(''));
      await this.handle.datasync();
      this.durable.push(...group.lines);
      this.prevOnDisk = group.last;
      group.resolve();
    } catch (err) {
      // Not durable: the emits fail (their seq numbers show as a gap, and the
      // next event's prev names one that never arrives: a visible break).
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      this.torn = true;
      group.reject(err as Error);
    }
  }

  // Waits for every append and settle made so far to reach disk.
  written(): Promise<void> {
    return this.io;
  }

  peek(max: number): string[] {
    return this.durable.slice(0, max);
  }

  // Drops the first n durable lines, which ingest has answered for. Until the
  // state file says so on disk, a restart sends them again (ingest dedupes by id).
  settle(n: number): void {
    this.durable.splice(0, n);
    this.settledInFile += n;
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.io = this.io.then(() => this.save()).catch(() => undefined);
  }

  private async save(): Promise<void> {
    this.saveQueued = false;
    const rewrite = this.durable.length === 0 || (this.settledInFile >= REWRITE_AFTER_SETTLED && this.settledInFile > this.durable.length);
    if (!rewrite) {
      await writeFileDurably(this.stateFile, JSON.stringify({ seq: this.seq, settled: this.settledInFile, prev: this.prevOnDisk }));
      return;
    }
    // The state says "nothing settled" before the file loses its settled
    // lines: a crash in between resends them, never skips an unsent one.
    // Lines settled while this runs are still in the new file's prefix.
    const settledBefore = this.settledInFile;
    const text = this.durable.map((line) => `${line}\n`).join('');
    await writeFileDurably(this.stateFile, JSON.stringify({ seq: this.seq, settled: 0, prev: this.prevOnDisk }));
    await this.handle?.close();
    this.handle = undefined;
    await writeFileDurably(this.outboxFile, text);
    this.settledInFile -= settledBefore;
  }

  get size(): number {
    return this.durable.length;
  }

  async close(): Promise<void> {
    await this.io;
    await this.handle?.close();
    this.handle = undefined;
  }
}
