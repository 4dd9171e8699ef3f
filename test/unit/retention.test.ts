// Retention configuration and the expiry record's text: parsed strictly,
// formatted canonically, ranges exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetention } from '../../lib/config.js';
import { ActorlogError } from '../../lib/errors.js';
import { retentionDays } from '../../transparency/expiry.js';
import { eventsDigest, formatExpiryRecord, formatRanges, parseExpiryRecord, recordId, type ExpiryRecord } from '../../transparency/expiry-record.js';

test('RETENTION: days per tenant, "*" for the rest, 0 or forever keeps; unset keeps everything', () => {
  const r = { ...parseRetention('acme=90, globex=forever,*=365,initech=0'), checkMs: 1 };
  assert.equal(retentionDays(r, 'acme'), 90);
  assert.equal(retentionDays(r, 'globex'), undefined);
  assert.equal(retentionDays(r, 'initech'), undefined);
  assert.equal(retentionDays(r, 'other'), 365);
  const none = { ...parseRetention(undefined), checkMs: 1 };
  assert.equal(retentionDays(none, 'acme'), undefined);
  for (const bad of ['acme', 'acme=-1', 'acme=1.5', 'acme=90d', '=3']) {
    assert.throws(() => parseRetention(bad), (err: unknown) => err instanceof ActorlogError && err.code === 'CONFIG_INVALID', bad);
  }
});

test('leaf ranges are written compactly and read back exactly', () => {
  assert.equal(formatRanges([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  assert.equal(formatRanges([4]), '4');
  const record: ExpiryRecord = {
    origin: 'example.org/log',
    tenant: 'acme',
    before: '2026-01-01T00:00:00.000Z',
    count: 6,
    leaves: [0, 1, 2, 5, 7, 8],
    events: (() => {
      const d = eventsDigest();
      d.add(0, 'a');
      return d.digest();
    })(),
    checkpoint: { size: 10, root: Buffer.alloc(32, 7) },
    time: '2026-11-23T00:00:00.000Z',
  };
  const text = formatExpiryRecord(record);
  assert.deepEqual(parseExpiryRecord(text), record);
  assert.match(recordId(text), /^[0-9a-f]{16}$/);
  // Not a checkpoint: its second line is no tree size.
  assert.equal(text.split('\n')[1], 'expiry-record/v1');
  for (const [from, to] of [
    ['count 6', 'count 5'],
    ['leaves 0-2,5,7-8', 'leaves 2-0'],
    ['leaves 0-2,5,7-8', 'leaves 5,0-2,7-8'],
    ['expiry-record/v1', 'expiry-record/v2'],
    ['checkpoint 10 ', 'checkpoint x '],
  ] as const) {
    assert.throws(() => parseExpiryRecord(text.replace(from, to)), /./, `${from} -> ${to}`);
  }
});
