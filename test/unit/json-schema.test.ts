import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildIngestServer } from '../../ingest/server.js';
import { structuralOutcome, type IngestSink } from '../../ingest/sink.js';
import { Metrics } from '../../lib/metrics.js';
import { OPEN_INGEST } from '../helpers/fixtures.js';
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

test('the emitter package ships the same JSON Schema as @actorlog/sdk/event.schema.json', () => {
  const shipped = fileURLToPath(import.meta.resolve('@actorlog/sdk/event.schema.json'));
  assert.equal(fs.readFileSync(shipped, 'utf8'), fs.readFileSync(JSON_SCHEMA_FILE, 'utf8'));
});

test('ingest serves the JSON Schema at /v1/schema/event', async () => {
  const sink: IngestSink = { accept: async (items) => items.map(structuralOutcome), ready: async () => {}, close: async () => {} };
  const app = buildIngestServer({ sink, metrics: new Metrics(), logLevel: 'silent', bodyLimit: 1 << 20, maxEvents: 10, eventMaxBytes: 65536, ...OPEN_INGEST });
  try {
    const response = await app.inject({ method: 'GET', url: '/v1/schema/event' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/schema\+json/);
    assert.equal(response.body, fs.readFileSync(JSON_SCHEMA_FILE, 'utf8'));
  } finally {
    await app.close();
  }
});
