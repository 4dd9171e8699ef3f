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
// each for `signing: 'event'` (the default: emit signs) and `signing: 'batch'`
// (emit validates and queues; each request is signed once when sent, whose
// cost per event is printed apart), against ceilings measured in the same
// run: one Ed25519 signature of an event's signing input alone, and the
// synchronous append + fsync per event the outbox used to do.
// Nothing is sent during the runs (the flush interval is longer than a run).
// Usage: node dist/test/bench/emit.bench.js [EMITS] [REPEATS]   (default 2000, 5)
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EmitterClient, importSigningKey, signBatch, type ActorlogEvent } from '@actorlog/sdk';
import { eventSchema } from '@actorlog/sdk/schema';
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

type Mode = 'event' | 'batch';
const MODES: Mode[] = ['event', 'batch'];
const client = (stateDir: string, signing: Mode) =>
  new EmitterClient({ endpoint: 'http://127.0.0.1:9', source: 'gw:bench', privateJwk, stateDir, flushIntervalMs: 3_600_000, batchSize: 1e9, signing });

const series = () => ({ callP50: [] as number[], callP99: [] as number[], cpuP50: [] as number[], cpuP99: [] as number[], busyPerEmit: [] as number[], durableP50: [] as number[], durableP99: [] as number[] });
const byMode = { event: series(), batch: series() };
const ceilings = { sign: [] as number[], syncWrite: [] as number[], batchSignPerEvent: [] as number[] };

for (let r = 0; r < repeats; r++) for (const mode of MODES) {
  const results = byMode[mode];
  // 1 + 2: emits issued in bursts of 50 (what a busy server does), each call timed.
  {
    const emitter = client(tempDir('actorlog-emit-bench-'), mode);
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
    const emitter = client(tempDir('actorlog-emit-bench-'), mode);
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
  if (mode === 'batch') continue;
  // Ceilings: one signature of an event's signing input (header and payload,
  // base64url), and the old synchronous append + fsync; and what signing a
  // request of 100 events once costs per event (batch mode, at send time).
  {
    const event = eventSchema.parse({ specversion: '1.0', ...input, id: '0'.repeat(36), source: 'gw:bench', time: new Date().toISOString(), seq: 1, prev: '0'.repeat(64) }) as ActorlogEvent;
    const json = Buffer.from(JSON.stringify(event));
    const bytes = Buffer.from(`${'x'.repeat(80)}.${json.toString('base64url')}`, 'latin1');
    const t = performance.now();
    for (let i = 0; i < emits; i++) sign(null, bytes, privateKey);
    ceilings.sign.push((performance.now() - t) / emits);
    const signer = importSigningKey(privateJwk);
    const batch = Array.from({ length: 100 }, () => event);
    const b = performance.now();
    for (let i = 0; i < emits / 100; i++) signBatch(batch, signer);
    ceilings.batchSignPerEvent.push((performance.now() - b) / emits);
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

const median = (xs: number[]) => stats(xs).median;
const signMs = median(ceilings.sign);
const lines = [`emit benchmark: ${emits} emits x ${repeats} repeats (min / median / max over repeats, ms)`];
for (const mode of MODES) {
  const results = byMode[mode];
  lines.push(
    `signing: '${mode}'`,
    `  emit call, wall time             p50 ${fmt(results.callP50)}`,
    `                                   p99 ${fmt(results.callP99)}`,
    `  emit call, process CPU time      p50 ${fmt(results.cpuP50)}`,
    `                                   p99 ${fmt(results.cpuP99)}   (target < ${TARGET_P99_MS} ms)`,
    `  event-loop busy per emit (all)       ${fmt(results.busyPerEmit)}`,
    `  awaited emit until durable       p50 ${fmt(results.durableP50)}`,
    `                                   p99 ${fmt(results.durableP99)}`,
    `  ratios (medians): emit CPU p50 / signature ${(median(results.cpuP50) / signMs).toFixed(2)}, emit CPU p99 / signature ${(median(results.cpuP99) / signMs).toFixed(2)}, ` +
      `emit CPU p99 / target ${(median(results.cpuP99) / TARGET_P99_MS).toFixed(2)}, sync append+fsync / emit busy ${(median(ceilings.syncWrite) / median(results.busyPerEmit)).toFixed(1)}`,
  );
}
lines.push(
  `ceiling: one Ed25519 signature (event-sized input)  ${fmt(ceilings.sign)}`,
  `ceiling: sync append + fsync per event               ${fmt(ceilings.syncWrite)}`,
  `batch mode at send time: signBatch of 100, per event ${fmt(ceilings.batchSignPerEvent, 4)}`,
  '',
);
process.stdout.write(lines.join('\n'));
