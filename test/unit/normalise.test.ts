import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actorChainOf, normalise } from '../../processor/normalise.js';
import { statelessFlags } from '../../processor/flags.js';
import { fullEvent } from '../helpers/fixtures.js';
import type { ActorlogEvent } from '../../schemas/event.js';

const meta = { kid: 'k', rawJws: 'a.b.c', ingestedAt: Date.UTC(2026, 0, 1) };
const event = (overrides: Partial<ActorlogEvent> = {}) => ({ ...fullEvent('gw:1'), ...overrides }) as ActorlogEvent;

test('the actor chain follows RFC 8693 act nesting, outermost (current) actor first', () => {
  assert.deepEqual(actorChainOf(event()), ['agent:summarizer', 'agent:research']);
});

test('an explicit actors list wins over the token act claim', () => {
  assert.deepEqual(actorChainOf(event({ actors: [{ id: 'a1' }, { id: 'a2', kind: 'agent' }] })), ['a1', 'a2']);
});

test('no token and no actors: an empty chain', () => {
  assert.deepEqual(actorChainOf(event({ token: undefined })), []);
});

test('human, agent and actors stay in separate columns', () => {
  const row = normalise(event(), meta);
  assert.equal(row.human_sub, 'u-alice');
  assert.equal(row.agent_id, 'agent:research');
  assert.equal(row.token_sub, 'u-alice');
  assert.deepEqual(row.actor_chain, ['agent:summarizer', 'agent:research']);
  assert.equal(row.ingested_at, '2026-01-01 00:00:00.000');
  assert.match(row.time, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
});

test('flags: a clean delegated call raises none', () => {
  assert.deepEqual(statelessFlags(event()), []);
});

test('flag identity_context_loss: an agent call with no human, not declared autonomous', () => {
  assert.deepEqual(statelessFlags(event({ human: null })), ['identity_context_loss']);
  assert.deepEqual(statelessFlags(event({ human: null, delegation: { mode: 'none', scopes: [] } })), []);
  // Not an action: a heartbeat has no human to lose.
  assert.deepEqual(statelessFlags(event({ type: 'emitter.heartbeat', human: null, token: undefined })), []);
});

test('flag impersonation: delegation mode impersonation', () => {
  assert.deepEqual(statelessFlags(event({ delegation: { mode: 'impersonation', scopes: [] } })), ['impersonation']);
});

test('flag token_passthrough: the token audience is not the target server', () => {
  const base = event();
  const passed = event({ token: { ...base.token!, aud: ['https://gateway.acme.example'] } });
  assert.deepEqual(statelessFlags(passed), ['token_passthrough']);
  const multi = event({ token: { ...base.token!, aud: ['https://x.example', 'https://crm.mcp.acme.example'] } });
  assert.deepEqual(statelessFlags(multi), []);
});

test('flag expired_token: the token expired at or before the event time', () => {
  const base = event();
  const at = Math.floor(Date.parse(base.time) / 1000);
  assert.deepEqual(statelessFlags(event({ token: { ...base.token!, exp: at - 1 } })), ['expired_token']);
  assert.deepEqual(statelessFlags(event({ token: { ...base.token!, exp: at + 1 } })), []);
});
