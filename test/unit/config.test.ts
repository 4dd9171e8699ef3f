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

test('the console signs in with OIDC at the issuer the API trusts, once a client id is set', () => {
  const auth = { ACTORLOG_AUTH_JWKS: '/tmp/jwks.json', ACTORLOG_AUTH_ISSUER: 'https://idp.example', ACTORLOG_AUTH_AUDIENCE: 'api' };
  assert.equal(loadConfig(auth).query.consoleOidc, undefined);
  assert.deepEqual(loadConfig({ ...auth, ACTORLOG_CONSOLE_OIDC_CLIENT_ID: 'console' }).query.consoleOidc, {
    issuer: 'https://idp.example',
    clientId: 'console',
    scope: 'openid',
    redirectUri: undefined,
    resource: undefined,
  });
  const refused = (env: Record<string, string>, what: RegExp) =>
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ActorlogError && err.code === 'CONFIG_INVALID' && what.test(err.message));
  refused({ ACTORLOG_CONSOLE_OIDC_CLIENT_ID: 'console' }, /needs ACTORLOG_AUTH_JWKS/);
  refused({ ...auth, ACTORLOG_CONSOLE_OIDC_CLIENT_ID: 'console', ACTORLOG_CONSOLE_OIDC_REDIRECT_URI: 'not a url' }, /ACTORLOG_CONSOLE_OIDC_REDIRECT_URI/);
  refused({ ...auth, ACTORLOG_AUTH_ISSUER: 'idp', ACTORLOG_CONSOLE_OIDC_CLIENT_ID: 'console' }, /must be a URL/);
});
