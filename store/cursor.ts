// Opaque, stable cursors: the (time, id) of the last row returned. Newest
// first by (time, id) is a total order, so a page never repeats or skips a row
// even while new events arrive.
import { ActorlogError } from '../lib/errors.js';

export interface Cursor {
  time: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.time, cursor.id]), 'utf8').toString('base64url');
}

// Issued cursors carry a stored time: the shape, and a date that exists (no
// month 13, no 25:00), within the years storage keeps.
function isRealTime(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/.test(text)) return false;
  const ms = Date.parse(`${text.replace(' ', 'T')}Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString() === `${text.replace(' ', 'T')}Z` && text >= '1970' && text < '2300';
}

export function decodeCursor(text: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      if (isRealTime(value[0])) return { time: value[0], id: value[1] };
    }
  } catch {
    /* fall through to the typed error */
  }
  throw new ActorlogError('INVALID_CURSOR');
}
