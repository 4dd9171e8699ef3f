// Writes schemas/event.schema.json, the committed copy of the event's JSON
// Schema (the emitter package generates the same file into its build). A unit
// test fails when it is stale (`npm run schema:json` refreshes it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventJsonSchema } from '@actorlog/sdk/schema';

export { eventJsonSchema };

export const JSON_SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas/event.schema.json');

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  fs.writeFileSync(JSON_SCHEMA_FILE, eventJsonSchema());
  process.stdout.write(`wrote ${JSON_SCHEMA_FILE}\n`);
}
