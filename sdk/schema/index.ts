// `@actorlog/sdk/schema`: the event's wire contract (zod schemas, inferred
// types, the JSON Schema generator and the JWS header constants).
export * from './event.js';
export { EVENT_SCHEMA_ID, eventJsonSchema, eventJsonSchemaObject } from './json-schema.js';
