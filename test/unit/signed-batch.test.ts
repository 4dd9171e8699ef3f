// Signed batches (docs/event.md): the SDK's tree and paths against the RFC
// 9162 vectors and the log's own proofs, one signature verified per batch,
// each event verifiable alone, and every kind of tampering refused with its
// reason while the rest of the batch is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { signBatch, verifySignedEvent } from '@actorlog/sdk';
import { treeWithPaths } from '@actorlog/sdk/merkle';
import { inclusionProof, leafHash, mapLookup, coordKey, treeHead, verifyInclusion } from '../../lib/merkle/index.js';
import { KeyResolver } from '../../processor/key-resolver.js';
import { runPipeline, type RawRecord } from '../../processor/pipeline.js';
import { VerifyPool, type SignatureJob } from '../../processor/verify-pool.js';
import { inspectEnvelope } from '../../schemas/envelope.js';
import { eventSchema } from '../../schemas/event.js';
import { fullEvent, registeredEmitter, tempDir } from '../helpers/fixtures.js';
import { INCLUSION_PROOFS, LEAF_INPUTS_HEX, NODE_HASHES, ROOT_HASHES } from '../fixtures/merkle-vectors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const record = (value: string): RawRecord => ({ value: Buffer.from(value), receivedAt: Date.now() });

test('the SDK tree: roots and every path equal the RFC 9162 vectors and the log proofs', () => {
  const leaves = LEAF_INPUTS_HEX.map((h) => leafHash(Buffer.from(h, 'hex')));
  for (let n = 1; n <= 8; n++) {
    const { root, paths } = treeWithPaths(leaves.slice(0, n));
    assert.equal(hex(root), ROOT_HASHES[n], `root of ${n}`);
    for (const v of INCLUSION_PROOFS.filter((p) => p.size === n)) assert.deepEqual(paths[v.index]!.map(hex), v.proof, `path of ${v.index} in ${n}`);
  }
  // Sizes beyond the vectors: the same paths as the log's stored-subtree proofs.
  const many = Array.from({ length: 37 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));
  for (const n of [9, 16, 17, 31, 37]) {
    const { root, paths } = treeWithPaths(many.slice(0, n));
    assert.equal(hex(root), hex(treeHead(many.slice(0, n))));
    const stored = new Map<string, Uint8Array>();
    for (let level = 0, width = 1; width <= n; level++, width *= 2) {
      for (let i = 0; (i + 1) * width <= n; i++) stored.set(coordKey({ level, index: i }), treeHead(many.slice(i * width, (i + 1) * width)));
    }
    for (let i = 0; i < n; i++) {
      assert.deepEqual(paths[i]!.map(hex), inclusionProof(i, n, mapLookup(stored)).map(hex), `path of ${i} in ${n}`);
      assert.ok(verifyInclusion(i, n, many[i]!, paths[i]!, root));
    }
  }
  assert.equal(NODE_HASHES[0]!.length, 8);
});

async function setup() {
  const registry = path.join(tempDir(), 'emitters.json');
  const gateway = await registeredEmitter(registry, 'gw:batch');
  const keys = new KeyResolver(registry);
  const jobs: number[] = [];
  // The real pool on the calling thread, counting the signatures it is asked to check.
  const pool = new VerifyPool(1);
  const counting = Object.assign(Object.create(pool) as VerifyPool, {
    verify: (batch: SignatureJob[]) => {
      jobs.push(batch.length);
      return pool.verify(batch);
    },
  });
  const run = (values: string[]) => runPipeline(values.map(record), { keys, eventMaxBytes: 65536, skew: { futureMs: 300_000, pastMs: 86_400_000 }, verifier: counting });
  const events = (n: number) => Array.from({ length: n }, (_, i) => eventSchema.parse(fullEvent(gateway.source, { context: { session_id: `batch-${i}` } })));
  return { gateway, run, jobs, events };
}

