import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoEvents, DEMO_EMITTERS } from '../../cli/demo.js';
import { generateEmitterKey } from '../../keys/generate.js';
import { normalise } from '../../processor/normalise.js';
import { EVENT_TYPES, type ActorlogEvent, type EventInput } from '../../schemas/event.js';
import type { EventRow } from '../../schemas/row.js';
import { importSigningKey, signEvent } from '@actorlog/sdk';
import { uuidv7 } from '@actorlog/sdk';
import { toOcsf } from '../../schemas/ocsf/map.js';
import { validateOcsf } from '../../schemas/ocsf/validate.js';
import { fullEvent } from '../helpers/fixtures.js';
import { ChainStage, jwsDigest } from '../../processor/state/chains.js';

const skew = { futureMs: 300_000, pastMs: 86_400_000 };

// Signs and normalises events the way the processor does, giving stored rows.
async function rows(inputs: { source: string; event: EventInput }[], alg: 'EdDSA' | 'ES256' = 'EdDSA'): Promise<EventRow[]> {
  const key = await generateEmitterKey(alg);
  const signer = await importSigningKey(key.privateJwk);
  let seq = 0;
  const out: EventRow[] = [];
  for (const { source, event: input } of inputs) {
    const event = { specversion: '1.0', id: uuidv7(), source, seq: ++seq, ...input } as ActorlogEvent;
    const rawJws = await signEvent(event, signer);
    out.push(normalise(event, { kid: key.kid, rawJws, ingestedAt: Date.parse(event.time) + 1000, skew }));
  }
  return out;
}

const demoRows = () => rows(demoEvents(Date.UTC(2026, 10, 23, 6)).map(({ emitter, event }) => ({ source: DEMO_EMITTERS[emitter], event })));

const assertValid = (row: EventRow) => {
  const ocsf = toOcsf(row);
  const result = validateOcsf(ocsf);
  assert.deepEqual(result.errors, [], `${row.type} (${row.id}) as OCSF: ${JSON.stringify(result.errors)}`);
  return ocsf;
};

test('every event of the demo maps to OCSF and validates against the pinned definitions', async () => {
  const all = await demoRows();
  const types = new Set(all.map((r) => r.type));
  assert.ok(types.size >= 5, `demo covers ${[...types].join(', ')}`);
  for (const row of all) assertValid(row);
});

// One event of every type (the demo does not send revocations, sessions,
// heartbeats or downstream responses), each mapped and validated.
test('every event type maps and validates, to the class documented for it', async () => {
  const human = { sub: 'u-dave', iss: 'https://login.acme.example', email: 'dave@acme.example' };
  const delegation = { mode: 'oauth' as const, grant_id: 'g-1', consent_id: 'c-1', scopes: ['crm.read'] };
  const base = (type: string, extra: Partial<EventInput> = {}) => {
    const { id: _id, specversion: _s, seq: _q, source: _src, ...input } = fullEvent('gw:1', { type, ...extra } as Partial<EventInput>);
    return { source: 'gw:1', event: input as EventInput };
  };
  const inputs = EVENT_TYPES.map((type) => {
    switch (type) {
      case 'identity.lifecycle':
        return base(type, { human, lifecycle: { change: 'mover', roles: ['sales'] }, agent: undefined, token: undefined, target: undefined, decision: undefined, context: undefined, delegation: undefined });
      case 'session.started':
      case 'session.ended':
      case 'emitter.heartbeat':
        return base(type, { human: null, agent: undefined, token: undefined, target: undefined, decision: undefined, delegation: undefined, context: undefined });
      case 'downstream.response':
        return base(type, { downstream: { system: 'salesforce', status: '403', permission: 'denied' } });
      case 'delegation.revoked':
      case 'consent.revoked':
      case 'delegation.granted':
      case 'consent.granted':
        return base(type, { delegation, target: undefined, decision: undefined });
      default:
        return base(type);
    }
  });
  const expected: Record<string, number> = {
    'mcp.tool.call': 6003,
    'mcp.tool.result': 6003,
    'authz.decision': 6003,
    'token.exchanged': 6003,
    'downstream.response': 6003,
    'session.started': 6003,
    'session.ended': 6003,
    'delegation.granted': 3003,
    'consent.granted': 3003,
    'delegation.revoked': 3007,
    'consent.revoked': 3007,
    'identity.lifecycle': 3007,
    'emitter.heartbeat': 6002,
  };
  for (const row of await rows(inputs, 'ES256')) {
    const ocsf = assertValid(row);
    assert.equal(ocsf.class_uid, expected[row.type], row.type);
  }
});

