// A verification worker: checks the signatures of a slice of a batch. Keys
// arrive with the slices that use them and are imported once per worker.
import { parentPort } from 'node:worker_threads';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { importPublicKey, signatureValid, type SignatureAlg } from './signatures.js';

export interface VerifyTask {
  id: number;
  // ref -> [alg, public JWK], for the keys this slice uses.
  keys: Record<string, [SignatureAlg, JsonWebKey]>;
  // [key ref, compact JWS]
  items: [string, string][];
}

const imported = new Map<string, KeyObject>();

parentPort!.on('message', (task: VerifyTask) => {
  const results = new Uint8Array(task.items.length);
  task.items.forEach(([ref, compact], i) => {
    const [alg, jwk] = task.keys[ref]!;
    let key = imported.get(ref);
    if (!key) imported.set(ref, (key = importPublicKey(jwk)));
    results[i] = signatureValid(alg, key, compact) ? 1 : 0;
  });
  parentPort!.postMessage({ id: task.id, results }, [results.buffer]);
});
