// Splits a request body into the raw bytes of each event, for the three media
// types ingest accepts. Each event keeps its own bytes, so a bad one can be
// quarantined exactly as it arrived.
import type { FastifyInstance } from 'fastify';
import { ActorlogError } from '../lib/errors.js';
import { parseStrictJson } from '../lib/strict-json.js';

export const JOSE = 'application/jose';
export const JSON_BATCH = 'application/json';
export const NDJSON = 'application/x-ndjson';

// A batch is an object holding an array of strings: anything nested deeper
// than this is no batch, and refusing it whole keeps hostile nesting away
// from every later step that walks the value.
const MAX_BATCH_DEPTH = 8;

function fromJsonBatch(body: Buffer): Buffer[] {
  const parsed = parseStrictJson(body.toString('utf8'), MAX_BATCH_DEPTH);
  if (!parsed.ok) throw new ActorlogError('BAD_REQUEST', `the body is not a JSON batch: ${parsed.detail}`);
  const events = (parsed.value as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) throw new ActorlogError('BAD_REQUEST', 'expected { "events": [ "<compact JWS>", ... ] }');
  // A non-string item is still an event someone sent: its bytes go on to be refused and quarantined.
  return events.map((e) => Buffer.from(typeof e === 'string' ? e : JSON.stringify(e) ?? 'null', 'utf8'));
}

function fromNdjson(body: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    const line = body.subarray(start, end);
    const text = line.toString('utf8').trim();
    if (text !== '') {
      // A line may hold the JWS bare or as a JSON string.
      let item = line;
      if (text.startsWith('"')) {
        try {
          item = Buffer.from(String(JSON.parse(text)), 'utf8');
        } catch {
          /* kept as sent; it will be refused as malformed */
        }
      }
      items.push(item);
    }
    start = end + 1;
  }
  return items;
}

export function registerEventParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const parsers: Record<string, (body: Buffer) => Buffer[]> = {
    [JOSE]: (body) => [body],
    [JSON_BATCH]: fromJsonBatch,
    [NDJSON]: fromNdjson,
  };
  for (const [type, split] of Object.entries(parsers)) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
      try {
        done(null, split(body as Buffer));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  }
}
