import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrictJson } from '../../lib/strict-json.js';

const ok = (text: string) => {
  const r = parseStrictJson(text);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.detail}`);
  return r.value;
};
const fault = (text: string, depth?: number) => {
  const r = parseStrictJson(text, depth);
  return r.ok ? 'ok' : r.fault;
};

test('valid JSON parses to the same value as JSON.parse', () => {
  for (const text of ['{}', '[]', '{"a":1,"b":[1,2,{"c":null}],"d":"x\\"y"}', ' { "a" : true } ', '"s"', '-1.5e3', '[{"a":1},{"a":2}]']) {
    assert.deepEqual(ok(text), JSON.parse(text));
  }
});

test('a duplicate key is refused, also when escaped differently or nested', () => {
  assert.equal(fault('{"human":"alice","human":"mallory"}'), 'duplicate_key');
  assert.equal(fault('{"a":1,"\\u0061":2}'), 'duplicate_key');
  assert.equal(fault('{"x":{"k":1,"k":1}}'), 'duplicate_key');
  // The same key in sibling objects is fine.
  assert.equal(fault('[{"k":1},{"k":2}]'), 'ok');
});

test('nesting beyond the bound is refused without recursion trouble', () => {
  assert.equal(fault('['.repeat(100_000) + ']'.repeat(100_000)), 'too_deep');
  assert.equal(fault('[[[1]]]', 3), 'ok');
  assert.equal(fault('[[[[1]]]]', 3), 'too_deep');
});

test('malformed input is invalid', () => {
  for (const text of ['', '{', '{"a"}', '{"a":}', '[1,]', '{"a":1,}', '01', 'nul', '{"a":1} x', '"\u0001"', "{'a':1}"]) {
    assert.equal(fault(text), 'invalid', JSON.stringify(text));
  }
});
