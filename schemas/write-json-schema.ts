// Writes schemas/event.schema.json, the v1 event as JSON Schema, for emitters
// written in other languages. Generated from the zod schema; a unit test
// fails when the committed file is stale (`npm run schema:json` refreshes it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { eventSchema } from './event.js';

export function eventJsonSchema(): string {
  const schema = z.toJSONSchema(eventSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ $id: 'urn:actorlog:schema:event:v1', title: 'actorlog event v1', ...schema }, null, 2)}\n`;
}

export const JSON_SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas/event.schema.json');

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  fs.writeFileSync(JSON_SCHEMA_FILE, eventJsonSchema());
  process.stdout.write(`wrote ${JSON_SCHEMA_FILE}\n`);
}
