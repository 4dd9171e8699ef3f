import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CompactSign } from 'jose';
import { KeyResolver } from '../../processor/key-resolver.js';
import { runPipeline, type RawRecord } from '../../processor/pipeline.js';
import { readRegistry, writeRegistry } from '../../keys/registry.js';
import { listKeys, revokeKey, rotateKey } from '../../keys/lifecycle.js';
import { importSigningKey, signEvent } from '@actorlog/sdk';
import { fullEvent, registeredEmitter, tamper, tempDir } from '../helpers/fixtures.js';
import type { ActorlogEvent } from '../../schemas/event.js';

const record = (jws: string, extra: Partial<RawRecord> = {}): RawRecord => ({ value: Buffer.from(jws), receivedAt: Date.now(), ...extra });

async function setup() {
  const registry = path.join(tempDir(), 'emitters.json');
  const gateway = await registeredEmitter(registry, 'gw:prod-1');
  const keys = new KeyResolver(registry);
  const run = (records: RawRecord[]) => runPipeline(records, { keys, eventMaxBytes: 65536, skew: { futureMs: 300_000, pastMs: 86_400_000 } });
  return { registry, gateway, keys, run };
}

test('a signed, valid event becomes one attributed row', async () => {
  const { gateway, run } = await setup();
  const event = fullEvent(gateway.source);
  const jws = await gateway.sign(event);
  const result = await run([record(jws)]);
  assert.equal(result.quarantined.length, 0);
  const [row] = result.rows;
  assert.ok(row);
  assert.equal(row.id, event.id);
  assert.equal(row.human_sub, 'u-alice');
  assert.equal(row.agent_id, 'agent:research');
  assert.deepEqual(row.actor_chain, ['agent:summarizer', 'agent:research']);
  assert.equal(row.server_id, 'mcp:crm');
  assert.equal(row.tool_name, 'crm.search');
  assert.equal(row.kid, gateway.key.kid);
  assert.equal(row.raw_jws, jws);
  assert.deepEqual(row.flags, []);
});

test('ES256 keys verify too', async () => {
  const { registry, run } = await setup();
  const server = await registeredEmitter(registry, 'mcp:files', 'ES256');
  const result = await run([record(await server.sign(fullEvent(server.source)))]);
  assert.equal(result.rows.length, 1);
});

test('an Ed25519 key registered as EdDSA verifies events signed with alg Ed25519 (RFC 9864) and typ application/...', async () => {
  const { gateway, run } = await setup();
  const signer = importSigningKey(gateway.key.privateJwk, 'Ed25519');
  const fullySpecified = signEvent(fullEvent(gateway.source), signer);
  const header = { alg: 'EdDSA', kid: gateway.key.kid, typ: 'application/Actorlog-Event+JWS' };
  const prefixed = await new CompactSign(Buffer.from(JSON.stringify(fullEvent(gateway.source))))
    .setProtectedHeader(header)
    .sign(signer.key);
  const result = await run([record(fullySpecified), record(prefixed)]);
  assert.deepEqual(result.quarantined.map((q) => q.reason), []);
  assert.equal(result.rows.length, 2);
});

test('a tampered payload is quarantined as signature_invalid with its raw bytes', async () => {
  const { gateway, run } = await setup();
  const forged = tamper(await gateway.sign(fullEvent(gateway.source)));
  const result = await run([record(forged, { kafka: { topic: 't', partition: 2, offset: '41' } })]);
  assert.equal(result.rows.length, 0);
  const [q] = result.quarantined;
  assert.ok(q);
  assert.equal(q.reason, 'signature_invalid');
  assert.equal(q.stage, 'processor');
  assert.equal(Buffer.from(q.raw_base64, 'base64').toString(), forged);
  assert.equal(q.claimed_source, 'gw:prod-1');
  assert.equal(q.quarantine_id, 't/2/41');
  assert.equal(q.kafka_offset, 41);
});

test('an event signed by one emitter but claiming another source does not verify', async () => {
  const { registry, gateway, run } = await setup();
  await registeredEmitter(registry, 'gw:other');
  // Signed with gw:prod-1's key, but says it comes from gw:other: gw:other has no key with that kid.
  const result = await run([record(await gateway.sign(fullEvent('gw:other')))]);
  assert.equal(result.quarantined[0]?.reason, 'unknown_emitter_key');
});

