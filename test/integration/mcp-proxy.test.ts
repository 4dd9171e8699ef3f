// `actorlog mcp-proxy` in front of real MCP servers from npm, driven by the
// official client: the same answers as a direct connection, events stored
// with the right tool and outcome, tokens checked, and the client's token
// never reaching the upstream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import http, { type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startAll, type Running } from '../../cli/services.js';
import { parseProxyArgs } from '../../mcp-proxy/options.js';
import { startHttp } from '../../mcp-proxy/run.js';
import { registeredEmitter, tempDir } from '../helpers/fixtures.js';
import { freePort, reachable } from '../helpers/ports.js';
import { api, context, eventually, testConfig } from '../helpers/services.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(root, 'bin/actorlog.js');
const EVERYTHING = path.join(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FILESYSTEM = path.join(root, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const ISSUER = 'https://idp.proxy-test.example';
const RESOURCE = 'https://mcp.proxy-test.example/mcp';


// A client that can answer the server's sampling requests, so server-to-client
// requests are exercised through the proxy too.
function officialClient(name: string): Client {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
    model: 'test-model',
    role: 'assistant',
    content: { type: 'text', text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}` },
  }));
  return client;
}

// The parts of a result that do not depend on when it was produced.
const stable = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME'));

describe('actorlog mcp-proxy', () => {
  let running: Running;
  let ingest: string;
  let query: string;
  let keyFile: string;
  const source = 'gw:mcp-proxy';
  let dataDir: string;

  before(async () => {
    const config = testConfig();
    dataDir = config.dataDir;
    const emitter = await registeredEmitter(config.keysFile, source);
    keyFile = path.join(tempDir(), 'proxy-key.json');
    fs.writeFileSync(keyFile, JSON.stringify(emitter.key.privateJwk), { mode: 0o600 });
    running = await startAll(await context(config));
    ingest = running.ingestUrl!;
    query = running.queryUrl!;
  });
  after(async () => {
    await running?.close();
  });

  const stdioProxy = (serverId: string, server: string[], extra: string[] = []) =>
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp-proxy', '--emitter', source, '--key', keyFile, '--tenant', 'acme', '--endpoint', ingest, '--state-dir', tempDir(), '--server-id', serverId, ...extra, '--', ...server],
      env: { ...(process.env as Record<string, string>), DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      stderr: 'ignore',
    });

  async function eventsOf(filter: string, count: number): Promise<any[]> {
    return eventually(async () => {
      const { body } = await api(query, `/v1/events?${filter}&limit=200`);
      return body.events?.length >= count ? (body.events as any[]) : undefined;
    }, `${count} events for ${filter}`);
  }
  const resultOf = async (row: any) => (await api(query, `/v1/events/${row.id}`)).body.signed.payload.result;

  test('stdio, server-everything: tools, resources, prompts and server-to-client requests as a direct connection gives them', async () => {
    const everything = [process.execPath, EVERYTHING, 'stdio'];
    const direct = officialClient('direct');
    await direct.connect(new StdioClientTransport({ command: everything[0]!, args: everything.slice(1), stderr: 'ignore' }));
    const proxied = officialClient('proxied');
    await proxied.connect(stdioProxy('everything-stdio', everything));

    const session = async (client: Client) => {
      const tools = await client.listTools();
      const resources = await client.listResources();
      const uri = resources.resources[0]!.uri;
      const prompts = await client.listPrompts();
      return {
        tools: tools.tools,
        echo: await client.callTool({ name: 'echo', arguments: { message: 'hello through the proxy' } }),
        sum: await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } }),
        invalid: await client.callTool({ name: 'get-sum', arguments: { a: 'two' } }),
        sampled: await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'say hi', maxTokens: 5 } }),
        resource: await client.readResource({ uri }),
        prompt: await client.getPrompt({ name: prompts.prompts[0]!.name, arguments: {} }).catch((err: Error) => ({ error: err.message })),
      };
    };
    const viaProxy = await session(proxied);
    const viaDirect = await session(direct);
    assert.ok(viaProxy.tools.length > 5);
    assert.deepEqual(stable(viaProxy), stable(viaDirect));
    assert.match(JSON.stringify(viaProxy.sampled), /sampled: /);
    assert.equal(viaProxy.invalid.isError, true);
    await proxied.close();
    await direct.close();

    const rows = await eventsOf('server=everything-stdio', 12);
    const of = (type: string, tool: string) => rows.filter((r) => r.type === type && r.tool_name === tool);
    assert.equal(of('mcp.tool.call', 'echo').length, 1);
    const echo = of('mcp.tool.call', 'echo')[0];
    assert.deepEqual([echo.outcome, echo.decided_by, echo.tool_intent, echo.agent_id, echo.source], ['allow', 'gateway', 'read', 'proxied/1.0.0', source]);
    assert.equal(of('mcp.tool.call', 'get-sum').length, 2);
    assert.equal(of('mcp.tool.call', 'resources/read').length, 1);
    assert.equal(of('mcp.tool.call', 'prompts/get').length, 1);
    assert.equal(new Set(rows.map((r) => r.session_id)).size, 1, 'one stable session for the stdio connection');
    assert.equal((await resultOf(of('mcp.tool.result', 'echo')[0])).is_error, false);
    const sums = await Promise.all(of('mcp.tool.result', 'get-sum').map(resultOf));
    assert.deepEqual(sums.map((r) => r.is_error).sort(), [false, true]);
    // The same outcome as a column and a search filter: exactly the results whose signed event says is_error.
    const results = rows.filter((r) => r.type === 'mcp.tool.result');
    const signed = await Promise.all(results.map(async (r) => [r.id, (await resultOf(r)).is_error] as const));
    const ids = (flag: boolean) => signed.filter(([, e]) => e === flag).map(([id]) => id).sort();
    const failed = (await api(query, '/v1/events?server=everything-stdio&result_is_error=true&limit=200')).body.events as any[];
    assert.ok(failed.some((r) => r.tool_name === 'get-sum'));
    assert.deepEqual(failed.map((r) => r.id).sort(), ids(true));
    assert.ok(failed.every((r) => r.type === 'mcp.tool.result' && r.result_is_error === true));
    const fine = (await api(query, '/v1/events?server=everything-stdio&result_is_error=false&limit=200')).body.events as any[];
    assert.deepEqual(fine.map((r) => r.id).sort(), ids(false));
    assert.ok(fine.every((r) => r.type === 'mcp.tool.result' && r.result_is_error === false));
  });

  test('stdio tool policy: a denied call never reaches server-everything, the client gets a JSON-RPC error, the denial is recorded with the policy', async () => {
    const everything = [process.execPath, EVERYTHING, 'stdio'];
    const policy = ['--allow-tool', 'echo', '--allow-tool', 'get-*', '--deny-tool', 'get-sum', '--policy-id', 'tools-policy', '--policy-version', '3'];
    const client = officialClient('guarded');
    await client.connect(stdioProxy('everything-policy', everything, policy));
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'get-sum'), 'listing is not the policy\'s business');
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'allowed' } });
    assert.match(JSON.stringify(echo.content), /allowed/);
    await assert.rejects(client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }), (err: any) => err.code === -32003 && /tool "get-sum" is denied \(--deny-tool\)/.test(err.message));
    await assert.rejects(
      client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } }),
      (err: any) => err.code === -32003 && /not an allowed tool/.test(err.message),
    );
    // The connection goes on after a denial, on the fast path as before.
    const again = await client.callTool({ name: 'echo', arguments: { message: 'still here' } });
    assert.match(JSON.stringify(again.content), /still here/);
    await client.close();

    const rows = await eventsOf('server=everything-policy', 6);
    const calls = rows.filter((r) => r.type === 'mcp.tool.call');
    assert.deepEqual(calls.map((r) => `${r.tool_name} ${r.outcome}`).sort(), ['echo allow', 'echo allow', 'get-sum deny', 'trigger-sampling-request deny']);
    const denied = calls.find((r) => r.tool_name === 'get-sum');
    assert.deepEqual([denied.policy_id, denied.policy_version, denied.decided_by, denied.decision_reason], ['tools-policy', '3', 'gateway', 'tool "get-sum" is denied (--deny-tool)']);
    // No result came back for a call the server never received.
    assert.deepEqual(rows.filter((r) => r.type === 'mcp.tool.result').map((r) => r.tool_name), ['echo', 'echo']);
  });

  test('stdio, server-filesystem: reads and writes as directly, write recorded with its intent', async () => {
    const dir = fs.realpathSync(tempDir());
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'first line\n');
    // There before either session writes it, so both list the same folder.
    fs.writeFileSync(path.join(dir, 'out.txt'), 'old');
    const filesystem = [process.execPath, FILESYSTEM, dir];
    const direct = officialClient('direct');
    await direct.connect(new StdioClientTransport({ command: filesystem[0]!, args: filesystem.slice(1), stderr: 'ignore' }));
    const proxied = officialClient('proxied');
    await proxied.connect(stdioProxy('filesystem', filesystem));
    const session = async (client: Client) => ({
      tools: (await client.listTools()).tools,
      read: await client.callTool({ name: 'read_text_file', arguments: { path: path.join(dir, 'notes.txt') } }),
      list: await client.callTool({ name: 'list_directory', arguments: { path: dir } }),
      write: await client.callTool({ name: 'write_file', arguments: { path: path.join(dir, 'out.txt'), content: 'written' } }),
      outside: await client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } }),
    });
    const viaProxy = await session(proxied);
    const viaDirect = await session(direct);
    assert.deepEqual(viaProxy, viaDirect);
    assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'written');
    assert.equal(viaProxy.outside.isError, true);
    await proxied.close();
    await direct.close();

    const rows = await eventsOf('server=filesystem', 8);
    const write = rows.find((r) => r.type === 'mcp.tool.call' && r.tool_name === 'write_file');
    const read = rows.find((r) => r.type === 'mcp.tool.call' && r.tool_name === 'read_text_file');
    assert.equal(read.tool_intent, 'read');
    assert.notEqual(write.tool_intent, 'read');
    const outside = rows.filter((r) => r.type === 'mcp.tool.result' && r.tool_name === 'read_text_file');
    assert.deepEqual((await Promise.all(outside.map(resultOf))).map((r) => r.is_error).sort(), [false, true]);
  });

  describe('Streamable HTTP', () => {
    let idpKey: CryptoKey;
    let jwksFile: string;
    let everything: ChildProcess;
    let everythingUrl: string;

    const token = (claims: Record<string, unknown>, audience = RESOURCE) =>
      new SignJWT({ scope: 'mcp:tools', client_id: 'desk-agent', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(randomUUID())
        .sign(idpKey);

    const proxyTo = (upstream: string, serverId: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []) =>
      startHttp(
        parseProxyArgs(
          [
            ...['--emitter', source, '--key', keyFile, '--tenant', 'acme', '--endpoint', ingest, '--state-dir', tempDir(), '--server-id', serverId, '--listen', '127.0.0.1:0', '--upstream', upstream],
            ...(extra.includes('--no-auth') ? extra : ['--resource', RESOURCE, '--jwks', jwksFile, '--issuer', ISSUER, ...extra]),
          ],
          { endpoint: ingest, dataDir },
          env,
        ),
        () => undefined,
      );

    // An official-SDK server that records the headers of every request it gets.
    async function observedUpstream(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close: () => void }> {
      const seen: IncomingHttpHeaders[] = [];
      const app = createMcpExpressApp();
      const transports = new Map<string, StreamableHTTPServerTransport>();
      app.all('/mcp', async (req: any, res: any) => {
        seen.push(req.headers);
        const sid = req.headers['mcp-session-id'] as string | undefined;
        let transport = sid ? transports.get(sid) : undefined;
        if (!transport) {
          const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void transports.set(id, created) });
          transport = created;
          const server = new McpServer({ name: 'observed', version: '1.0.0' });
          server.registerTool('whoami', { inputSchema: { n: z.number() } }, async ({ n }, extra) => ({
            content: [{ type: 'text', text: `n=${n} auth=${extra.requestInfo?.headers.authorization ?? 'none'}` }],
          }));
          await server.connect(transport);
        }
        await transport.handleRequest(req, res, req.body);
      });
      const upstream: HttpServer = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => upstream.once('listening', resolve));
      return {
        url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`,
        seen,
        close: () => {
          upstream.closeAllConnections();
          upstream.close();
        },
      };
    }

    before(async () => {
      const pair = await generateKeyPair('ES256');
      idpKey = pair.privateKey;
      jwksFile = path.join(tempDir(), 'jwks.json');
      fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }] }));
      const port = await freePort();
      everything = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
      await reachable(port);
      everythingUrl = `http://127.0.0.1:${port}/mcp`;
    });
    after(() => {
      everything?.kill('SIGKILL');
    });

    test('server-everything over HTTP: same answers as direct, events with the human, a wrong audience refused and recorded', async () => {
      const proxy = await proxyTo(everythingUrl, 'everything-http');
      try {
        const alice = await token({ sub: 'alice', email: 'alice@acme.example' });
        const proxied = officialClient('proxied');
        await proxied.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
        const direct = officialClient('direct');
        await direct.connect(new StreamableHTTPClientTransport(new URL(everythingUrl)));
        const session = async (client: Client) => ({
          tools: (await client.listTools()).tools,
          echo: await client.callTool({ name: 'echo', arguments: { message: 'over http' } }),
          sum: await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }),
          sampled: await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } }),
        });
        const viaProxy = await session(proxied);
        assert.deepEqual(stable(viaProxy), stable(await session(direct)));
        assert.match(JSON.stringify(viaProxy.sampled), /sampled: /);
        await proxied.close();
        await direct.close();

        // The protected-resource metadata, and the challenge that points to it.
        const metadata = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', proxy.url));
        assert.deepEqual(await metadata.json(), { resource: RESOURCE, authorization_servers: [ISSUER], bearer_methods_supported: ['header'] });
        const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mallory-agent', version: '1' } } });
        const post = (auth?: string) =>
          fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(auth ? { authorization: auth } : {}) }, body: initialize });
        const anonymous = await post();
        assert.equal(anonymous.status, 401);
        assert.equal(anonymous.headers.get('www-authenticate'), `Bearer resource_metadata="https://mcp.proxy-test.example/.well-known/oauth-protected-resource/mcp"`);
        // A valid token minted for another resource: refused, not passed on.
        const elsewhere = await post(`Bearer ${await token({ sub: 'mallory' }, 'https://other.example/mcp')}`);
        assert.equal(elsewhere.status, 401);
        assert.match(elsewhere.headers.get('www-authenticate') ?? '', /error="invalid_token".*resource_metadata=/);
        const toolCall = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' } } });
        const forged = await fetch(proxy.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${(await token({ sub: 'alice' })).slice(0, -4)}AAAA` },
          body: toolCall,
        });
        assert.equal(forged.status, 401);
      } finally {
        await proxy.close();
      }

      const rows = await eventsOf('server=everything-http', 9);
      const echo = rows.find((r) => r.type === 'mcp.tool.call' && r.tool_name === 'echo' && r.outcome === 'allow');
      assert.deepEqual([echo.human_sub, echo.human_email, echo.agent_id, echo.token_client_id, echo.server_audience], ['alice', 'alice@acme.example', 'desk-agent', 'desk-agent', RESOURCE]);
      assert.ok(rows.filter((r) => r.human_sub === 'alice' && r.outcome === 'allow').every((r) => r.session_id === echo.session_id));
      const refusedOther = rows.find((r) => r.human_sub === 'mallory');
      assert.ok(refusedOther, 'the wrong-audience refusal is recorded with who presented the token');
      assert.deepEqual([refusedOther.type, refusedOther.outcome, refusedOther.decision_reason, refusedOther.tool_name], ['authz.decision', 'deny', 'token audience is not this resource', 'initialize']);
      assert.ok(refusedOther.flags.includes('token_passthrough'));
      const forgedCall = rows.find((r) => r.type === 'mcp.tool.call' && r.outcome === 'deny' && r.tool_name === 'echo');
      assert.ok(forgedCall, 'a refused tool call is recorded as a denied call');
      assert.equal(forgedCall.human_sub, '');
      assert.ok(rows.some((r) => r.outcome === 'deny' && r.decision_reason === 'no bearer token'));
    });

    test('HTTP tool policy: a denied call gets a JSON-RPC error from the proxy and never reaches the upstream', async () => {
      const upstream = await observedUpstream();
      const proxy = await proxyTo(upstream.url, 'observed-policy', {}, ['--deny-tool', 'who*']);
      try {
        const client = officialClient('guarded-http');
        await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { authorization: `Bearer ${await token({ sub: 'alice' })}` } } }));
        await client.listTools();
        const before = upstream.seen.length;
        await assert.rejects(client.callTool({ name: 'whoami', arguments: { n: 1 } }), (err: any) => err.code === -32003 && /tool "whoami" is denied/.test(err.message));
        assert.equal(upstream.seen.length, before, 'the denied call was not relayed');
        await client.close();
      } finally {
        await proxy.close();
        upstream.close();
      }
      const rows = await eventsOf('server=observed-policy&tool=whoami', 1);
      assert.deepEqual(rows.map((r) => [r.type, r.outcome, r.policy_id, r.human_sub, r.decision_reason]), [['mcp.tool.call', 'deny', 'mcp-proxy', 'alice', 'tool "whoami" is denied (--deny-tool)']]);
    });

    test('refused requests beyond the per-address limit are answered 429 and counted, not recorded; good requests still pass', async () => {
      const upstream = await observedUpstream();
      const proxy = await proxyTo(upstream.url, 'observed-limited', {}, ['--refusal-limit', '3', '--refusal-window', '600']);
      try {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: { n: 1 } } });
        const post = (headers: Record<string, string>) =>
          fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });
        const wrongAudience = `Bearer ${await token({ sub: 'mallory' }, 'https://other.example/mcp')}`;
        const statuses: number[] = [];
        const attempts: Record<string, string>[] = [{}, { authorization: wrongAudience }, { origin: 'https://evil.example' }, { authorization: wrongAudience }, {}, { origin: 'https://evil.example' }];
        for (const headers of attempts) {
          const res = await post(headers);
          statuses.push(res.status);
          if (res.status === 429) {
            assert.ok(Number(res.headers.get('retry-after')) > 0 && Number(res.headers.get('retry-after')) <= 600);
            assert.match(((await res.json()) as any).error.message, /too many refused requests/);
          } else await res.arrayBuffer();
        }
        assert.deepEqual(statuses, [401, 401, 403, 429, 429, 429]);
        assert.equal(upstream.seen.length, 0, 'no refused request reached the upstream');
        // A valid client from the same address is not held back by the refusals.
        const client = officialClient('after-refusals');
        await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { authorization: `Bearer ${await token({ sub: 'alice' })}` } } }));
        assert.match(JSON.stringify((await client.callTool({ name: 'whoami', arguments: { n: 2 } })).content), /n=2/);
        await client.close();
        assert.deepEqual(proxy.stats, { refused: 6, recorded: 3, limited: 3 });
      } finally {
        await proxy.close();
        upstream.close();
      }
      const rows = await eventsOf('server=observed-limited&outcome=deny', 3);
      assert.equal(rows.length, 3, 'only the refusals within the limit are recorded');
    });

    test('the upstream never sees the client token; it gets the configured credential', async () => {
      const upstream = await observedUpstream();
      const { seen } = upstream;
      const proxy = await proxyTo(upstream.url, 'observed', { MCP_PROXY_UPSTREAM_AUTHORIZATION: 'Bearer upstream-credential' });
      try {
        const alice = await token({ sub: 'alice' });
        const client = officialClient('proxied');
        await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { authorization: `Bearer ${alice}`, cookie: 'sid=secret' } } }));
        const result = await client.callTool({ name: 'whoami', arguments: { n: 7 } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'n=7 auth=Bearer upstream-credential' }]);
        await client.close();
        assert.ok(seen.length >= 3, `upstream saw ${seen.length} requests`);
        for (const headers of seen) {
          assert.equal(headers.authorization, 'Bearer upstream-credential');
          assert.equal(headers.cookie, undefined);
          assert.ok(!JSON.stringify(headers).includes(alice.split('.')[2]!));
        }
      } finally {
        await proxy.close();
        upstream.close();
      }
    });

    test("DNS rebinding: a foreign Origin or Host gets 403 and never reaches the upstream, the proxy's own names and configured origins pass", async () => {
      const upstream = await observedUpstream();
      const proxy = await proxyTo(upstream.url, 'rebinding', {}, ['--allowed-origin', 'http://localhost:6274']);
      const open = await proxyTo(upstream.url, 'rebinding-open', {}, ['--no-auth']);
      try {
        const port = new URL(proxy.url).port;
        assert.deepEqual(proxy.allowedHosts, [`127.0.0.1:${port}`, `[::1]:${port}`, `localhost:${port}`, 'mcp.proxy-test.example']);
        assert.deepEqual(proxy.allowedOrigins, [`http://127.0.0.1:${port}`, `http://[::1]:${port}`, `http://localhost:${port}`, 'https://mcp.proxy-test.example', 'http://localhost:6274']);
        const alice = await token({ sub: 'alice' });
        // The official client (no Origin), and one sending a configured browser origin.
        for (const origin of [undefined, 'http://localhost:6274', `http://localhost:${port}`]) {
          const client = officialClient('proxied');
          const headers: Record<string, string> = { authorization: `Bearer ${alice}`, ...(origin ? { origin } : {}) };
          await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers } }));
          assert.deepEqual((await client.callTool({ name: 'whoami', arguments: { n: 1 } })).content, [{ type: 'text', text: 'n=1 auth=none' }]);
          await client.close();
        }
        const before = upstream.seen.length;

        const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'rebound', version: '1' } } });
        const raw = (url: string, headers: Record<string, string>) =>
          new Promise<{ status: number; body: any }>((resolve, reject) => {
            const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
              let text = '';
              res.on('data', (chunk) => (text += chunk));
              res.on('end', () => resolve({ status: res.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : text }));
            });
            req.once('error', reject);
            req.end(initialize);
          });
        // A valid token does not help a page of another origin.
        const foreignOrigin = await fetch(proxy.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${alice}`, origin: 'http://evil.example' },
          body: initialize,
        });
        assert.equal(foreignOrigin.status, 403);
        assert.deepEqual(await foreignOrigin.json(), { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Origin "http://evil.example" is not allowed' } });
        const foreignHost = await raw(proxy.url, { host: `evil.example:${port}`, origin: `http://evil.example:${port}`, authorization: `Bearer ${alice}` });
        assert.equal(foreignHost.status, 403);
        assert.match(foreignHost.body.error.message, /Host "evil.example:\d+" is not allowed/);
        assert.equal((await raw(proxy.url, { origin: 'null', authorization: `Bearer ${alice}` })).status, 403);
        // Without authentication the check is what stands between a web page and the server.
        const openPort = new URL(open.url).port;
        assert.equal((await raw(open.url, { host: 'evil.example', origin: 'http://evil.example' })).status, 403);
        assert.equal((await raw(open.url, { host: `localhost:${openPort}`, origin: 'http://evil.example' })).status, 403);
        assert.equal(upstream.seen.length, before, 'no refused request reached the upstream');
        const local = await raw(open.url, { host: `localhost:${openPort}`, origin: `http://localhost:${openPort}` });
        assert.equal(local.status, 200);
        assert.match(String(local.body), /"serverInfo":\{"name":"observed"/);
        // The metadata is public (any origin may read it), but only under the proxy's own names.
        const metadataUrl = new URL('/.well-known/oauth-protected-resource/mcp', proxy.url).href;
        assert.equal((await fetch(metadataUrl, { headers: { origin: 'http://evil.example' } })).status, 200);
        const reboundMetadata = await new Promise<number>((resolve, reject) => http.get(metadataUrl, { headers: { host: 'evil.example' } }, (res) => resolve(res.statusCode!)).once('error', reject));
        assert.equal(reboundMetadata, 403);
      } finally {
        await proxy.close();
        await open.close();
        upstream.close();
      }

      // Each refusal recorded as a denied decision with its reason (the open proxy's too).
      const rows = await eventsOf('server=rebinding&outcome=deny', 3);
      assert.deepEqual(rows.map((r) => [r.type, r.tool_name, r.decision_reason]).sort(), [
        ['authz.decision', 'initialize', 'Host "evil.example:' + new URL(proxy.url).port + '" is not allowed'],
        ['authz.decision', 'initialize', 'Origin "http://evil.example" is not allowed'],
        ['authz.decision', 'initialize', 'Origin "null" is not allowed'],
      ]);
      assert.equal((await eventsOf('server=rebinding-open&outcome=deny', 2)).length, 2);
    });
  });
});
