// One log format: with its output piped, `actorlog start` writes nothing but
// JSON lines (level by name, ISO time), fastify's request lines included, and
// announces where it listens as one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LISTENING, listening, startService } from '../helpers/processes.js';

test('actorlog start with piped output: every line is one JSON log line of one shape', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-log-format-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, INGEST_PORT: '0', QUERY_PORT: '0', LOG_LEVEL: 'info', KAFKA_BROKERS: '' };
  const service = await startService(['start'], env, LISTENING);
  try {
    const where = listening(service.output());
    assert.match(where.query_api!, /^http:\/\/\S+\/v1\/events$/);
    assert.match(where.console!, /^http:\/\/\S+\/$/);
    // A request, so fastify writes its request lines too.
    const res = await fetch(where.query_api!.replace(/\/v1\/events$/, '/healthz'), { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    const deadline = Date.now() + 10_000;
    while (!/"reqId"/.test(service.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    const stopped = await service.stop();
    assert.ok(stopped.clean, `a clean stop: ${JSON.stringify(stopped)}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  // Whole lines only: the pipes may still be draining after the exit.
  const output = service.output();
  const lines = output.slice(0, output.lastIndexOf('\n')).split('\n').filter((line) => line !== '');
  const parsed = lines.map((line) => {
    let value: { level?: unknown; time?: unknown; name?: unknown; msg?: unknown; reqId?: unknown };
    assert.doesNotThrow(() => (value = JSON.parse(line) as typeof value), `not JSON: ${line}`);
    const v = value!;
    assert.equal(typeof v.level, 'string', line);
    assert.match(String(v.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
    assert.equal(typeof v.name, 'string', line);
    return v;
  });
  assert.ok(parsed.some((v) => v.msg === 'listening'));
  assert.ok(parsed.some((v) => typeof v.reqId === 'string' && v.name === 'query-api'), 'a request line from fastify, with its request id');
});
