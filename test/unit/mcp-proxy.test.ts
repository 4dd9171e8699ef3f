// The proxy's framing, SSE reading, resource naming and options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { LineTap, MAX_OBSERVED_LINE, messagesOf } from '../../mcp-proxy/lines.js';
import { SseTap } from '../../mcp-proxy/sse.js';
import { canonicalResource, metadataUrl } from '../../mcp-proxy/auth.js';
import { parseProxyArgs } from '../../mcp-proxy/options.js';
import { originGuard } from '../../mcp-proxy/origin.js';
import { commandName } from '../../mcp-proxy/run.js';
import { mayCallTool, ToolPolicy } from '../../mcp-proxy/tool-policy.js';
import { addressKey, RefusalLimit } from '../../mcp-proxy/refusal-limit.js';
import { ActorlogError } from '../../lib/errors.js';

async function through(tap: LineTap | SseTap, chunks: (string | Buffer)[]): Promise<Buffer> {
  return buffer(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(tap).pipe(new PassThrough()));
}

test('stdio lines pass byte for byte, split anywhere, batches and non-JSON included; each complete line is seen once', async () => {
  const seen: string[] = [];
  const input = [
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"é"}}\n',
    '[{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"ping"}]\n',
    'not json at all\n',
    '{"jsonrpc":"2.0","id":3,"result":{}}',
  ].join('');
  const bytes = Buffer.from(input);
  // Cut in the middle of a multi-byte character and of lines.
  const chunks = [bytes.subarray(0, 59), bytes.subarray(59, 60), bytes.subarray(60, 130), bytes.subarray(130)];
  const out = await through(new LineTap((line) => seen.push(line)), chunks);
  assert.ok(out.equals(bytes));
  assert.equal(seen.length, 4);
  assert.deepEqual(messagesOf(seen[0]!), [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'é' } }]);
  assert.equal(messagesOf(seen[1]!).length, 2);
  assert.deepEqual(messagesOf(seen[2]!), []);
  assert.deepEqual(messagesOf('[1, null, {"id":1}]'), [{ id: 1 }]);
});

test('a callback that throws does not stop the stream', async () => {
  const out = await through(
    new LineTap(() => {
      throw new Error('observer bug');
    }),
    ['a\n', 'b\n'],
  );
  assert.equal(out.toString(), 'a\nb\n');
});

test('tool policy: deny wins over allow, prefixes, escaped method names, batches refused whole, unreadable calls refused', () => {
  const policy = new ToolPolicy({ allow: ['echo', 'get-*'], deny: ['get-sum'] });
  const call = (name: unknown, id: unknown = 1) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
  const screen = (text: string) => policy.screen(Buffer.from(text));
  assert.equal(screen(call('echo')), undefined);
  assert.equal(screen(call('get-env')), undefined);
  assert.deepEqual(screen(call('get-sum', 7))!.answer, { jsonrpc: '2.0', id: 7, error: { code: -32003, message: 'denied by policy: tool "get-sum" is denied (--deny-tool)' } });
  assert.match((screen(call('rm')) as any).refused[0].reason, /not an allowed tool/);
  assert.match((screen(call(42)) as any).refused[0].reason, /not an allowed tool/);
  // The method name written with JSON escapes is still a tool call.
  assert.ok(screen('{"jsonrpc":"2.0","id":2,"method":"tools\\/call","params":{"name":"rm"}}'));
  assert.ok(screen('{"jsonrpc":"2.0","id":2,"method":"\\u0074ools/call","params":{"name":"rm"}}'));
  assert.ok(screen('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"\\u0072m"}}'));
  // Other methods, notifications and answers are not its business, and are not even parsed.
  assert.equal(mayCallTool(Buffer.from('{"jsonrpc":"2.0","id":3,"method":"tools/list"}')), false);
  assert.equal(screen('{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"tools/call"}]}}'), undefined);
  // A batch with one denied call: every request in it answered, none passed on.
  const batch = screen(`[${call('echo', 1)},${call('rm', 2)},{"jsonrpc":"2.0","method":"notifications/progress"}]`)!;
  assert.deepEqual((batch.answer as any[]).map((a) => [a.id, a.error.code]), [[1, -32003], [2, -32003]]);
  assert.match(batch.refused[0]!.reason, /same batch: tool "rm"/);
  assert.equal(batch.refused.length, 3);
  // A denied call sent as a notification: refused, nothing to answer.
  assert.equal(screen(JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'rm' } }))!.answer, undefined);
  // Not JSON the proxy can read, but naming tools/call: refused rather than passed on unjudged.
  assert.equal((screen('{"method":"tools/call", oops}')!.answer as any).error.code, -32700);
  assert.equal(new ToolPolicy({ allow: [], deny: [] }).screen(Buffer.from(call('rm'))), undefined, 'no policy: everything passes');
});

