// A signed expiry record: the log's own statement that it removed, by
// retention, the events logged under certain leaves. A C2SP signed note by
// the log key whose text is
//
//   <origin>
//   expiry-record/v1
//   tenant <tenant>
//   before <RFC 3339: events older than this were expired>
//   count <number of leaves>
//   leaves <ascending leaf indexes as ranges: 3-7,12,20-21>
//   events <base64 SHA-256 over "<leaf index> <event id>\n" per leaf, in order>
//   checkpoint <tree size> <base64 root hash>   (the checkpoint it was made against)
//   time <RFC 3339 of the expiry>
//
// The second line keeps a record from ever parsing as a checkpoint (whose
// second line is a tree size). Its id is the first 16 hex digits of the
// SHA-256 of the text, so anyone holding the record can name it.
import { createHash } from 'node:crypto';

export const EXPIRY_RECORD_TYPE = 'expiry-record/v1';

export interface ExpiryRecord {
  origin: string;
  tenant: string;
  before: string;
  count: number;
  // Sorted ascending, no repeats.
  leaves: number[];
  events: string;
  checkpoint: { size: number; root: Buffer };
  time: string;
}

export class ExpiryRecordError extends Error {
  override name = 'ExpiryRecordError';
}

export function recordId(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

// Running digest of the expired (leaf index, event id) pairs, in leaf order.
export function eventsDigest(): { add(idx: number, id: string): void; digest(): string } {
  const hash = createHash('sha256');
  return { add: (idx, id) => hash.update(`${idx} ${id}\n`, 'utf8'), digest: () => hash.digest('base64') };
}

export function formatRanges(sorted: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function parseRanges(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(0|[1-9]\d*)(?:-(0|[1-9]\d*))?$/.exec(part);
    if (!m) throw new ExpiryRecordError(`"${part}" is not a leaf index or range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || (out.length > 0 && from <= out[out.length - 1]!)) throw new ExpiryRecordError('leaf ranges are not ascending');
    if (to - from > 10_000_000) throw new ExpiryRecordError('a leaf range is too long');
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

const oneLine = (v: string) => v !== '' && !/[\s]/u.test(v);

export function formatExpiryRecord(r: ExpiryRecord): string {
  if (!oneLine(r.origin) || !oneLine(r.tenant)) throw new ExpiryRecordError('origin and tenant are single words');
  if (r.count !== r.leaves.length || r.count === 0) throw new ExpiryRecordError('the count is the number of leaves, at least one');
  return [
    r.origin,
    EXPIRY_RECORD_TYPE,
    `tenant ${r.tenant}`,
    `before ${r.before}`,
    `count ${r.count}`,
    `leaves ${formatRanges(r.leaves)}`,
    `events ${r.events}`,
    `checkpoint ${r.checkpoint.size} ${r.checkpoint.root.toString('base64')}`,
    `time ${r.time}`,
  ]
    .map((l) => `${l}\n`)
    .join('');
}

export function parseExpiryRecord(text: string): ExpiryRecord {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : [];
  if (lines.length !== 9 || lines[1] !== EXPIRY_RECORD_TYPE) throw new ExpiryRecordError(`not an ${EXPIRY_RECORD_TYPE} note`);
  const field = (i: number, name: string) => {
    const line = lines[i]!;
    if (!line.startsWith(`${name} `)) throw new ExpiryRecordError(`line ${i + 1} is not "${name} ..."`);
    return line.slice(name.length + 1);
  };
  const count = Number(field(4, 'count'));
  const leaves = parseRanges(field(5, 'leaves'));
  if (!Number.isSafeInteger(count) || count !== leaves.length) throw new ExpiryRecordError(`count ${field(4, 'count')} is not the number of leaves listed (${leaves.length})`);
  const [sizeText, rootText] = field(7, 'checkpoint').split(' ');
  const root = Buffer.from(rootText ?? '', 'base64');
  if (!/^(0|[1-9]\d*)$/.test(sizeText ?? '') || root.length !== 32) throw new ExpiryRecordError('the checkpoint line is not "<size> <base64 root>"');
  const events = field(6, 'events');
  if (Buffer.from(events, 'base64').length !== 32) throw new ExpiryRecordError('the events digest is not a base64 SHA-256');
  return {
    origin: lines[0]!,
    tenant: field(2, 'tenant'),
    before: field(3, 'before'),
    count,
    leaves,
    events,
    checkpoint: { size: Number(sizeText), root },
    time: field(8, 'time'),
  };
}
