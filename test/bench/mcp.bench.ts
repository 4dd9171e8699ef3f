// What auditing costs an MCP tool call, on loopback, printed as figures:
//  1. the middleware: an official-SDK server called in memory, without and
//     with auditMcpServer (a real EmitterClient signing into its outbox);
//  2. the proxy: server-everything called directly and through
//     `actorlog mcp-proxy`, over Streamable HTTP (bearer JWT checked) and stdio
//     (without and with a --deny-tool policy).
// Each repeat calls the tool CALLS times per path, paths interleaved; each
// figure is min/median/max over REPEATS of the repeat's p50 and p99, with the
// ratio proxied / direct of the same repeat, and the CPU time the proxy
// process spent per call (all its threads, read from /proc).
// Ingest is a closed port: emits are queued, never sent, as when ingest is down.
// Usage: npm run build && node dist/test/bench/mcp.bench.js [CALLS] [REPEATS]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { EmitterClient } from '@actorlog/sdk';
import { auditMcpServer, type McpObserver } from '@actorlog/sdk/mcp';
import { registeredEmitter, tempDir } from '../helpers/fixtures.js';
import { freePort, reachable } from '../helpers/ports.js';

const CALLS = Number(process.argv[2] ?? 1000);
const REPEATS = Number(process.argv[3] ?? 5);
const TARGET_ADDED_P99_MS = 2;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const EVERYTHING = path.join(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const BIN = path.join(root, 'bin/actorlog.js');
const RESOURCE = 'https://mcp.bench.example/mcp';
const ISSUER = 'https://idp.bench.example';


const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const turn = () => new Promise((resolve) => setImmediate(resolve));
// Between calls the loop turns once, as it does between requests on a real
// transport, so the work an audited call leaves behind (signing, the outbox
// write) runs in the measured window of the next calls instead of never.
async function timeCalls(client: Client, name: string, args: Record<string, unknown>): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await client.callTool({ name, arguments: args });
    times.push(performance.now() - started);
    await turn();
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}
const spread = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return `${s[0]!.toFixed(3)} / ${s[Math.floor(s.length / 2)]!.toFixed(3)} / ${s[s.length - 1]!.toFixed(3)}`;
};
function report(title: string, base: string, runs: Record<string, { p50: number; p99: number }[]>, baseline: string, measured: string): void {
  console.log(`\n${title} (${CALLS} calls x ${REPEATS} repeats; ms, min / median / max)`);
  for (const [name, list] of Object.entries(runs)) {
    console.log(`  ${name.padEnd(28)} p50 ${spread(list.map((r) => r.p50))}   p99 ${spread(list.map((r) => r.p99))}`);
  }
  const added = (key: 'p50' | 'p99') => runs[measured]!.map((r, i) => r[key] - runs[baseline]![i]![key]);
  const p99 = added('p99');
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`  added by ${base.padEnd(19)} p50 ${spread(added('p50'))}   p99 ${spread(p99)}   (median added p99 / ${TARGET_ADDED_P99_MS} ms target = ${(median(p99) / TARGET_ADDED_P99_MS).toFixed(2)})`);
  const ratio = (key: 'p50' | 'p99') => runs[measured]!.map((r, i) => r[key] / runs[baseline]![i]![key]);
  console.log(`  ratio ${measured} / ${baseline}: p50 ${spread(ratio('p50'))}   p99 ${spread(ratio('p99'))}`);
}

