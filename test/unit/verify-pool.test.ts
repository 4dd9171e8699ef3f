import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { KeyResolver } from '../../processor/key-resolver.js';
import { VerifyPool } from '../../processor/verify-pool.js';
import { runPipeline, type RawRecord } from '../../processor/pipeline.js';
import { fullEvent, registeredEmitter, tamper, tempDir } from '../helpers/fixtures.js';

test('signatures checked on worker threads give the same verdicts as on the calling thread, EdDSA and ES256, forged ones refused', async () => {
  const registry = path.join(tempDir(), 'emitters.json');
  const ed = await registeredEmitter(registry, 'gw:pool-ed');
  const ec = await registeredEmitter(registry, 'gw:pool-ec', 'ES256');
  const records: RawRecord[] = [];
  for (let i = 0; i < 150; i++) {
    const emitter = i % 2 === 0 ? ed : ec;
    const jws = await emitter.sign(fullEvent(emitter.source));
    records.push({ value: Buffer.from(i % 5 === 0 ? tamper(jws) : jws), receivedAt: Date.now() });
  }
  // A valid signature under the other emitter's key, the header naming that key.
  const [h, p] = (await ed.sign(fullEvent(ed.source))).split('.');
  const [, , s] = (await ec.sign(fullEvent(ec.source))).split('.');
  records.push({ value: Buffer.from(`${h}.${p}.${s}`), receivedAt: Date.now() });

  const pool = new VerifyPool(2);
  const skew = { futureMs: 300_000, pastMs: 86_400_000 };
  const onWorkers = await runPipeline(records, { keys: new KeyResolver(registry), eventMaxBytes: 65536, skew, verifier: pool });
  const inline = await runPipeline(records, { keys: new KeyResolver(registry), eventMaxBytes: 65536, skew });
  await pool.close();

  const verdicts = (r: typeof onWorkers) => r.outcomes.map((o) => (o.ok ? 'ok' : o.reason));
  assert.deepEqual(verdicts(onWorkers), verdicts(inline));
  assert.equal(onWorkers.rows.length, 150 - 30);
  assert.ok(onWorkers.outcomes.every((o, i) => (i % 5 === 0 || i === 150 ? !o.ok && o.reason === 'signature_invalid' : o.ok)));
});
