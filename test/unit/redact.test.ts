// Secrets never reach a log or a table: names that say "secret", and JWT-shaped values anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactJwts, redactUrl, redactValues } from '../../lib/redact.js';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

test('query parameters named like secrets lose their value; JWT-shaped values are replaced anywhere', () => {
  assert.equal(redactUrl(`/v1/events?access_token=abc&human=u-1`), '/v1/events?access_token=[redacted]&human=u-1');
  assert.equal(redactUrl(`/v1/events?ID_TOKEN=abc&Api-Key=k&client_secret=s&password=p&sig=x`), '/v1/events?ID_TOKEN=[redacted]&Api-Key=[redacted]&client_secret=[redacted]&password=[redacted]&sig=[redacted]');
  assert.equal(redactUrl(`/v1/events?human=${JWT}`), '/v1/events?human=[redacted-jwt]');
  assert.equal(redactUrl(`/v1/x/${JWT}/y`), '/v1/x/[redacted-jwt]/y');
  assert.equal(redactUrl('/v1/events?%ZZ=1&access%5Ftoken=abc'), '/v1/events?%ZZ=1&access%5Ftoken=[redacted]');
  assert.equal(redactUrl('/v1/events?human=u-1&tool=crm.search'), '/v1/events?human=u-1&tool=crm.search');
});

test('values: by name at any depth, JWT shapes inside longer text, other values untouched', () => {
  assert.deepEqual(redactValues({ access_token: 'abc', human: 'u-1', nested: { refresh_token: 'r', note: `Bearer ${JWT} end` }, list: [JWT, 'ok'] }), {
    access_token: '[redacted]',
    human: 'u-1',
    nested: { refresh_token: '[redacted]', note: 'Bearer [redacted-jwt] end' },
    list: ['[redacted-jwt]', 'ok'],
  });
  assert.equal(redactJwts('eyJ-not-a-token'), 'eyJ-not-a-token');
  assert.equal(redactJwts('Mozilla/5.0'), 'Mozilla/5.0');
});
