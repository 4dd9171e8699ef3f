// Server-sent events as Streamable HTTP uses them: each event's `data` lines
// joined are one JSON-RPC message. The tap passes the stream through byte for
// byte and hands each event's data to a callback as it completes.
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

// An event larger than this is relayed but not looked at.
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

export class SseTap extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private data: string[] = [];
  private dataChars = 0;

  constructor(private readonly onData: (data: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.push(chunk);
    this.scan(this.decoder.write(chunk));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.scan(`${this.decoder.end()}\n\n`);
    done();
  }

  private scan(text: string): void {
    this.pending += text;
    // Lines end in CRLF, LF or CR (WHATWG HTML, server-sent events); a CR at
    // the very end may be the first half of a CRLF, so it waits for the next chunk.
    const heldCr = this.pending.endsWith('\r');
    const lines = (heldCr ? this.pending.slice(0, -1) : this.pending).split(/\r\n|\n|\r/);
    this.pending = (lines.pop() ?? '') + (heldCr ? '\r' : '');
    for (const line of lines) {
      if (line === '') {
        this.dispatch();
      } else if (line.startsWith('data')) {
        const value = line.startsWith('data:') ? line.slice(5).replace(/^ /, '') : line === 'data' ? '' : undefined;
        if (value !== undefined && this.dataChars + value.length <= MAX_EVENT_CHARS) {
          this.data.push(value);
          this.dataChars += value.length;
        }
      }
    }
    if (this.pending.length > MAX_EVENT_CHARS) this.pending = '';
  }

  private dispatch(): void {
    if (this.data.length === 0) return;
    const data = this.data.join('\n');
    this.data = [];
    this.dataChars = 0;
    try {
      this.onData(data);
    } catch {
      /* observing never stops the stream */
    }
  }
}
