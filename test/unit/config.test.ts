import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfig } from '../../lib/config.js';
import { ActorlogError } from '../../lib/errors.js';

test('defaults: embedded mode under ./data, ingest 8080, query 8081, loopback', () => {
  const config = loadConfig({});
  assert.equal(config.kafka, undefined);
  assert.equal(config.clickhouse.url, undefined);
  assert.equal(config.dataDir, path.resolve('data'));
  assert.equal(config.clickhouse.embeddedPath, path.resolve('data', 'clickhouse'));
  assert.equal(config.keysFile, path.resolve('data', 'keys', 'emitters.json'));
  assert.equal(config.ingest.port, 8080);
  assert.equal(config.query.port, 8081);
  assert.equal(config.host, '127.0.0.1');
});

test('KAFKA_BROKERS switches to Kafka mode; a blank value does not', () => {
  assert.deepEqual(loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092' }).kafka?.brokers, ['a:9092', 'b:9092']);
  assert.equal(loadConfig({ KAFKA_BROKERS: '  ' }).kafka, undefined);
});

test('invalid values are refused with a CONFIG_INVALID naming the variable', () => {
  assert.throws(
    () => loadConfig({ INGEST_PORT: 'eighty' }),
    (err: unknown) => err instanceof ActorlogError && err.code === 'CONFIG_INVALID' && /INGEST_PORT/.test(err.message),
  );
  assert.throws(() => loadConfig({ CLICKHOUSE_DATABASE: 'x; DROP TABLE y' }), /CLICKHOUSE_DATABASE/);
});
