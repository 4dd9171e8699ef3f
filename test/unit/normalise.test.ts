import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actorChainOf, normalise } from '../../processor/normalise.js';
import { statelessFlags } from '../../processor/flags.js';
import { fullEvent } from '../helpers/fixtures.js';
import type { ActorlogEvent } from '../../schemas/event.js';

const skew = { futureMs: 300_000, pastMs: 86_400_000 };
const meta = { kid: 'k', rawJws: 'a.b.c', ingestedAt: Date.UTC(2026, 0, 1), skew };
// Flags of an event received when it says it happened.
const flagsOf = (e: ActorlogEvent, receivedAt = Date.parse(e.time)) => statelessFlags(e, receivedAt, skew);
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
  assert.deepEqual(flagsOf(event()), []);
});

test('flag identity_context_loss: an agent call with no human, not declared autonomous', () => {
  assert.deepEqual(flagsOf(event({ human: null })), ['identity_context_loss']);
  assert.deepEqual(flagsOf(event({ human: null, delegation: { mode: 'none', scopes: [] } })), []);
  // Not an action: a heartbeat has no human to lose.
  assert.deepEqual(flagsOf(event({ type: 'emitter.heartbeat', human: null, token: undefined })), []);
});

test('flag impersonation: delegation mode impersonation', () => {
  assert.deepEqual(flagsOf(event({ delegation: { mode: 'impersonation', scopes: [] } })), ['impersonation']);
});

test('flag token_passthrough: the token audience is not the target server', () => {
  const base = event();
  const passed = event({ token: { ...base.token!, aud: ['https://gateway.acme.example'] } });
  assert.deepEqual(flagsOf(passed), ['token_passthrough']);
  const multi = event({ token: { ...base.token!, aud: ['https://x.example', 'https://crm.mcp.acme.example'] } });
  assert.deepEqual(flagsOf(multi), []);
});

test('flag expired_token: the token expired at or before the event time', () => {
  const base = event();
  const at = Math.floor(Date.parse(base.time) / 1000);
  assert.deepEqual(flagsOf(event({ token: { ...base.token!, exp: at - 1 } })), ['expired_token']);
  assert.deepEqual(flagsOf(event({ token: { ...base.token!, exp: at + 1 } })), []);
});

test('flag clock_skew: the event time is too far ahead of or behind its receipt', () => {
  const e = event();
  const at = Date.parse(e.time);
  assert.deepEqual(flagsOf(e, at - 301_000), ['clock_skew']);
  assert.deepEqual(flagsOf(e, at + 86_401_000), ['clock_skew']);
  assert.deepEqual(flagsOf(e, at - 299_000), []);
  assert.deepEqual(flagsOf(e, at + 86_399_000), []);
});

test('flag scope_exceeded: the tool needs a scope the token does not hold; scope_exceeded_allowed: and the call went through', () => {
  const base = event();
  const tool = (required: string[]) => ({ ...base.target!, tool: { ...base.target!.tool!, required_scopes: required } });
  const denied = { ...base.decision!, outcome: 'deny' as const };
  assert.deepEqual(flagsOf(event({ target: tool(['crm.export']) })), ['scope_exceeded', 'scope_exceeded_allowed']);
  assert.deepEqual(flagsOf(event({ target: tool(['crm.export']), decision: { ...base.decision!, outcome: 'allow_with_obligations' } })), ['scope_exceeded', 'scope_exceeded_allowed']);
  // Blocked: policy did its job; the attempt is still flagged, not as the incident.
  assert.deepEqual(flagsOf(event({ target: tool(['crm.export']), decision: denied })), ['scope_exceeded']);
  assert.deepEqual(flagsOf(event({ target: tool(['crm.read']) })), []);
  // Without a token, the delegated scopes are what the agent holds.
  assert.deepEqual(flagsOf(event({ token: undefined, target: tool(['crm.read']) })), []);
  assert.deepEqual(flagsOf(event({ token: undefined, target: tool(['crm.write']), decision: denied })), ['scope_exceeded']);
});

test('flag scope_widening: an actor holds a scope its delegator did not', () => {
  const base = event();
  // The token holds more than the human delegated.
  assert.deepEqual(flagsOf(event({ token: { ...base.token!, scope: ['crm.read', 'crm.admin'] } })), ['scope_widening']);
  // A sub-agent (outermost) holds more than the agent that delegated to it.
  const chain = [
    { id: 'agent:sub', scopes: ['crm.read', 'crm.write'] },
    { id: 'agent:main', scopes: ['crm.read'] },
  ];
  assert.deepEqual(flagsOf(event({ actors: chain })), ['scope_widening']);
  // Narrowing along the chain is fine.
  assert.deepEqual(flagsOf(event({ actors: [{ id: 'agent:sub', scopes: ['crm.read'] }, { id: 'agent:main', scopes: ['crm.read'] }] })), []);
  // Ambient authority delegates nothing, so nothing can widen.
  assert.deepEqual(flagsOf(event({ delegation: { mode: 'ambient', scopes: [] } })), []);
});
