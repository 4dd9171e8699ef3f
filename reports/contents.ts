// What a report file holds, tallied the same way when the file is written
// (from the rows as they stream to it) and when it is verified (from the
// file's own bytes): the rows, the events of each emitter with their seq
// range, and the earliest and latest time a row names. The manifest states
// it; `report verify` recomputes it from the file and compares.
import type { ExportFormat } from '../schemas/export-formats.js';

export interface Contents {
  emitters: { source: string; events: number; first_seq: number; last_seq: number }[];
  first_time: string | null;
  last_time: string | null;
}

// What one row says of itself: the emitter and seq of an event row, and the
// times it names (an event's time; an aggregate's first and last seen).
export interface RowFacts {
  source?: string;
  seq?: number;
  times: string[];
}

const TIME_FIELDS = ['time', 'first_seen', 'last_seen'] as const;

type Obj = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const integer = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Number(v));

// A row as stored and presented (CSV and NDJSON files carry exactly these fields).
export function rowFacts(row: Obj): RowFacts {
  const times = TIME_FIELDS.map((f) => text(row[f])).filter((t): t is string => t !== undefined);
  const source = text(row.source);
  return source !== undefined && row.seq !== undefined ? { source, seq: integer(row.seq), times } : { times };
}

// One line of an OCSF or CloudEvents file, in the fields docs/ocsf.md gives.
function ocsfFacts(event: Obj): RowFacts {
  const metadata = (event.metadata ?? {}) as Obj;
  const actorlog = (((event.unmapped ?? {}) as Obj).actorlog ?? {}) as Obj;
  const source = text(((metadata.reporter ?? {}) as Obj).uid);
  const time = text(metadata.original_time);
  return { source, seq: integer(actorlog.seq), times: time ? [time] : [] };
}
const cloudEventFacts = (event: Obj): RowFacts => ({ source: text(event.source), seq: integer(event.sequence), times: text(event.time) ? [event.time as string] : [] });

export class ContentsTally {
  rows = 0;
  private readonly emitters = new Map<string, { events: number; first_seq: number; last_seq: number }>();
  private first = Infinity;
  private last = -Infinity;
  // A time that is not one is kept to be reported, never silently skipped.
  readonly unreadable: string[] = [];

  add(facts: RowFacts): void {
    this.rows++;
    for (const t of facts.times) {
      const ms = Date.parse(t);
      if (Number.isNaN(ms)) {
        if (this.unreadable.length < 5) this.unreadable.push(t);
        continue;
      }
      this.first = Math.min(this.first, ms);
      this.last = Math.max(this.last, ms);
    }
    if (facts.source === undefined || facts.seq === undefined) return;
    const seen = this.emitters.get(facts.source);
    if (!seen) this.emitters.set(facts.source, { events: 1, first_seq: facts.seq, last_seq: facts.seq });
    else {
      seen.events++;
      seen.first_seq = Math.min(seen.first_seq, facts.seq);
      seen.last_seq = Math.max(seen.last_seq, facts.seq);
    }
  }

  result(): Contents {
    return {
      emitters: [...this.emitters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([source, e]) => ({ source, ...e })),
      first_time: this.rows > 0 && Number.isFinite(this.first) ? new Date(this.first).toISOString() : null,
      last_time: this.rows > 0 && Number.isFinite(this.last) ? new Date(this.last).toISOString() : null,
    };
  }
}

// A report file read back as it was written in `format`, chunk by chunk (a
// file of any size), tallied as it was when written. Throws when a line
// cannot be read.
export class FileTally {
  readonly tally = new ContentsTally();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly facts: (row: Obj) => RowFacts;
  // NDJSON: the unfinished last line. CSV: the record being read.
  private rest = '';
  private line = 0;
  private header: string[] | undefined;
  private cells: string[] = [];
  private cell = '';
  private quoted = false;
  private afterQuote = false;
  private sawCR = false;

  constructor(private readonly format: ExportFormat) {
    this.facts = format === 'ocsf' ? ocsfFacts : format === 'cloudevents' ? cloudEventFacts : rowFacts;
  }

  push(bytes: Uint8Array): void {
    this.read(this.decoder.decode(bytes, { stream: true }));
  }

  end(): ContentsTally {
    this.read(this.decoder.decode());
    if (this.format === 'csv') {
      if (this.quoted) throw new Error('the file ends inside a quoted CSV cell');
      if (this.cell !== '' || this.cells.length > 0) this.record();
    } else if (this.rest !== '') this.jsonLine(this.rest);
    return this.tally;
  }

  private read(text: string): void {
    if (this.format === 'csv') return this.csv(text);
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop()!;
    for (const line of lines) this.jsonLine(line);
  }

  private jsonLine(text: string): void {
    this.line++;
    if (text === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`line ${this.line} of the file is not JSON`);
    }
    this.tally.add(this.facts(parsed as Obj));
  }

  // RFC 4180: quoted cells may hold commas, quotes and line breaks.
  private csv(text: string): void {
    for (const c of text) {
      if (this.sawCR) {
        this.sawCR = false;
        if (c === '\n') continue;
      }
      if (this.quoted) {
        if (c === '"') {
          this.quoted = false;
          this.afterQuote = true;
        } else this.cell += c;
        continue;
      }
      if (c === '"') {
        // A doubled quote inside a quoted cell is one quote.
        if (this.afterQuote) this.cell += '"';
        this.quoted = true;
        this.afterQuote = false;
        continue;
      }
      this.afterQuote = false;
      if (c === ',') {
        this.cells.push(this.cell);
        this.cell = '';
      } else if (c === '\r' || c === '\n') {
        this.sawCR = c === '\r';
        this.record();
      } else this.cell += c;
    }
  }

  private record(): void {
    const record = [...this.cells, this.cell];
    this.cells = [];
    this.cell = '';
    if (!this.header) {
      this.header = record;
      return;
    }
    this.tally.add(rowFacts(Object.fromEntries(this.header.map((name, i) => [name, record[i]]))));
  }
}