test('a tool call carries the human, the agent, the server and tool, the decision, the signature and the delegation DAG', async () => {
  const [row] = await rows([
    {
      source: 'gw:1',
      event: {
        ...fullEvent('gw:1', {
          human: { sub: 'u-alice', iss: 'https://login.acme.example', email: 'alice@acme.example', name: 'Alice' },
          actors: [
            { id: 'agent:summarizer', kind: 'agent', scopes: ['crm.read'] },
            { id: 'agent:research', kind: 'agent', scopes: ['crm.read', 'files.read'] },
          ],
          decision: { outcome: 'deny', policy: { id: 'tools', version: '3' }, reason: 'no', decided_by: 'gateway' },
          context: { session_id: 'sess-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', client_ip: '10.1.2.3', request_id: 'req-9' },
        }),
        time: '2026-11-23T06:00:00.000Z',
      } as EventInput,
    },
  ]);
  const o = assertValid(row!) as Record<string, any>;
  assert.equal(o.class_uid, 6003);
  assert.equal(o.activity_id, 2); // search reads
  assert.equal(o.type_uid, 600302);
  assert.equal(o.time, Date.parse('2026-11-23T06:00:00.000Z'));
  assert.deepEqual(o.actor.user, { uid: 'u-alice', full_name: 'Alice', email_addr: 'alice@acme.example', type_id: 1, type: 'User' });
  assert.equal(o.actor.session.credential_uid, 'jti-1');
  assert.deepEqual(o.ai_agent, { uid: 'agent:research', instance_uid: 'sess-1' });
  assert.deepEqual(o.api, { operation: 'crm.search', service: { uid: 'mcp:crm', name: 'mcp:crm' }, request: { uid: 'req-9' } });
  assert.deepEqual(o.resources.map((r: any) => r.type), ['MCP Server', 'MCP Tool']);
  assert.deepEqual(o.src_endpoint, { uid: 'spiffe://acme.example/research', ip: '10.1.2.3' });
  assert.equal(o.disposition_id, 2);
  assert.equal(o.action_id, 2);
  assert.equal(o.status_id, 2);
  assert.deepEqual(o.policy, { uid: 'tools', name: 'tools', version: '3', is_applied: true, desc: 'no' });
  assert.equal(o.trace.uid, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.deepEqual(o.metadata.profiles, ['ai_operation', 'security_control', 'record_integrity', 'trace']);
  assert.equal(o.metadata.uid, row!.id);
  assert.equal(o.metadata.reporter.uid, 'gw:1');
  const [att] = o.attestation_list;
  assert.equal(att.chain_uid, 'gw:1');
  assert.equal(att.signatures[0].algorithm, 'EdDSA');
  assert.equal(o.raw_data, row!.raw_jws);
  assert.deepEqual(o.unmapped.actorlog.delegation.actors, [
    { uid: 'agent:summarizer', kind: 'agent', scopes: ['crm.read'], parent_uid: 'agent:research' },
    { uid: 'agent:research', kind: 'agent', scopes: ['crm.read', 'files.read'], parent_uid: 'u-alice' },
  ]);
});

test('flags become enrichments, an alert and the severity', async () => {
  const [row] = await rows([{ source: 'gw:1', event: { ...fullEvent('gw:1', { delegation: { mode: 'impersonation', scopes: ['crm.read'] } }) } as EventInput }]);
  assert.ok(row!.flags.includes('impersonation'));
  const o = assertValid(row!) as Record<string, any>;
  assert.equal(o.is_alert, true);
  assert.equal(o.severity_id, 4);
  assert.ok(o.enrichments.some((e: any) => e.value === 'impersonation' && e.data.flag === 'impersonation'));
});

test("the emitter's chain link stays with the event, and a chain break is a high-severity alert", async () => {
  const prev = 'ab'.repeat(32);
  const [row] = await rows([{ source: 'gw:1', event: { ...fullEvent('gw:1'), prev } as EventInput }]);
  const o = assertValid({ ...row!, flags: ['chain_break'] }) as Record<string, any>;
  assert.equal(o.unmapped.actorlog.prev, prev);
  assert.equal(o.severity_id, 4);
  assert.equal(o.enrichments[0].value, 'chain_break');
});

test('a verified chain link names the previous event in attestation.prev_event; an unverified one stays unmapped', async () => {
  const key = await generateEmitterKey('EdDSA');
  const signer = await importSigningKey(key.privateJwk);
  const signed = async (seq: number, prev?: string) => {
    const event = { ...fullEvent('gw:1'), id: uuidv7(), seq, ...(prev ? { prev } : {}) } as ActorlogEvent;
    const rawJws = await signEvent(event, signer);
    return { event, row: normalise(event, { kid: key.kid, rawJws, ingestedAt: Date.parse(event.time) + 1000, skew }) };
  };
  const first = await signed(1);
  const second = await signed(2, jwsDigest(first.row.raw_jws));
  const forged = await signed(3, 'cd'.repeat(32));
  // the processor's chain stage decides which links verify
  const chain = new ChainStage(new Map());
  for (const { row, event } of [first, second, forged]) chain.observe(row, event, Date.now());
  assert.equal(first.row.prev_event_id, '');
  assert.equal(second.row.prev_event_id, first.row.id);
  assert.equal(forged.row.prev_event_id, '');

  const linked = assertValid(second.row) as Record<string, any>;
  assert.deepEqual(linked.attestation_list[0].prev_event, {
    uid: first.row.id,
    fingerprint: { ...linked.attestation_list[0].fingerprint, value: jwsDigest(first.row.raw_jws) },
  });
  assert.equal(linked.attestation_list[0].prev_event.fingerprint.value, (assertValid(first.row) as Record<string, any>).attestation_list[0].fingerprint.value);
  assert.equal(linked.unmapped.actorlog.prev, undefined, 'the verified link is not repeated under unmapped');

  for (const row of [first.row, forged.row]) {
    const o = assertValid(row) as Record<string, any>;
    assert.equal(o.attestation_list[0].prev_event, undefined);
  }
  assert.equal((assertValid(forged.row) as Record<string, any>).unmapped.actorlog.prev, 'cd'.repeat(32));
});

test('the mapping is deterministic', async () => {
  const [row] = await rows([{ source: 'gw:1', event: fullEvent('gw:1') as EventInput }]);
  assert.deepEqual(toOcsf(row!), toOcsf(row!));
});