// CPU time a process used, all its threads (event loop, libuv pool, GC), in ms,
// from /proc: on a shared machine this says what the proxy costs per call
// better than latency, which also counts the moments the OS ran something else.
function cpuMs(pid: number | null | undefined): number {
  if (!pid) return NaN;
  try {
    let ns = 0;
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

// A port nothing listens on: every send fails at once and is retried later.
const closedPort = await freePort();
const emitterKey = (await registeredEmitter(path.join(tempDir(), 'keys.json'), 'gw:bench')).key.privateJwk;
const emitter = new EmitterClient({ endpoint: `http://127.0.0.1:${closedPort}`, source: 'gw:bench', privateJwk: emitterKey, stateDir: tempDir(), flushIntervalMs: 3_600_000, initialBackoffMs: 3_600_000 });

// 1. Middleware.
let observer: McpObserver | undefined;
// The mapping and observer alone: a sink that takes each event and does nothing.
const nullSink = { emit: async () => 'dropped' };
async function notesClient(audited: 'no' | 'null sink' | 'emitter'): Promise<Client> {
  const server = new McpServer({ name: 'notes', version: '1' });
  server.registerTool('read_note', { inputSchema: { id: z.string() }, annotations: { readOnlyHint: true } }, async ({ id }) => ({ content: [{ type: 'text', text: `note ${id}` }] }));
  if (audited === 'null sink') auditMcpServer(server, { emitter: nullSink, tenant: 'acme' });
  if (audited === 'emitter') observer = auditMcpServer(server, { emitter, tenant: 'acme' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(clientSide);
  return client;
}
const plain = await notesClient('no');
const mappedOnly = await notesClient('null sink');
const audited = await notesClient('emitter');
const middleware: Record<string, { p50: number; p99: number }[]> = { 'in memory, no audit': [], 'audit, events dropped': [], 'in memory, auditMcpServer': [] };
await timeCalls(plain, 'read_note', { id: 'warm' });
await timeCalls(mappedOnly, 'read_note', { id: 'warm' });
await timeCalls(audited, 'read_note', { id: 'warm' });
// The warm-up's events are signed and queued before anything is measured.
for (const deadline = Date.now() + 120_000; observer && observer.stats.emitted + observer.stats.emitFailed < 2 * CALLS && Date.now() < deadline; ) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
// Everything an audited call costs the server's event loop, its events signed
// and in the outbox included: wall time until the last emit settled, per call.
const settled = () => (observer ? observer.stats.emitted + observer.stats.emitFailed : 0);
const perCall: { plain: number[]; audited: number[] } = { plain: [], audited: [] };
for (let r = 0; r < REPEATS; r++) {
  let started = performance.now();
  middleware['in memory, no audit']!.push(await timeCalls(plain, 'read_note', { id: '1' }));
  perCall.plain.push((performance.now() - started) / CALLS);
  middleware['audit, events dropped']!.push(await timeCalls(mappedOnly, 'read_note', { id: '1' }));
  const expected = settled() + 2 * CALLS;
  started = performance.now();
  middleware['in memory, auditMcpServer']!.push(await timeCalls(audited, 'read_note', { id: '1' }));
  const deadline = Date.now() + 120_000;
  while (settled() < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  perCall.audited.push((performance.now() - started) / CALLS);
}
const only = (names: string[]) => Object.fromEntries(names.map((n) => [n, middleware[n]!]));
report('MCP middleware, mapping and observer only', 'the mapping', only(['in memory, no audit', 'audit, events dropped']), 'in memory, no audit', 'audit, events dropped');
report('MCP middleware with a real emitter', 'the middleware', only(['in memory, no audit', 'in memory, auditMcpServer']), 'in memory, no audit', 'in memory, auditMcpServer');
console.log(`  event-loop time per call, events signed and queued: no audit ${spread(perCall.plain)}, audited ${spread(perCall.audited)}, added ${spread(perCall.audited.map((a, i) => a - perCall.plain[i]!))}`);
console.log(`  events: ${JSON.stringify(observer?.stats)}; in the outbox (ingest down): ${emitter.pending}`);
await plain.close();
await audited.close();

// 2. Proxy.
const dir = tempDir();
const keyFile = path.join(dir, 'proxy-key.json');
fs.writeFileSync(keyFile, JSON.stringify(emitterKey), { mode: 0o600 });
const idp = await generateKeyPair('ES256');
const jwksFile = path.join(dir, 'jwks.json');
fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'k', alg: 'ES256' }] }));
const token = await new SignJWT({ scope: 'mcp', client_id: 'bench' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setSubject('alice').setIssuer(ISSUER).setAudience(RESOURCE).setIssuedAt().setExpirationTime('1h').sign(idp.privateKey);
const proxyArgs = (serverId: string) => ['mcp-proxy', '--emitter', 'gw:bench', '--key', keyFile, '--tenant', 'acme', '--endpoint', `http://127.0.0.1:${closedPort}`, '--state-dir', tempDir(), '--server-id', serverId];
const children: ChildProcess[] = [];
process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));
const quiet = { ...process.env, LOG_LEVEL: 'silent', DATA_DIR: dir };