test('a batch of 100 signed once: one signature check, every event stored with its own signed form', async () => {
  const { gateway, run, jobs, events } = await setup();
  const batch = events(100);
  const signed = signBatch(batch, gateway.signer);
  assert.equal(new Set(signed.map((s) => s.split('~')[0])).size, 1, 'one batch JWS');
  const result = await run(signed);
  assert.deepEqual(result.quarantined.map((q) => q.reason), []);
  assert.deepEqual(result.rows.map((r) => r.id), batch.map((e) => e.id));
  assert.deepEqual(result.rows.map((r) => r.raw_jws), signed);
  assert.deepEqual(jobs, [1], 'one signature for the whole batch');
  assert.equal(result.rows[7]!.human_sub, 'u-alice');
});

test('tampering inside a signed batch: each refused event keeps its reason, the rest are kept', async () => {
  const { gateway, run, events } = await setup();
  const signed = signBatch(events(6), gateway.signer);
  const parts = (s: string) => s.split('~');
  const altered = (() => {
    const p = parts(signed[1]!);
    const event = JSON.parse(Buffer.from(p[1]!, 'base64url').toString()) as Record<string, unknown>;
    p[1] = Buffer.from(JSON.stringify({ ...event, human: { sub: 'u-mallory', iss: 'https://login.acme.example' } })).toString('base64url');
    return p.join('~');
  })();
  const moved = (() => {
    // Event 3 claiming to be leaf 2 (same path length): the path leads elsewhere.
    const p = parts(signed[3]!);
    p[2] = '2';
    return p.join('~');
  })();
  const shortPath = parts(signed[4]!).slice(0, -1).join('~');
  const otherSignature = (() => {
    const [jws, ...rest] = parts(signed[5]!);
    const [h, p, s] = jws!.split('.');
    const forged = `${h}.${p}.${s!.startsWith('A') ? `B${s!.slice(1)}` : `A${s!.slice(1)}`}`;
    return [forged, ...rest].join('~');
  })();
  const result = await run([signed[0]!, altered, signed[2]!, moved, shortPath, otherSignature]);
  assert.deepEqual(result.rows.map((r) => r.raw_jws), [signed[0], signed[2]]);
  assert.deepEqual(
    result.quarantined.map((q) => q.reason),
    ['batch_proof_invalid', 'batch_proof_invalid', 'batch_malformed', 'signature_invalid'],
  );
  assert.match(result.quarantined[0]!.detail, /leaf 1 of 6 does not lead to the signed root/);
  assert.match(result.quarantined[2]!.detail, /needs a path of 2 hashes, not 1/);
});

test('a batch signature is not an event signature, nor the reverse', async () => {
  const { gateway, run, events } = await setup();
  const [one] = signBatch(events(1), gateway.signer);
  // The batch JWS alone, sent as an event: its typ and payload are a batch's.
  const batchJws = one!.split('~')[0]!;
  const event = await gateway.sign(events(1)[0]!);
  // An event JWS dressed as a batch: its typ is an event's.
  const dressed = `${event}~${event.split('.')[1]}~0`;
  const result = await run([batchJws, dressed]);
  assert.deepEqual(result.quarantined.map((q) => q.reason), ['typ_invalid', 'batch_malformed']);
  assert.equal(inspectEnvelope(Buffer.from(dressed), 65536).ok, false);
});

test('verifySignedEvent checks one event alone with only the public key, batch-signed or not', async () => {
  const { gateway, events } = await setup();
  const publicJwk = gateway.key.publicJwk;
  const signed = signBatch(events(5), gateway.signer);
  const check = verifySignedEvent(signed[3]!, publicJwk);
  assert.ok(check.ok);
  assert.deepEqual(check.batch, { index: 3, size: 5 });
  const single = verifySignedEvent(await gateway.sign(events(1)[0]!), publicJwk);
  assert.ok(single.ok && single.batch === undefined);
  const p = signed[3]!.split('~');
  p[1] = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p[1]!, 'base64url').toString()), seq: 999 })).toString('base64url');
  const bad = verifySignedEvent(p.join('~'), publicJwk);
  assert.ok(!bad.ok);
  assert.match(bad.problem, /leaf 3 of 5: the event and its path do not lead to the signed root/);
  const other = await registeredEmitter(path.join(tempDir(), 'emitters.json'), 'gw:other');
  const wrongKey = verifySignedEvent(signed[0]!, other.key.publicJwk);
  assert.ok(!wrongKey.ok);
  assert.match(wrongKey.problem, /batch signature: the signature does not verify/);
});