test('stdio gate: a held line is not passed on, the rest pass byte for byte; a line too long to judge is dropped and said', async () => {
  const seen: string[] = [];
  let oversized = 0;
  const gate = { hold: (line: Buffer) => line.includes('"deny"'), oversized: () => void oversized++ };
  const out = await through(new LineTap((line) => seen.push(line), gate), ['{"a":1}\n{"deny":', '1}\n{"b":2}\n']);
  assert.equal(out.toString(), '{"a":1}\n{"b":2}\n');
  assert.deepEqual(seen, ['{"a":1}\n', '{"b":2}\n']);
  const big = Buffer.alloc(MAX_OBSERVED_LINE + 10, 0x61);
  const after = await through(new LineTap(() => undefined, gate), [big.subarray(0, 1000), big.subarray(1000), '\n{"c":3}\n']);
  assert.equal(after.toString(), '{"c":3}\n');
  assert.equal(oversized, 1);
  const failing = { hold: () => { throw new Error('bug'); }, oversized: () => undefined };
  assert.equal((await through(new LineTap(() => undefined, failing), ['{"x":1}\n'])).length, 0, 'a gate that fails holds the line');
});

test('refusal limit: per address and window, beyond it 429 and counted, the count said when the window ends; IPv6 by /64', () => {
  let now = 1_000_000;
  const said: [string, number][] = [];
  const limit = new RefusalLimit({ limit: 2, windowMs: 60_000, maxAddresses: 3, now: () => now, onLimited: (a, n) => void said.push([a, n]) });
  assert.deepEqual([limit.take('10.0.0.1'), limit.take('10.0.0.1')], [{ recorded: true }, { recorded: true }]);
  assert.deepEqual(limit.take('::ffff:10.0.0.1'), { recorded: false, retryAfterSeconds: 60 }, 'an IPv4-mapped address is the same address');
  now += 30_500;
  assert.deepEqual(limit.take('10.0.0.1'), { recorded: false, retryAfterSeconds: 30 });
  assert.deepEqual(limit.take('10.0.0.2'), { recorded: true }, 'another address has its own window');
  assert.deepEqual(limit.stats, { refused: 5, recorded: 3, limited: 2 });
  now += 30_000;
  limit.sweep();
  assert.deepEqual(said, [['10.0.0.1', 2]]);
  assert.deepEqual(limit.take('10.0.0.1'), { recorded: true }, 'a new window');
  // Bounded: past maxAddresses the oldest window closes early (and says its count).
  for (const a of ['10.0.0.3', '10.0.0.4', '10.0.0.5']) limit.take(a);
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:DB8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey(undefined), 'unknown');
  const off = new RefusalLimit({ limit: 0, windowMs: 1000 });
  for (let i = 0; i < 100; i++) assert.deepEqual(off.take('10.0.0.9'), { recorded: true });
});

test('SSE: events joined from data lines, CRLF split across chunks, bytes unchanged', async () => {
  const seen: string[] = [];
  const stream = 'event: message\r\nid: 1\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: comment\n\ndata: {"b":2}\r';
  const chunks = [stream.slice(0, 25), stream.slice(25, 34), stream.slice(34, 35), stream.slice(35)];
  const out = await through(new SseTap((data) => seen.push(data)), chunks);
  assert.equal(out.toString(), stream);
  assert.deepEqual(seen, ['{"a":\n1}', '{"b":2}']);
});

