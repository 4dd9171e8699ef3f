// MCP's stdio framing: one JSON-RPC message (or batch) per line. The tap passes
// each complete line on, then hands it to a callback, bytes untouched, so a
// message the proxy does not understand (or cannot parse) reaches the other
// side exactly as it was written. A tap with a gate asks it first, for each
// line, whether to hold the line back (a call the tool policy denies).
import { Transform, type TransformCallback } from 'node:stream';

// A line longer than this is passed on without being looked at, so a peer
// cannot make the proxy hold an unbounded buffer.
export const MAX_OBSERVED_LINE = 16 * 1024 * 1024;

export interface Gate {
  // True: the line is not passed on (the gate has answered it).
  hold(line: Buffer): boolean;
  // A line over MAX_OBSERVED_LINE was dropped unjudged.
  oversized(): void;
}

export class LineTap extends Transform {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private oversized = false;

  constructor(
    private readonly see: (line: string) => void,
    private readonly gate?: Gate,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl + 1);
      start = nl + 1;
      if (this.oversized) {
        if (!this.gate) this.push(piece);
        this.oversized = false;
        continue;
      }
      const line = this.partialBytes ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      this.partialBytes = 0;
      if (this.held(line)) continue;
      this.push(line);
      this.look(line);
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return done();
    if (this.oversized) {
      if (!this.gate) this.push(rest);
    } else if (this.partialBytes + rest.length > MAX_OBSERVED_LINE) {
      // Too long to keep: what is held so far goes on, and the rest of this
      // line with it; with a gate, a line it cannot judge goes nowhere.
      if (this.gate) {
        this.gate.oversized();
      } else {
        for (const held of this.partial) this.push(held);
        this.push(rest);
      }
      this.partial = [];
      this.partialBytes = 0;
      this.oversized = true;
    } else {
      this.partial.push(Buffer.from(rest));
      this.partialBytes += rest.length;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.partialBytes) {
      const line = Buffer.concat(this.partial);
      if (!this.held(line)) {
        this.push(line);
        this.look(line);
      }
    }
    done();
  }

  private held(line: Buffer): boolean {
    if (!this.gate) return false;
    try {
      return this.gate.hold(line);
    } catch {
      // A gate that cannot decide holds the line back: the policy fails closed.
      return true;
    }
  }

  private look(line: Buffer): void {
    try {
      this.see(line.toString('utf8'));
    } catch {
      /* observing never stops a message */
    }
  }
}

// The JSON-RPC messages of one line: a message, each element of a batch, or none.
export function messagesOf(text: string): Record<string, unknown>[] {
  return parsedMessages(text)?.messages ?? [];
}

// Undefined: the text is not JSON (or not an object or array of them).
export function parsedMessages(text: string): { messages: Record<string, unknown>[]; batch: boolean } | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || (trimmed[0] !== '{' && trimmed[0] !== '[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  const batch = Array.isArray(parsed);
  const all = batch ? (parsed as unknown[]) : [parsed];
  return { messages: all.filter((m): m is Record<string, unknown> => m !== null && typeof m === 'object' && !Array.isArray(m)), batch };
}
