// Hostile and broken inputs through ingest and the processor, in both modes:
// each one is refused with its own reason and kept in quarantine with its raw
// bytes, none is stored as valid, no service falls over, and the valid events
// sent alongside are stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { setEmitterTenants } from '../../keys/registry.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import { b64url, fullEvent, registeredEmitter, tamper, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, eventually, post, rowsOf, testConfig } from '../helpers/services.js';

const TYP = 'actorlog-event+jws';

interface Case {
  name: string;
  jws: string | Buffer;
  // The reason it must be quarantined with; 'stored' for the valid ones.
  expect: string;
}

async function corpus(gateway: TestEmitter, other: TestEmitter): Promise<{ cases: Case[]; lookalike: ActorlogEvent; replayed: ActorlogEvent }> {
  const event = () => fullEvent(gateway.source);
  const signRaw = (payload: string, header: Record<string, unknown>, key = gateway.signer.key) =>
    new CompactSign(Buffer.from(payload)).setProtectedHeader(header as never).sign(key);
  const legitHeader = { alg: 'EdDSA', kid: gateway.key.kid, typ: TYP };
  const attacker = await generateKeyPair('EdDSA', { extractable: true });
  const attackerJwk = await exportJWK(attacker.publicKey);
  const unsigned = (header: Record<string, unknown>, payload: unknown, signature = 'AAAA') => `${b64url(header)}.${b64url(payload)}.${signature}`;

  // HS256 keyed with the emitter's public key: the classic key-confusion forgery.
  const confusedHeader = b64url({ alg: 'HS256', kid: gateway.key.kid, typ: TYP });
  const confusedPayload = b64url(event());
  const confusedSig = createHmac('sha256', JSON.stringify(gateway.key.publicJwk)).update(`${confusedHeader}.${confusedPayload}`).digest('base64url');

  const valid = await gateway.sign(event());
  const lookalike = fullEvent(gateway.source, { human: { sub: 'u-\u0430lice', iss: 'https://login.acme.example' } }); // Cyrillic а
  const replayed = event();
  const nested = JSON.stringify({ ...event(), attrs: { x: 'y' } }).replace('{"x":"y"}', `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`);
  const duplicate = JSON.stringify(event()).replace('"human":{', '"human":{"sub":"u-mallory","iss":"x"},"human":{');

  const cases: Case[] = [
    { name: 'valid', jws: valid, expect: 'stored' },
    { name: 'alg none, empty signature', jws: unsigned({ alg: 'none', kid: gateway.key.kid, typ: TYP }, event(), ''), expect: 'jws_malformed' },
    { name: 'alg none with a signature', jws: unsigned({ alg: 'none', kid: gateway.key.kid, typ: TYP }, event()), expect: 'alg_not_allowed' },
    { name: 'HS256 keyed with the public key', jws: `${confusedHeader}.${confusedPayload}.${confusedSig}`, expect: 'alg_not_allowed' },
    { name: 'RS256', jws: unsigned({ alg: 'RS256', kid: gateway.key.kid, typ: TYP }, event()), expect: 'alg_not_allowed' },
    { name: 'embedded attacker jwk', jws: await signRaw(JSON.stringify(event()), { ...legitHeader, jwk: attackerJwk }, attacker.privateKey as never), expect: 'header_forbidden_param' },
    { name: 'jku', jws: unsigned({ ...legitHeader, jku: 'https://attacker.example/jwks' }, event()), expect: 'header_forbidden_param' },
    { name: 'x5u', jws: unsigned({ ...legitHeader, x5u: 'https://attacker.example/cert' }, event()), expect: 'header_forbidden_param' },
    { name: 'x5c', jws: unsigned({ ...legitHeader, x5c: ['MIIB'] }, event()), expect: 'header_forbidden_param' },
    { name: 'unknown crit', jws: unsigned({ ...legitHeader, crit: ['urn:x'], 'urn:x': 1 }, event()), expect: 'header_forbidden_param' },
    { name: 'b64 false', jws: unsigned({ ...legitHeader, b64: false, crit: ['b64'] }, event()), expect: 'header_forbidden_param' },
    { name: 'wrong typ', jws: await signRaw(JSON.stringify(event()), { ...legitHeader, typ: 'JWT' }), expect: 'typ_invalid' },
    { name: 'attacker key, unregistered kid', jws: await signRaw(JSON.stringify(event()), { alg: 'EdDSA', kid: 'attacker-kid', typ: TYP }, attacker.privateKey as never), expect: 'unknown_emitter_key' },
    { name: 'registered kid, attacker signature', jws: await signRaw(JSON.stringify(event()), legitHeader, attacker.privateKey as never), expect: 'signature_invalid' },
    { name: 'signed by another emitter, claiming this source', jws: await other.sign(event()), expect: 'unknown_emitter_key' },
    { name: 'tampered payload', jws: tamper(await gateway.sign(event())), expect: 'signature_invalid' },
    { name: 'duplicate keys, validly signed', jws: await signRaw(duplicate, legitHeader), expect: 'json_duplicate_key' },
    { name: 'deeply nested, validly signed', jws: await signRaw(nested, legitHeader), expect: 'json_too_deep' },
    { name: 'unknown field, validly signed', jws: await signRaw(JSON.stringify({ ...event(), is_admin: true }), legitHeader), expect: 'schema_invalid' },
    { name: 'another tenant', jws: await gateway.sign(fullEvent(gateway.source, { tenant: 'globex' })), expect: 'tenant_not_allowed' },
    { name: 'oversized', jws: unsigned(legitHeader, { ...event(), pad: 'x'.repeat(70_000) }), expect: 'event_too_large' },
    { name: 'truncated to two parts', jws: valid.slice(0, valid.lastIndexOf('.')), expect: 'jws_malformed' },
    { name: 'truncated signature', jws: valid.slice(0, -12), expect: 'signature_invalid' },
    { name: 'random bytes', jws: randomBytes(300).toString('base64'), expect: 'jws_malformed' },
    { name: 'not UTF-8', jws: Buffer.from([0x65, 0x79, 0xff, 0xfe, 0x2e, 0x61, 0x2e, 0x62]), expect: 'not_utf8' },
    { name: 'look-alike user id', jws: await gateway.sign(lookalike), expect: 'stored' },
    { name: 'replayed id, first', jws: await gateway.sign(replayed), expect: 'stored' },
    { name: 'replayed id, different content', jws: await gateway.sign({ ...replayed, human: { sub: 'u-mallory', iss: 'x' } }), expect: 'replayed_id' },
    { name: 'valid again', jws: await gateway.sign(event()), expect: 'stored' },
  ];
  return { cases, lookalike, replayed };
}

