// Signature checks of a batch spread over worker threads, one per core, so
// verification (the costliest step per event) runs beside the rest of the
// pipeline. Small batches are checked on the calling thread: handing them to
// a worker costs more than it saves. Workers do not keep the process alive.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { signatureValid, type SignatureAlg } from './signatures.js';
import type { VerifyTask } from './verify-worker.js';

export interface SignatureJob {
  // Identifies the key: the same ref always names the same key material.
  ref: string;
  alg: SignatureAlg;
  jwk: JsonWebKey;
  key: KeyObject;
  compact: string;
}

const INLINE_BELOW = 64;

export class VerifyPool {
  private workers: Worker[] = [];
  private next = 0;
  private readonly pending = new Map<number, { resolve: (r: Uint8Array) => void; reject: (e: Error) => void }>();

  constructor(readonly size = os.availableParallelism()) {}

  private start(): Worker[] {
    if (this.workers.length > 0 || this.size < 1) return this.workers;
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(new URL('./verify-worker.js', import.meta.url));
      worker.unref();
      worker.on('message', ({ id, results }: { id: number; results: Uint8Array }) => {
        this.pending.get(id)?.resolve(results);
        this.pending.delete(id);
      });
      // A worker that dies fails what it held; the next batch starts new ones.
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`verification worker exited with ${code}`)));
      this.workers.push(worker);
    }
    return this.workers;
  }

  private fail(err: Error): void {
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
    const workers = this.workers;
    this.workers = [];
    for (const w of workers) void w.terminate();
  }

  private run(worker: Worker, jobs: SignatureJob[]): Promise<Uint8Array> {
    const keys: VerifyTask['keys'] = {};
    for (const j of jobs) keys[j.ref] ??= [j.alg, j.jwk];
    const task: VerifyTask = { id: this.next++, keys, items: jobs.map((j) => [j.ref, j.compact]) };
    return new Promise((resolve, reject) => {
      this.pending.set(task.id, { resolve, reject });
      worker.postMessage(task);
    });
  }

  // One boolean per job, in order.
  async verify(jobs: SignatureJob[]): Promise<boolean[]> {
    if (jobs.length < INLINE_BELOW || this.size < 2) return jobs.map((j) => signatureValid(j.alg, j.key, j.compact));
    const workers = this.start();
    const per = Math.ceil(jobs.length / workers.length);
    const parts = await Promise.all(workers.map((w, i) => this.run(w, jobs.slice(i * per, (i + 1) * per))));
    return parts.flatMap((p) => [...p].map((v) => v === 1));
  }

  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
