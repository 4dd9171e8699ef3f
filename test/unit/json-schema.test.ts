import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { eventJsonSchema, JSON_SCHEMA_FILE } from '../../schemas/write-json-schema.js';

test('the committed JSON Schema matches the zod schema (run `npm run schema:json` after a change)', () => {
  assert.equal(fs.readFileSync(JSON_SCHEMA_FILE, 'utf8'), eventJsonSchema());
});

test('the JSON Schema describes every top-level field of the v1 event', () => {
  const schema = JSON.parse(eventJsonSchema());
  for (const field of ['specversion', 'id', 'source', 'type', 'time', 'seq', 'tenant', 'human', 'agent', 'actors', 'delegation', 'token', 'target', 'decision', 'downstream', 'context', 'payload', 'attrs']) {
    assert.ok(field in schema.properties, field);
  }
  assert.deepEqual([...schema.required].sort(), ['human', 'id', 'seq', 'source', 'specversion', 'tenant', 'time', 'type']);
});
