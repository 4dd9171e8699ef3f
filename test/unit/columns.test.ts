import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampEpochSeconds, DATETIME_MAX_SECONDS, EVENT_COLUMN_NAMES } from '../../schemas/row.js';
import { eventColumnsDdl, MIGRATIONS } from '../../store/migrations.js';
import { normalise } from '../../processor/normalise.js';
import { fullEvent } from '../helpers/fixtures.js';
import type { ActorlogEvent } from '../../schemas/event.js';

const meta = { kid: 'k', rawJws: 'a.b.c', ingestedAt: Date.UTC(2026, 0, 1), skew: { futureMs: 300_000, pastMs: 86_400_000 } };

test('the row normalise builds has exactly the columns of the specification, in its order', () => {
  assert.deepEqual(Object.keys(normalise(fullEvent('gw:1') as ActorlogEvent, meta)), EVENT_COLUMN_NAMES);
});

test('the events DDL declares every column of the specification: migration 1 creates, later ones add', () => {
  const ddl = MIGRATIONS.find((m) => m.version === 1)!.statements('db').join('\n');
  const declared = [...ddl.matchAll(/^\s+([a-z_0-9]+) [A-Z]/gm)].map((m) => m[1]).filter((name) => name !== 'INDEX');
  const added = MIGRATIONS.filter((m) => m.version > 1)
    .flatMap((m) => m.statements('db'))
    .flatMap((sql) => [...sql.matchAll(/^ALTER TABLE db\.events ADD COLUMN IF NOT EXISTS ([a-z_0-9]+) /g)].map((m) => m[1]));
  assert.deepEqual([...declared, ...added], EVENT_COLUMN_NAMES);
  assert.equal(eventColumnsDdl(1).length, declared.length);
  assert.match(ddl, /token_exp Nullable\(DateTime\('UTC'\)\)/);
  assert.ok(added.includes('prev_event_id'));
});

test('token exp and iat are clamped into the DateTime range, never wrapped', () => {
  assert.equal(clampEpochSeconds(undefined), null);
  assert.equal(clampEpochSeconds(1_767_225_600), 1_767_225_600);
  assert.equal(clampEpochSeconds(0), 0);
  assert.equal(clampEpochSeconds(-5), 0);
  assert.equal(clampEpochSeconds(DATETIME_MAX_SECONDS + 1), DATETIME_MAX_SECONDS);
  assert.equal(clampEpochSeconds(Number.MAX_SAFE_INTEGER), DATETIME_MAX_SECONDS);
  const base = fullEvent('gw:1') as ActorlogEvent;
  const row = normalise({ ...base, token: { ...base.token!, exp: 99_999_999_999 } }, meta);
  assert.equal(row.token_exp, DATETIME_MAX_SECONDS);
  assert.equal((JSON.parse(row.event_json) as ActorlogEvent).token!.exp, 99_999_999_999, 'the signed value is kept as sent');
});
