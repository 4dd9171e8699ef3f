import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateOcsf } from '../../schemas/ocsf/validate.js';
import { ocsfSchema, OCSF_VERSION } from '../../schemas/ocsf/definitions.js';

// A small, valid API Activity event written by hand from the pinned definitions.
const valid = () => ({
  class_uid: 6003,
  class_name: 'API Activity',
  category_uid: 6,
  category_name: 'Application Activity',
  activity_id: 2,
  activity_name: 'Read',
  type_uid: 600302,
  type_name: 'API Activity: Read',
  severity_id: 1,
  severity: 'Informational',
  time: 1767225600000,
  metadata: {
    version: OCSF_VERSION,
    uid: '0192a6a0-0000-7000-8000-000000000001',
    product: { name: 'actorlog', vendor_name: 'actorlog' },
    profiles: ['ai_operation', 'security_control', 'record_integrity'],
  },
  actor: { user: { uid: 'u-alice', email_addr: 'alice@acme.example', type_id: 1, type: 'User' } },
  api: { operation: 'crm.search', service: { uid: 'mcp:crm', name: 'mcp:crm' }, request: { uid: 'req-1' } },
  src_endpoint: { uid: 'spiffe://acme.example/research' },
  ai_agent: { uid: 'agent:research', name: 'research' },
  disposition_id: 1,
  disposition: 'Allowed',
  policy: { uid: 'tools', version: '3' },
  attestation_list: [
    {
      chain_uid: 'gw:1',
      authority_uid: 'gw:1',
      fingerprint: { algorithm_id: 3, algorithm: 'SHA-256', value: 'ab'.repeat(32) },
      signatures: [{ algorithm_id: 99, algorithm: 'EdDSA', serialization_id: 3, serialization: 'JWS' }],
    },
  ],
  unmapped: { anything: { goes: ['here'] } },
});

type Event = Record<string, any>;
const errorsOf = (event: unknown) => validateOcsf(event).errors;
const paths = (event: unknown) => errorsOf(event).map((e) => e.path);
const mutate = (change: (e: Event) => void) => {
  const e = valid() as Event;
  change(e);
  return e;
};

test('the pinned definitions hold the classes the mapping uses, with their profiles', () => {
  const schema = ocsfSchema();
  assert.equal(schema.version, OCSF_VERSION);
  assert.equal(schema.classes.get(6003)?.caption, 'API Activity');
  assert.equal(schema.classes.get(3003)?.caption, 'Authorize Session');
  assert.equal(schema.classes.get(3007)?.caption, 'User Management');
  assert.ok(schema.classes.get(6003)?.profiles.includes('ai_operation'));
  assert.ok(schema.classes.get(6003)?.profiles.includes('record_integrity'));
  assert.equal(schema.object('attestation')?.attributes.get('prev_event')?.type, 'prev_event');
});

test('a correct event validates', () => {
  assert.deepEqual(errorsOf(valid()), []);
});

test('wrong types are refused: string for a timestamp, float for an integer, number for a string, object for an array', () => {
  assert.deepEqual(paths(mutate((e) => (e.time = '2026-01-01T00:00:00Z'))), ['time']);
  assert.deepEqual(paths(mutate((e) => (e.severity_id = 1.5))), ['severity_id']);
  assert.deepEqual(paths(mutate((e) => (e.api.operation = 42))), ['api.operation']);
  assert.deepEqual(paths(mutate((e) => (e.attestation_list = e.attestation_list[0]))), ['attestation_list']);
  assert.deepEqual(paths(mutate((e) => (e.actor = 'alice'))), ['actor']);
  assert.deepEqual(paths(mutate((e) => (e.metadata.profiles = ['ai_operation', 7]))).includes('metadata.profiles[1]'), true);
});

test('the type system constraints apply: email_t regex, ip_t, integer range, null refused', () => {
  assert.deepEqual(paths(mutate((e) => (e.actor.user.email_addr = 'not an email'))), ['actor.user.email_addr']);
  assert.deepEqual(paths(mutate((e) => (e.src_endpoint.ip = '999.1.1.1'))), ['src_endpoint.ip']);
  assert.deepEqual(paths(mutate((e) => (e.src_endpoint.port = 70000))), ['src_endpoint.port']);
  assert.deepEqual(paths(mutate((e) => (e.severity_id = 2 ** 40))), ['severity_id']);
  assert.deepEqual(paths(mutate((e) => (e.message = null))), ['message']);
  assert.deepEqual(errorsOf(mutate((e) => (e.unmapped = [1]))).map((x) => x.path), ['unmapped']);
});