test('a key registered for EdDSA is not accepted under another alg', async () => {
  const { gateway, run } = await setup();
  const event = fullEvent(gateway.source);
  const otherKey = (await registeredEmitter(path.join(tempDir(), 'x.json'), 'x', 'ES256')).signer.key;
  const jws = await new CompactSign(Buffer.from(JSON.stringify(event)))
    .setProtectedHeader({ alg: 'ES256', kid: gateway.key.kid, typ: 'actorlog-event+jws' })
    .sign(otherKey);
  assert.equal((await run([record(jws)])).quarantined[0]?.reason, 'alg_not_allowed');
});

test('a signed event that is not a valid v1 event is schema_invalid, naming the field', async () => {
  const { gateway, run } = await setup();
  const event = { ...fullEvent(gateway.source), time: 'yesterday' };
  const result = await run([record(await gateway.sign(event))]);
  assert.equal(result.quarantined[0]?.reason, 'schema_invalid');
  assert.match(result.quarantined[0]?.detail ?? '', /time/);
});

test('a revoked key verifies nothing dated or received after the revocation, and what came before stays valid', async () => {
  const { registry, gateway, run } = await setup();
  const now = Date.now();
  const dated = (ms: number) => fullEvent(gateway.source, { time: new Date(ms).toISOString() });
  const before = await gateway.sign(dated(now - 60_000));
  const after = await gateway.sign(dated(now + 1_000));
  revokeKey(registry, gateway.source, gateway.key.kid, new Date(now));

  // Received before the revocation (a Kafka backlog): still verifiable.
  const backlog = await run([record(before, { receivedAt: now - 1_000 })]);
  assert.equal(backlog.rows.length, 1);
  // Backdated but received after the revocation: refused.
  const backdated = await run([record(before, { receivedAt: now + 5_000 })]);
  assert.equal(backdated.quarantined[0]?.reason, 'key_revoked');
  const late = await run([record(after, { receivedAt: now - 1_000 })]);
  assert.equal(late.quarantined[0]?.reason, 'key_revoked');
});

test('rotation: the retired key keeps verifying older events, not newer ones; the new key verifies', async () => {
  const { registry, gateway, run } = await setup();
  const now = Date.now();
  const old = await gateway.sign(fullEvent(gateway.source, { time: new Date(now - 60_000).toISOString() }));
  const newer = await gateway.sign(fullEvent(gateway.source, { time: new Date(now + 60_000).toISOString() }));
  const next = await rotateKey(registry, gateway.source, 'EdDSA', new Date(now));
  const signer = await importSigningKey(next.privateJwk);
  const fresh = await signEvent(fullEvent(gateway.source, { time: new Date(now + 60_000).toISOString() }), signer);

  const result = await run([record(old), record(newer), record(fresh)]);
  assert.deepEqual(
    result.outcomes.map((o) => (o.ok ? 'ok' : o.reason)),
    ['ok', 'key_retired', 'ok'],
  );
  assert.deepEqual(
    listKeys(registry, gateway.source).map((k) => k.state),
    ['retired', 'active'],
  );
});

test('not_before / not_after bound the key', async () => {
  const { registry, gateway, run } = await setup();
  const reg = readRegistry(registry);
  reg.emitters[gateway.source]!.keys[0]!.not_after = new Date(Date.now() - 3_600_000).toISOString();
  writeRegistry(registry, reg);
  const result = await run([record(await gateway.sign(fullEvent(gateway.source)))]);
  assert.equal(result.quarantined[0]?.reason, 'key_not_valid');
});

test('revoking an unknown kid is an error, not a silent no-op', async () => {
  const { registry, gateway } = await setup();
  assert.throws(() => revokeKey(registry, gateway.source, 'nope'), /no key nope/);
});

test('a key registered after start is picked up without a restart', async () => {
  const { registry, run, keys } = await setup();
  keys.refresh();
  const late = await registeredEmitter(registry, 'mcp:late');
  const result = await run([record(await late.sign(fullEvent(late.source)))]);
  assert.equal(result.rows.length, 1);
});

test('a record ingest refused is quarantined with ingest reason, and good records in the batch are kept', async () => {
  const { gateway, run } = await setup();
  const good = await gateway.sign(fullEvent(gateway.source));
  const result = await run([
    record('garbage', { rejection: { reason: 'jws_malformed', detail: 'nope' } }),
    record(good),
    record('%%%'),
  ]);
  assert.equal(result.rows.length, 1);
  assert.deepEqual(
    result.quarantined.map((q) => [q.stage, q.reason]),
    [
      ['ingest', 'jws_malformed'],
      ['processor', 'jws_malformed'],
    ],
  );
  assert.deepEqual(
    result.outcomes.map((o) => o.ok),
    [false, true, false],
  );
});

