// What one `emit` costs an application, printed as figures (each a
// min / median / max over REPEATS runs of EMITS emits):
//   1. event-loop time of the emit call itself (validate, number, sign, queue):
//      p50 and p99 per emit, as wall time and as the process's CPU time (on a
//      shared machine the wall time also counts moments the OS ran something else);
//   2. event-loop busy time per emit over a whole run, everything included
//      (group-commit writes, promise callbacks), from eventLoopUtilization;
//   3. time until an awaited emit is durable (its line fsynced), one at a
//      time: p50 and p99 (this is wall time spent waiting on the disk, not
//      event-loop time);
// against ceilings measured in the same run: one Ed25519 signature alone, and
// the synchronous append + fsync per event the outbox used to do.
// Nothing is sent during the runs (the flush interval is longer than a run).
// Usage: node dist/test/bench/emit.bench.js [EMITS] [REPEATS]   (default 2000, 5)
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EmitterClient } from '@actorlog/sdk';
import { tempDir, toolCall } from '../helpers/fixtures.js';

const emits = Number(process.argv[2] ?? 2000);
const repeats = Number(process.argv[3] ?? 5);
const TARGET_P99_MS = 0.3;

const { privateKey } = generateKeyPairSync('ed25519');
const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'EdDSA' };
const input = toolCall();

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const fmt = (xs: number[], digits = 3) => {
  const x = stats(xs);
  return `min ${x.min.toFixed(digits)} / median ${x.median.toFixed(digits)} / max ${x.max.toFixed(digits)}`;
};

const client = (stateDir: string) =>
  new EmitterClient({ endpoint: 'http://127.0.0.1:9', source: 'gw:bench', privateJwk, stateDir, flushIntervalMs: 3_600_000, batchSize: 1e9 });

const results = { callP50: [] as number[], callP99: [] as number[], cpuP50: [] as number[], cpuP99: [] as number[], busyPerEmit: [] as number[], durableP50: [] as number[], durableP99: [] as number[] };
const ceilings = { sign: [] as number[], syncWrite: [] as number[] };

for (let r = 0; r < repeats; r++) {
  // 1 + 2: emits issued in bursts of 50 (what a busy server does), each call timed.
  {
    const emitter = client(tempDir('actorlog-emit-bench-'));
    await emitter.emit(input); // warm: key import, file open
    const calls: number[] = [];
    const cpu: number[] = [];
    const elu = performance.eventLoopUtilization();
    const pending: Promise<string>[] = [];
    for (let i = 0; i < emits; i++) {
      const c = process.cpuUsage();
      const t = performance.now();
      pending.push(emitter.emit(input));
      calls.push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
      if (pending.length === 50) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const used = performance.eventLoopUtilization(elu);
    results.callP50.push(quantile(calls, 0.5));
    results.callP99.push(quantile(calls, 0.99));
    results.cpuP50.push(quantile(cpu, 0.5));
    results.cpuP99.push(quantile(cpu, 0.99));
    results.busyPerEmit.push(used.active / emits);
    const closed = await emitter.close();
    if (closed.pending !== emits + 1) throw new Error(`expected ${emits + 1} events left in the outbox, found ${closed.pending}`);
  }
  // 3: one awaited emit at a time.
  {
    const emitter = client(tempDir('actorlog-emit-bench-'));
    await emitter.emit(input);
    const waits: number[] = [];
    for (let i = 0; i < Math.min(emits, 500); i++) {
      const t = performance.now();
      await emitter.emit(input);
      waits.push(performance.now() - t);
    }
    results.durableP50.push(quantile(waits, 0.5));
    results.durableP99.push(quantile(waits, 0.99));
    await emitter.close();
  }
  // Ceilings: one signature of the same size, and the old synchronous append + fsync.
  {
    const bytes = Buffer.from(JSON.stringify({ ...input, id: 'x'.repeat(36), time: new Date().toISOString(), seq: 1 }));
    const t = performance.now();
    for (let i = 0; i < emits; i++) sign(null, bytes, privateKey);
    ceilings.sign.push((performance.now() - t) / emits);
    const file = path.join(tempDir('actorlog-emit-bench-'), 'sync.outbox');
    const n = Math.min(emits, 200);
    const s = performance.now();
    for (let i = 0; i < n; i++) {
      const fd = fs.openSync(file, 'a', 0o600);
      fs.writeSync(fd, `${bytes.toString('base64url')}\n`);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    ceilings.syncWrite.push((performance.now() - s) / n);
  }
}

const p99Median = stats(results.cpuP99).median;
process.stdout.write(
  [
    `emit benchmark: ${emits} emits x ${repeats} repeats (min / median / max over repeats, ms)`,
    `  emit call, wall time             p50 ${fmt(results.callP50)}`,
    `                                   p99 ${fmt(results.callP99)}`,
    `  emit call, process CPU time      p50 ${fmt(results.cpuP50)}`,
    `                                   p99 ${fmt(results.cpuP99)}   (target < ${TARGET_P99_MS} ms)`,
    `  event-loop busy per emit (all)       ${fmt(results.busyPerEmit)}`,
    `  awaited emit until durable       p50 ${fmt(results.durableP50)}`,
    `                                   p99 ${fmt(results.durableP99)}`,
    `  ceiling: one Ed25519 signature       ${fmt(ceilings.sign)}`,
    `  ceiling: sync append + fsync         ${fmt(ceilings.syncWrite)}`,
    `  ratios (medians): emit CPU p99 / target ${(p99Median / TARGET_P99_MS).toFixed(2)}, emit CPU p99 / signature ${(p99Median / stats(ceilings.sign).median).toFixed(2)}, ` +
      `sync append+fsync / emit busy ${(stats(ceilings.syncWrite).median / stats(results.busyPerEmit).median).toFixed(1)}`,
    '',
  ].join('\n'),
);