const upstreamPort = await freePort();
children.push(spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(upstreamPort) }, stdio: ['ignore', 'ignore', 'inherit'] }));
const httpProxy = spawn(
  process.execPath,
  [BIN, ...proxyArgs('everything-http'), '--listen', '127.0.0.1:0', '--upstream', `http://127.0.0.1:${upstreamPort}/mcp`, '--resource', RESOURCE, '--jwks', jwksFile, '--issuer', ISSUER],
  { env: quiet, stdio: ['ignore', 'pipe', 'inherit'] },
);
children.push(httpProxy);
// The proxy says where it listens on its first line.
const proxyUrl = await new Promise<string>((resolve, reject) => {
  let out = '';
  httpProxy.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const match = /(http:\/\/\S+)/.exec(out);
    if (match) resolve(match[1]!);
  });
  httpProxy.once('exit', (code) => reject(new Error(`mcp-proxy exited ${code}`)));
});
await reachable(upstreamPort);

async function connected(transport: StreamableHTTPClientTransport | StdioClientTransport): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return client;
}
const stdioProxy = new StdioClientTransport({ command: process.execPath, args: [BIN, ...proxyArgs('everything-stdio'), '--', process.execPath, EVERYTHING, 'stdio'], env: quiet as Record<string, string>, stderr: 'ignore' });
// With a tool policy, each tools/call line is judged before it goes on (the other lines are not).
const policyProxy = new StdioClientTransport({
  command: process.execPath,
  args: [BIN, ...proxyArgs('everything-stdio-policy'), '--deny-tool', 'get-sum', '--deny-tool', 'trigger-*', '--', process.execPath, EVERYTHING, 'stdio'],
  env: quiet as Record<string, string>,
  stderr: 'ignore',
});
const paths: [string, Client][] = [
  ['HTTP direct', await connected(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${upstreamPort}/mcp`)))],
  ['HTTP via mcp-proxy', await connected(new StreamableHTTPClientTransport(new URL(proxyUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))],
  ['stdio direct', await connected(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }))],
  ['stdio via mcp-proxy', await connected(stdioProxy)],
  ['stdio via mcp-proxy, policy', await connected(policyProxy)],
];
// The proxy processes, whose CPU per call is measured while their path runs.
const proxyPids: Record<string, number | null | undefined> = { 'HTTP via mcp-proxy': httpProxy.pid, 'stdio via mcp-proxy': stdioProxy.pid, 'stdio via mcp-proxy, policy': policyProxy.pid };
const proxyCpu: Record<string, number[]> = { 'HTTP via mcp-proxy': [], 'stdio via mcp-proxy': [], 'stdio via mcp-proxy, policy': [] };
const proxy: Record<string, { p50: number; p99: number }[]> = Object.fromEntries(paths.map(([name]) => [name, []]));
for (const [, client] of paths) await timeCalls(client, 'echo', { message: 'warm' });
for (let r = 0; r < REPEATS; r++) {
  for (const [name, client] of paths) {
    const pid = proxyPids[name];
    const before = cpuMs(pid);
    proxy[name]!.push(await timeCalls(client, 'echo', { message: 'hello' }));
    // The events of the last calls are signed just after their answers went out.
    if (pid) await new Promise((resolve) => setTimeout(resolve, 50));
    if (pid) proxyCpu[name]!.push((cpuMs(pid) - before) / CALLS);
  }
}
const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, proxy[n]!]));
report('mcp-proxy over Streamable HTTP (bearer JWT checked on every request)', 'the HTTP proxy', pick(['HTTP direct', 'HTTP via mcp-proxy']), 'HTTP direct', 'HTTP via mcp-proxy');
report('mcp-proxy over stdio', 'the stdio proxy', pick(['stdio direct', 'stdio via mcp-proxy']), 'stdio direct', 'stdio via mcp-proxy');
report('mcp-proxy over stdio with --deny-tool (tool calls judged before they go on)', 'proxy + policy', pick(['stdio direct', 'stdio via mcp-proxy, policy']), 'stdio direct', 'stdio via mcp-proxy, policy');
report('the tool policy alone', 'the policy', pick(['stdio via mcp-proxy', 'stdio via mcp-proxy, policy']), 'stdio via mcp-proxy', 'stdio via mcp-proxy, policy');
console.log(`\nproxy process CPU per call, all threads, its 2 events signed and queued included (ms, min / median / max)`);
for (const [name, list] of Object.entries(proxyCpu)) console.log(`  ${name.padEnd(28)} ${spread(list)}`);
console.log(`load average while measuring: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);

for (const [, client] of paths) await client.close().catch(() => undefined);
for (const child of children) child.kill('SIGKILL');
process.exit(0);