for (const mode of ['embedded', 'kafka'] as const) {
  describe(`hostile corpus (${mode})`, { timeout: 180_000 }, () => {
    let ctx: Context;
    let running: Running;
    let gateway: TestEmitter;
    let other: TestEmitter;

    before(async () => {
      const config = testConfig({ kafka: mode === 'kafka', env: { INGEST_BODY_LIMIT: String(1024 * 1024) } });
      gateway = await registeredEmitter(config.keysFile, 'gw:corpus');
      other = await registeredEmitter(config.keysFile, 'gw:corpus-other');
      setEmitterTenants(config.keysFile, gateway.source, ['acme']);
      ctx = await context(config);
      running = await startAll(ctx);
    });
    after(() => running.close());

    test('each hostile input is refused with its reason, quarantined byte for byte; valid ones are stored', async () => {
      const { cases, lookalike } = await corpus(gateway, other);
      const ingest = running.ingestUrl!;
      // One at a time, in order, as application/jose: the raw bytes reach ingest untouched,
      // from the gateway (authenticated), whose source every readable case claims.
      const answers: { status: number; body: any }[] = [];
      for (const c of cases) answers.push(await post(ingest, new Blob([typeof c.jws === 'string' ? c.jws : new Uint8Array(c.jws)]), 'application/jose', gateway));

      const expectedAnswer = (c: Case) => {
        if (c.expect === 'stored') return 'accepted';
        // Kafka mode: ingest checks structure only; the processor decides the rest later.
        const structural = ['jws_malformed', 'not_utf8', 'alg_not_allowed', 'header_forbidden_param', 'typ_invalid', 'event_too_large', 'json_duplicate_key', 'json_too_deep'];
        return mode === 'kafka' && !structural.includes(c.expect) ? 'accepted' : c.expect;
      };
      cases.forEach((c, i) => {
        const a = answers[i]!;
        const got = a.status === 202 ? 'accepted' : a.body.rejected?.[0]?.code;
        assert.equal(got, expectedAnswer(c), `${c.name}: answered ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`);
      });

      const refused = cases.filter((c) => c.expect !== 'stored');
      const quarantine = await eventually(async () => {
        const rows = await rowsOf<{ reason: string; raw_base64: string; raw_sha256: string; raw_bytes: string; raw_truncated: number }>(
          ctx,
          `SELECT reason, raw_base64, raw_sha256, raw_bytes, raw_truncated FROM ${ctx.tables.quarantine} FINAL`,
        );
        return rows.length >= refused.length ? rows : undefined;
      }, 'every refused input in quarantine');
      for (const c of refused) {
        const raw = Buffer.isBuffer(c.jws) ? c.jws : Buffer.from(c.jws);
        const row = quarantine.find((q) => q.raw_sha256 === createHash('sha256').update(raw).digest('hex'));
        assert.ok(row, `${c.name} is in quarantine`);
        assert.equal(row.reason, c.expect, c.name);
        assert.equal(Number(row.raw_bytes), raw.length, `${c.name}: its length`);
        // Byte for byte up to QUARANTINE_RAW_MAX_BYTES (64 KiB); longer (the oversized case): its first 64 KiB, marked.
        const kept = raw.length > 65_536 ? raw.subarray(0, 65_536) : raw;
        assert.ok(Buffer.from(row.raw_base64, 'base64').equals(kept), `${c.name}: its bytes`);
        assert.equal(row.raw_truncated, raw.length > 65_536 ? 1 : 0, `${c.name}: truncated only when longer than the cap`);
      }
      assert.equal(quarantine.length, refused.length, 'nothing else quarantined');

      const stored = cases.filter((c) => c.expect === 'stored').length;
      const events = await eventually(async () => {
        const rows = await rowsOf<{ id: string; human_sub: string }>(ctx, `SELECT id, human_sub FROM ${ctx.tables.events} FINAL`);
        return rows.length >= stored ? rows : undefined;
      }, 'the valid events');
      assert.equal(events.length, stored, 'only the valid events are stored');
      assert.ok(!events.some((e) => e.human_sub === 'u-mallory'), 'no forged attribution');

      // The look-alike is its own human, never merged with u-alice.
      const alice = await api(running.queryUrl!, '/v1/events?human=u-alice');
      assert.ok(!alice.body.events.some((e: { id: string }) => e.id === lookalike.id));
      const cyrillic = await api(running.queryUrl!, `/v1/events?human=${encodeURIComponent('u-\u0430lice')}`);
      assert.deepEqual(cyrillic.body.events.map((e: { id: string }) => e.id), [lookalike.id]);
    });

    test('a 10 MB body and a deeply nested batch are refused whole; a mixed batch keeps its valid event; the services stay up', async () => {
      const ingest = running.ingestUrl!;
      const huge = await post(ingest, 'x'.repeat(10 * 1024 * 1024), 'application/jose', gateway);
      assert.equal(huge.status, 413);
      for (const depth of [5_000, 100_000]) {
        const deep = await post(ingest, `{"events":[${'['.repeat(depth)}${']'.repeat(depth)}]}`, 'application/json', gateway);
        assert.equal(deep.status, 400, `nesting ${depth}`);
        assert.equal(deep.body.error.code, 'BAD_REQUEST');
      }

      const good = fullEvent(gateway.source);
      const mixed = await post(ingest, JSON.stringify({ events: ['garbage', await gateway.sign(good), 42, null] }), 'application/json');
      assert.equal(mixed.status, 202);
      assert.deepEqual(mixed.body.accepted, [{ index: 1, id: good.id }]);
      assert.equal(mixed.body.rejected.length, 3);
      await eventually(async () => ((await rowsOf(ctx, `SELECT id FROM ${ctx.tables.events} FINAL WHERE id = {id:String}`, { id: good.id })).length === 1 ? true : undefined), 'the valid event of the mixed batch');
      assert.equal((await api(ingest, '/healthz', null)).status, 200);
      assert.equal((await api(running.queryUrl!, '/healthz', null)).status, 200);
    });
  });
}