// RFC 8693 section 4.1, Figure 6: the claims of a token from a delegation
// chain, as the issuer sends them (aud a string, nbf, no iat, no scope).
const FIGURE_6 = {
  aud: 'https://consumer.example.com',
  iss: 'https://issuer.example.com',
  exp: 1443904177,
  nbf: 1443904077,
  sub: 'user@example.com',
  act: { sub: 'https://service16.example.com', act: { sub: 'https://service77.example.com' } },
};

test('RFC 8693 Figure 6 token claims are accepted and normalised: service16 (current actor) then service77', async () => {
  const { gateway, run } = await setup();
  const event = { ...fullEvent(gateway.source), token: FIGURE_6 } as unknown as ActorlogEvent;
  const result = await run([record(await gateway.sign(event))]);
  assert.deepEqual(result.quarantined.map((q) => q.detail), []);
  const [row] = result.rows;
  assert.ok(row);
  assert.deepEqual(row.actor_chain, ['https://service16.example.com', 'https://service77.example.com']);
  assert.deepEqual(row.token_aud, ['https://consumer.example.com']);
  assert.deepEqual(row.token_scope, []);
  assert.equal(row.token_sub, 'user@example.com');
});

test('claims as identity providers send them: scope a space-delimited string, OIDC and RFC 7800 claims, others kept', async () => {
  const { gateway, run } = await setup();
  const token = {
    ...fullEvent(gateway.source).token,
    aud: ['https://crm.mcp.acme.example', 'https://other.example'],
    scope: 'crm.read  crm.write',
    nbf: 1797990000,
    auth_time: 1797989000,
    acr: 'urn:mace:incommon:iap:silver',
    amr: ['pwd', 'mfa'],
    azp: 'research-agent',
    cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' },
    may_act: { sub: 'agent:research' },
    tid: 'tenant-guid',
    groups: ['analysts'],
  };
  const event = { ...fullEvent(gateway.source), token } as unknown as ActorlogEvent;
  const result = await run([record(await gateway.sign(event))]);
  assert.deepEqual(result.quarantined.map((q) => q.detail), []);
  const stored = JSON.parse(result.rows[0]!.event_json) as { token: Record<string, unknown> };
  assert.deepEqual(stored.token.scope, ['crm.read', 'crm.write']);
  assert.equal(stored.token.tid, 'tenant-guid');
  assert.deepEqual(stored.token.groups, ['analysts']);
  assert.deepEqual(result.rows[0]!.token_scope, ['crm.read', 'crm.write']);
});

test('a claim that is a token, or too many other claims, is refused with the reason', async () => {
  const { gateway, run } = await setup();
  const base = fullEvent(gateway.source).token!;
  const withToken = { ...fullEvent(gateway.source), token: { ...base, id_token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' } } as unknown as ActorlogEvent;
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`c${i}`, i]));
  const tooMany = { ...fullEvent(gateway.source), token: { ...base, ...many } } as unknown as ActorlogEvent;
  const result = await run([record(await gateway.sign(withToken)), record(await gateway.sign(tooMany))]);
  assert.equal(result.rows.length, 0);
  assert.deepEqual(result.quarantined.map((q) => q.reason), ['schema_invalid', 'schema_invalid']);
  assert.match(result.quarantined[0]!.detail, /token\.id_token: looks like a token/);
  assert.match(result.quarantined[1]!.detail, /at most 32 claims/);
});

test('trace context: W3C ids are accepted, any other value is refused with the reason', async () => {
  const { gateway, run } = await setup();
  const withContext = (context: Record<string, string>) => ({ ...fullEvent(gateway.source), context: { session_id: 's', ...context } }) as ActorlogEvent;
  const result = await run([
    record(await gateway.sign(withContext({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' }))),
    record(await gateway.sign(withContext({ trace_id: 'trace-1' }))),
    record(await gateway.sign(withContext({ trace_id: '4BF92F3577B34DA6A3CE929D0E0E4736' }))),
    record(await gateway.sign(withContext({ span_id: '0000000000000000' }))),
  ]);
  assert.equal(result.rows.length, 1);
  assert.deepEqual(
    result.quarantined.map((q) => q.detail),
    [
      'context.trace_id: a W3C trace-id: 32 lowercase hex digits (put other correlation ids in request_id or attrs)',
      'context.trace_id: a W3C trace-id: 32 lowercase hex digits (put other correlation ids in request_id or attrs)',
      'context.span_id: an all-zero W3C span-id is invalid',
    ],
  );
});
