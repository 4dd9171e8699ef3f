// Build step: writes dist/event.schema.json, the file the package exports as
// `@actorlog/sdk/event.schema.json`.
import fs from 'node:fs';
import { eventJsonSchema } from './json-schema.js';

const file = new URL('../event.schema.json', import.meta.url);
fs.writeFileSync(file, eventJsonSchema());
