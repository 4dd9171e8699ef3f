// actorlog as a real child process. Every child is killed when the test
// process exits, whatever happened: a failed assertion must not leave a
// service holding its ports, its engine files or the runner's pipes.
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/actorlog.js');

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  clean: boolean;
}

export interface Service {
  child: ChildProcess;
  // Everything the child printed so far.
  output(): string;
  // SIGTERM, then SIGKILL if it has not exited within graceMs; resolves with
  // how it ended and how long it took. A clean stop ends by the SIGTERM
  // itself, re-raised once the service has closed (or with status 0).
  stop(graceMs?: number): Promise<Stopped>;
}

// Spawns `actorlog start` (or another long-running command) and waits until
// its output matches `ready`.
export async function startService(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 60_000): Promise<Service> {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const service: Service = {
    child,
    output: () => out,
    async stop(graceMs = 30_000) {
      const began = Date.now();
      const ended = (code: number | null, signal: NodeJS.Signals | null): Stopped => ({
        code,
        signal,
        ms: Date.now() - began,
        clean: (code === 0 || signal === 'SIGTERM') && !out.includes('stop timed out'),
      });
      if (child.exitCode !== null || child.signalCode !== null) return ended(child.exitCode, child.signalCode);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      clearTimeout(timer);
      return ended(code, signal);
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(out)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`actorlog ${args.join(' ')} exited early:\n${out}`);
    if (Date.now() > deadline) {
      await service.stop(1_000);
      throw new Error(`actorlog ${args.join(' ')} not ready after ${timeoutMs} ms:\n${out}`);
    }
    await sleep(100);
  }
  return service;
}

// What `actorlog start` announces when its stdout is not a terminal: one JSON
// log line with msg "listening" and the services' addresses.
export const LISTENING = /"msg":"listening"/;

export function listening(output: string): Record<string, string> {
  for (const line of output.split('\n')) {
    if (!LISTENING.test(line)) continue;
    return JSON.parse(line) as Record<string, string>;
  }
  throw new Error(`no "listening" line in:\n${output}`);
}
