import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { deliveryId, findingKinds } from '../../webhooks/findings.js';
import { retryDelay } from '../../webhooks/deliverer.js';
import { loadSubscriptions } from '../../webhooks/subscriptions.js';
import { tempDir } from '../helpers/fixtures.js';

test('flags become findings: gaps, silence and chain breaks are kinds of their own, the rest is flag', () => {
  assert.deepEqual(
    [...findingKinds(['impersonation', 'sequence_gap', 'jti_reuse', 'chain_break'])],
    [
      ['flag', ['impersonation', 'jti_reuse']],
      ['sequence_gap', ['sequence_gap']],
      ['chain_break', ['chain_break']],
    ],
  );
  assert.deepEqual([...findingKinds([])], []);
});

test('a delivery id is stable for one subscription, event and kind, and differs otherwise', () => {
  assert.equal(deliveryId('s', 'e', 'flag'), deliveryId('s', 'e', 'flag'));
  assert.notEqual(deliveryId('s', 'e', 'flag'), deliveryId('s', 'e', 'sequence_gap'));
  assert.notEqual(deliveryId('s', 'e', 'flag'), deliveryId('t', 'e', 'flag'));
});

test('retries back off exponentially, capped at 15 minutes', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelay(n, 1000)), [1000, 2000, 4000, 8000]);
  assert.equal(retryDelay(40, 1000), 15 * 60_000);
});

test('subscriptions: read from the file, refused with the reason when wrong', () => {
  const dir = tempDir();
  const write = (value: unknown) => {
    const file = path.join(dir, `w${Math.random()}.json`);
    fs.writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const ok = { id: 'soc', tenant: 'acme', kinds: ['flag'], url: 'https://soc.example/hook' };
  assert.deepEqual(loadSubscriptions(write({ subscriptions: [ok] })), [ok]);
  assert.deepEqual(loadSubscriptions(undefined), []);
  assert.throws(() => loadSubscriptions(write({ subscriptions: [{ ...ok, kinds: ['everything'] }] })), /kinds/);
  assert.throws(() => loadSubscriptions(write({ subscriptions: [{ ...ok, url: 'ftp://soc.example' }] })), /url/);
  assert.throws(() => loadSubscriptions(write({ subscriptions: [ok, ok] })), /unique/);
  assert.throws(() => loadSubscriptions(path.join(dir, 'missing.json')), /WEBHOOKS_FILE/);
});