test('RFC 8707 canonical resource and RFC 9728 metadata location', () => {
  assert.equal(canonicalResource('HTTPS://MCP.Example.com/mcp#x'), 'https://mcp.example.com/mcp');
  assert.equal(canonicalResource('https://mcp.example.com/'), 'https://mcp.example.com');
  assert.equal(metadataUrl('https://mcp.example.com/mcp'), 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
  assert.equal(metadataUrl('https://mcp.example.com'), 'https://mcp.example.com/.well-known/oauth-protected-resource');
});

test('options: one mode at a time, HTTP needs a resource and a JWKS unless --no-auth, the upstream credential from the environment', () => {
  const defaults = { endpoint: 'http://127.0.0.1:8080', dataDir: '/tmp/d' };
  const base = ['--emitter', 'gw:p', '--key', 'k.json', '--tenant', 'acme'];
  const stdio = parseProxyArgs([...base, '--', 'npx', '-y', '@modelcontextprotocol/server-everything'], defaults);
  assert.deepEqual(stdio.command, ['npx', '-y', '@modelcontextprotocol/server-everything']);
  assert.equal(stdio.stateDir, '/tmp/d/mcp-proxy/gw_p');
  const refused = (argv: string[], message: RegExp) => assert.throws(() => parseProxyArgs([...base, ...argv], defaults), (err: ActorlogError) => err.code === 'BAD_REQUEST' && message.test(err.message));
  refused([], /either/);
  refused(['--listen', '127.0.0.1:9000', '--upstream', 'http://127.0.0.1:3001/mcp'], /--resource and --jwks/);
  refused(['--listen', '127.0.0.1:9000'], /both --listen and --upstream/);
  refused(['--listen', 'nowhere', '--upstream', 'http://x/mcp', '--no-auth'], /HOST:PORT/);
  const http = parseProxyArgs(
    [...base, '--listen', '[::1]:9000', '--upstream', 'http://127.0.0.1:3001/mcp', '--resource', 'https://mcp.example.com/mcp', '--jwks', 'j.json', '--issuer', 'https://idp.example'],
    defaults,
    { MCP_PROXY_UPSTREAM_AUTHORIZATION: 'Bearer s' },
  );
  assert.deepEqual(http.listen, { host: '::1', port: 9000 });
  assert.deepEqual(http.authorizationServers, ['https://idp.example']);
  assert.equal(http.upstreamAuthorization, 'Bearer s');
  assert.deepEqual([http.allowedHosts, http.allowedOrigins], [[], []]);
  const allowing = parseProxyArgs(
    [...base, '--listen', '127.0.0.1:9000', '--upstream', 'http://x/mcp', '--no-auth', '--allowed-host', 'mcp.internal:9000', '--allowed-origin', 'http://localhost:6274'],
    defaults,
    { MCP_PROXY_ALLOWED_HOSTS: 'a.example, b.example:8443', MCP_PROXY_ALLOWED_ORIGINS: '*' },
  );
  assert.deepEqual(allowing.allowedHosts, ['mcp.internal:9000', 'a.example', 'b.example:8443']);
  assert.deepEqual(allowing.allowedOrigins, ['http://localhost:6274', '*']);
  refused(['--listen', '127.0.0.1:9000', '--upstream', 'http://x/mcp', '--no-auth', '--allowed-origin', 'http://localhost:6274/app'], /an origin/);
  refused(['--listen', '127.0.0.1:9000', '--upstream', 'http://x/mcp', '--no-auth', '--allowed-host', 'evil.example/x'], /HOST or HOST:PORT/);
  assert.deepEqual(stdio.tools, { allow: [], deny: [] });
  assert.deepEqual([stdio.refusalLimit, stdio.refusalWindowS], [20, 60]);
  refused(['--refusal-limit=-1', '--', 'srv'], /refusalLimit/);
  refused(['--refusal-window', 'soon', '--', 'srv'], /refusalWindowS/);
  assert.deepEqual(parseProxyArgs([...base, '--deny-tool', 'rm', '--deny-tool', 'delete_*', '--allow-tool', 'echo', '--', 'srv'], defaults).tools, { allow: ['echo'], deny: ['rm', 'delete_*'] });
  assert.equal(commandName(['npx', '-y', '@modelcontextprotocol/server-everything']), 'server-everything');
  assert.equal(commandName(['/usr/bin/node', 'dist/index.js']), 'index.js');
  assert.equal(commandName(['mcp-server-git']), 'mcp-server-git');
});

test('DNS rebinding guard: the listen address and the resource origin by default, foreign Host and Origin refused', () => {
  const guard = originGuard({ listenHost: '127.0.0.1', port: 9000, resource: 'https://mcp.example.com/mcp', allowedHosts: [], allowedOrigins: [] });
  for (const host of ['127.0.0.1:9000', 'localhost:9000', 'LOCALHOST:9000', '[::1]:9000', 'mcp.example.com', 'mcp.example.com:443']) assert.equal(guard.checkHost(host), undefined, host);
  for (const host of ['evil.example', 'evil.example:9000', '127.0.0.1:9001', 'localhost', 'mcp.example.com.evil.example', 'mcp.example.com/x', '']) assert.match(guard.checkHost(host) ?? '', /not allowed|no Host/, host);
  assert.equal(guard.checkHost(undefined), 'no Host header');
  for (const origin of [undefined, 'http://localhost:9000', 'http://127.0.0.1:9000', 'https://mcp.example.com', 'https://MCP.example.com:443']) assert.equal(guard.checkOrigin(origin), undefined, origin);
  for (const origin of ['http://evil.example', 'null', 'http://mcp.example.com', 'https://localhost:9000', 'garbage']) assert.match(guard.checkOrigin(origin) ?? '', /is not allowed/, origin);
  assert.deepEqual(guard.allowedHosts, ['127.0.0.1:9000', '[::1]:9000', 'localhost:9000', 'mcp.example.com']);

  // On one named address, only that name; configured values add to the defaults; '*' turns a check off.
  const named = originGuard({ listenHost: '10.0.0.5', port: 8443, allowedHosts: ['mcp.internal'], allowedOrigins: ['http://localhost:6274'] });
  assert.equal(named.checkHost('10.0.0.5:8443'), undefined);
  assert.equal(named.checkHost('mcp.internal'), undefined);
  assert.match(named.checkHost('localhost:8443') ?? '', /not allowed/);
  assert.equal(named.checkOrigin('http://localhost:6274'), undefined);
  assert.match(named.checkOrigin('http://localhost:6275') ?? '', /not allowed/);
  const open = originGuard({ listenHost: '0.0.0.0', port: 80, allowedHosts: ['*'], allowedOrigins: ['*'] });
  assert.equal(open.checkHost('anything.example'), undefined);
  assert.equal(open.checkOrigin('http://evil.example'), undefined);
  const any = originGuard({ listenHost: '0.0.0.0', port: 80, allowedHosts: [], allowedOrigins: [] });
  assert.equal(any.checkHost('localhost'), undefined, 'port 80 need not be named');
  assert.match(any.checkHost('evil.example') ?? '', /not allowed/);
});
