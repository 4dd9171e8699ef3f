import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectEnvelope } from '../../schemas/envelope.js';
import { b64url } from '../helpers/fixtures.js';

const header = { alg: 'EdDSA', kid: 'k1', typ: 'actorlog-event+jws' };
const payload = { source: 'gw:1', id: 'e1', tenant: 'acme' };
const envelope = (h: unknown, p: unknown, sig = 'c2ln') => Buffer.from(`${b64url(h)}.${b64url(p)}.${sig}`);
const reasonOf = (raw: Buffer, max = 65536) => {
  const result = inspectEnvelope(raw, max);
  return result.ok ? 'ok' : result.reason;
};

test('a well-formed envelope passes and exposes what it claims', () => {
  const result = inspectEnvelope(envelope(header, payload), 65536);
  assert.equal(result.ok, true);
  assert.deepEqual(result.claimed, { kid: 'k1', source: 'gw:1', id: 'e1', tenant: 'acme' });
});

test('each structural fault has its own reason', () => {
  const cases: [string, Buffer, string][] = [
    ['oversized', envelope(header, { ...payload, pad: 'x'.repeat(200) }), 'event_too_large'],
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x2e, 0x41]), 'not_utf8'],
    ['two parts', Buffer.from('abc.def'), 'jws_malformed'],
    ['JSON serialization', Buffer.from(JSON.stringify({ payload: 'x', signatures: [] })), 'jws_malformed'],
    ['random bytes', Buffer.from('%%%.***.!!!'), 'jws_malformed'],
    ['header not JSON', Buffer.from(`${b64url('nope')}.${b64url(payload)}.c2ln`), 'jws_header_invalid'],
    ['header is an array', envelope([1, 2], payload), 'jws_header_invalid'],
    ['alg none', envelope({ ...header, alg: 'none' }, payload), 'alg_not_allowed'],
    ['HMAC', envelope({ ...header, alg: 'HS256' }, payload), 'alg_not_allowed'],
    ['RSA', envelope({ ...header, alg: 'RS256' }, payload), 'alg_not_allowed'],
    ['embedded jwk', envelope({ ...header, jwk: { kty: 'OKP' } }, payload), 'header_forbidden_param'],
    ['jku', envelope({ ...header, jku: 'https://evil.example/keys' }, payload), 'header_forbidden_param'],
    ['x5c', envelope({ ...header, x5c: ['MII'] }, payload), 'header_forbidden_param'],
    ['crit', envelope({ ...header, crit: ['exp'] }, payload), 'header_forbidden_param'],
    ['b64 false', envelope({ ...header, b64: false }, payload), 'header_forbidden_param'],
    ['wrong typ', envelope({ ...header, typ: 'JWT' }, payload), 'typ_invalid'],
    ['typ with another prefix', envelope({ ...header, typ: 'text/actorlog-event+jws' }, payload), 'typ_invalid'],
    ['typ missing', envelope({ alg: 'EdDSA', kid: 'k1' }, payload), 'typ_invalid'],
    ['no kid', envelope({ alg: 'EdDSA', typ: 'actorlog-event+jws' }, payload), 'kid_missing'],
    ['payload not JSON', Buffer.from(`${b64url(header)}.${b64url('hello')}.c2ln`), 'payload_not_json'],
    ['payload without source', envelope(header, { id: 'e1' }), 'source_missing'],
    ['duplicate key in payload', Buffer.from(`${b64url(header)}.${b64url('{"source":"gw:1","source":"gw:2"}')}.c2ln`), 'json_duplicate_key'],
    ['duplicate key in header', Buffer.from(`${b64url('{"alg":"EdDSA","alg":"none","kid":"k","typ":"actorlog-event+jws"}')}.${b64url(payload)}.c2ln`), 'json_duplicate_key'],
    ['deeply nested payload', Buffer.from(`${b64url(header)}.${b64url(`{"source":"gw:1","x":${'['.repeat(500)}${']'.repeat(500)}}`)}.c2ln`), 'json_too_deep'],
    ['payload not UTF-8', Buffer.from(`${b64url(header)}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.c2ln`), 'not_utf8'],
  ];
  for (const [name, raw, reason] of cases) {
    assert.equal(reasonOf(raw, name === 'oversized' ? 200 : 65536), reason, name);
  }
});

test('a refused envelope still reports the emitter and event it claims', () => {
  const result = inspectEnvelope(envelope({ ...header, alg: 'none' }, payload), 65536);
  assert.equal(result.ok, false);
  assert.equal(result.claimed.source, 'gw:1');
  assert.equal(result.claimed.id, 'e1');
});

test('surrounding whitespace (a trailing newline) is tolerated', () => {
  assert.equal(reasonOf(Buffer.concat([envelope(header, payload), Buffer.from('\r\n')])), 'ok');
});

test('typ is a media type (RFC 7515 4.1.9): case-insensitive, application/ prefix optional; alg Ed25519 (RFC 9864) beside EdDSA', () => {
  for (const typ of ['actorlog-event+jws', 'Actorlog-Event+JWS', 'application/actorlog-event+jws', 'APPLICATION/actorlog-event+jws']) {
    assert.equal(reasonOf(envelope({ ...header, typ }, payload)), 'ok', typ);
  }
  assert.equal(reasonOf(envelope({ ...header, alg: 'Ed25519' }, payload)), 'ok');
});
