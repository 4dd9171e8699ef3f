// The v1 event as JSON Schema (draft 2020-12), for emitters written in other
// languages. Generated from the zod schema so the two cannot drift; the
// package ships it as `@actorlog/sdk/event.schema.json` and ingest serves it.
import { z } from 'zod';
import { eventSchema } from './event.js';

export const EVENT_SCHEMA_ID = 'urn:actorlog:schema:event:v1';

export function eventJsonSchemaObject(): Record<string, unknown> {
  const schema = z.toJSONSchema(eventSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return { $id: EVENT_SCHEMA_ID, title: 'actorlog event v1', ...schema };
}

export function eventJsonSchema(): string {
  return `${JSON.stringify(eventJsonSchemaObject(), null, 2)}\n`;
}