test('bad enums are refused, and captions must match their id', () => {
  assert.deepEqual(paths(mutate((e) => ((e.severity_id = 7), delete e.severity))), ['severity_id']);
  assert.deepEqual(paths(mutate((e) => (e.disposition_id = 1000))), ['disposition_id']);
  assert.deepEqual(paths(mutate((e) => (e.actor.user.type_id = 5))), ['actor.user.type_id']);
  assert.deepEqual(paths(mutate((e) => (e.severity = 'High'))), ['severity']);
  assert.deepEqual(paths(mutate((e) => (e.attestation_list[0].fingerprint.algorithm_id = 21))), ['attestation_list[0].fingerprint.algorithm_id']);
  // 99 (Other) needs its label
  assert.deepEqual(paths(mutate((e) => delete e.attestation_list[0].signatures[0].algorithm)), ['attestation_list[0].signatures[0].algorithm']);
});

test('class, category, activity and type ids must agree', () => {
  assert.deepEqual(paths(mutate((e) => (e.class_uid = 6999))), ['class_uid']);
  assert.ok(paths(mutate((e) => (e.category_uid = 3))).includes('category_uid'));
  assert.deepEqual(paths(mutate((e) => (e.type_uid = 600303))), ['type_uid']);
  // API Activity has no activity 5
  assert.ok(paths(mutate((e) => ((e.activity_id = 5), (e.type_uid = 600305), delete e.activity_name, delete e.type_name))).includes('activity_id'));
  assert.deepEqual(paths(mutate((e) => (e.class_name = 'Authorize Session'))), ['class_name']);
  assert.deepEqual(paths(mutate((e) => (e.type_name = 'API Activity: Update'))), ['type_name']);
});

test('missing requirements are refused: class, object, constraint and applied profile', () => {
  assert.deepEqual(paths(mutate((e) => delete e.api)), ['api']);
  assert.deepEqual(paths(mutate((e) => delete e.src_endpoint)), ['src_endpoint']);
  assert.deepEqual(paths(mutate((e) => delete e.metadata.product)), ['metadata.product']);
  assert.deepEqual(paths(mutate((e) => delete e.api.request.uid)), ['api.request.uid']);
  // actor needs at least one of user, process, app_name, ...
  assert.deepEqual(paths(mutate((e) => (e.actor = {}))), ['actor']);
  // attestation needs a fingerprint or signatures
  assert.deepEqual(paths(mutate((e) => (e.attestation_list = [{ chain_uid: 'gw:1' }]))), ['attestation_list[0]']);
  // digital_signature.algorithm_id is required
  assert.deepEqual(paths(mutate((e) => (e.attestation_list[0].signatures = [{ serialization_id: 3, serialization: 'JWS' }]))), [
    'attestation_list[0].signatures[0].algorithm_id',
  ]);
});

test('unknown attributes are refused, at the top and inside objects', () => {
  assert.deepEqual(paths(mutate((e) => (e.delegation = { parent_uid: 'x' }))), ['delegation']);
  assert.deepEqual(paths(mutate((e) => (e.ai_agent.parent_uid = 'agent:other'))), ['ai_agent.parent_uid']);
  assert.deepEqual(paths(mutate((e) => (e.metadata.product.colour = 'blue'))), ['metadata.product.colour']);
});

test('profile attributes count only when metadata.profiles applies the profile, and only profiles the class takes', () => {
  const unapplied = mutate((e) => (e.metadata.profiles = ['security_control', 'record_integrity']));
  assert.deepEqual(paths(unapplied), ['ai_agent']);
  const foreign = mutate((e) => e.metadata.profiles.push('incident'));
  assert.deepEqual(paths(foreign), ['metadata.profiles']);
});

test('not an object, or no class: refused with a reason', () => {
  assert.deepEqual(paths([]), ['(event)']);
  assert.deepEqual(paths({}), ['class_uid']);
});
