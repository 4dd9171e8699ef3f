// The emitter's durable state in one folder: the last sequence number it used,
// the digest of the last event it signed (the hash chain), and the outbox of signed events not yet acknowledged by ingest. Both survive
// a restart, so numbering continues without a false gap and nothing signed is
// lost while ingest is unreachable.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

const safeName = (source: string) => source.replace(/[^A-Za-z0-9._-]/g, '_');

function writeAtomic(file: string, text: string): void {
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  fs.renameSync(temp, file);
}

export class EmitterState {
  private readonly seqFile: string;
  private readonly outboxFile: string;
  private readonly prevFile: string;
  private seq: number;
  private prevDigest: string | undefined;
  private pending: string[];

  constructor(dir: string, source: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.seqFile = path.join(dir, `${safeName(source)}.seq`);
    this.outboxFile = path.join(dir, `${safeName(source)}.outbox`);
    this.prevFile = path.join(dir, `${safeName(source)}.prev`);
    this.prevDigest = fs.existsSync(this.prevFile) ? fs.readFileSync(this.prevFile, 'utf8').trim() || undefined : undefined;
    this.seq = fs.existsSync(this.seqFile) ? Number(fs.readFileSync(this.seqFile, 'utf8').trim()) || 0 : 0;
    this.pending = fs.existsSync(this.outboxFile)
      ? fs.readFileSync(this.outboxFile, 'utf8').split('\n').filter((line) => line !== '')
      : [];
  }

  // The seq is written before the event that carries it is signed, so a crash
  // can skip a number (visible as a gap) but can never reuse one.
  nextSeq(): number {
    this.seq += 1;
    writeAtomic(this.seqFile, String(this.seq));
    return this.seq;
  }

  // The hash chain (event field `prev`): SHA-256 of the last event signed,
  // kept across restarts like seq.
  get prev(): string | undefined {
    return this.prevDigest;
  }

  // The digest is written before the event joins the outbox: a crash in
  // between loses that event, which the next one's seq shows as a gap,
  // rather than breaking the chain of the events that do arrive.
  enqueue(jws: string): void {
    this.prevDigest = createHash('sha256').update(jws, 'utf8').digest('hex');
    writeAtomic(this.prevFile, this.prevDigest);
    fs.appendFileSync(this.outboxFile, `${jws}\n`, { mode: 0o600 });
    this.pending.push(jws);
  }

  peek(max: number): string[] {
    return this.pending.slice(0, max);
  }

  // Drops the first n events, which ingest has answered for.
  settle(n: number): void {
    this.pending = this.pending.slice(n);
    writeAtomic(this.outboxFile, this.pending.map((jws) => `${jws}\n`).join(''));
  }

  get size(): number {
    return this.pending.length;
  }
}
