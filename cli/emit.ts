// `actorlog emit`: signs JSON events from a file or stdin and sends them.
import fs from 'node:fs';
import type { JWK } from 'jose';
import { EmitterClient } from '@actorlog/sdk';
import type { EventInput } from '../schemas/event.js';

export function parseEventsText(text: string): EventInput[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  // A JSON array, one JSON object, or NDJSON (one object a line).
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as EventInput[];
  try {
    return [JSON.parse(trimmed) as EventInput];
  } catch {
    return trimmed
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as EventInput);
  }
}

export interface EmitArgs {
  endpoint: string;
  source: string;
  keyFile: string;
  stateDir: string;
  input: string;
}

export async function emitCommand(args: EmitArgs): Promise<number> {
  const text = args.input === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(args.input, 'utf8');
  const events = parseEventsText(text);
  const rejected = new Set<string>();
  const client = new EmitterClient({
    endpoint: args.endpoint,
    source: args.source,
    privateJwk: JSON.parse(fs.readFileSync(args.keyFile, 'utf8')) as JWK,
    stateDir: args.stateDir,
    onRejected: (r) => {
      rejected.add(r.id);
      process.stderr.write(`rejected ${r.id}: ${r.code}: ${r.message}\n`);
    },
  });
  const ids: string[] = [];
  for (const event of events) ids.push(await client.emit(event));
  const result = await client.close();
  if (result.error) {
    process.stderr.write(`not sent (${result.pending} events kept in ${args.stateDir} for the next run): ${result.error.message}\n`);
    return 2;
  }
  for (const id of ids) if (!rejected.has(id)) process.stdout.write(`${id}\n`);
  return rejected.size > 0 ? 1 : 0;
}
