// The MCP middleware on a server built with the official SDK, driven by the
// official client over Streamable HTTP (bearer auth, AuthInfo) and in memory;
// its events go through the real ingest (embedded mode, real ClickHouse) and
// come back from the query API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { SignJWT, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { EmitterClient } from '@actorlog/sdk';
import { auditMcpServer, DENIED_ERROR_CODE, type AuditOptions } from '@actorlog/sdk/mcp';
import { startAll, type Running } from '../../cli/services.js';
import { registeredEmitter, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, testConfig } from '../helpers/services.js';
import { assertAuditedRows, assertResultsSigned } from '../helpers/audited-session.js';

const RESOURCE = 'http://127.0.0.1/notes-mcp';
const ISSUER = 'https://idp.test.example';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

// A small notes server as an MCP developer writes it; the audit is the one added line.
function notesServer(audit: Omit<AuditOptions, 'tenant'> & { tenant?: string }): McpServer {
  const server = new McpServer({ name: 'notes', version: '1.0.0' });
  server.registerTool(
    'read_note',
    { description: 'Read a note', inputSchema: { id: z.string() }, annotations: { readOnlyHint: true, openWorldHint: false } },
    async ({ id }) => ({ content: [{ type: 'text', text: `note ${id}` }] }),
  );
  server.registerTool(
    'delete_note',
    { description: 'Delete a note', inputSchema: { id: z.string() }, annotations: { destructiveHint: true } },
    async ({ id }) => ({ content: [{ type: 'text', text: `note ${id} is locked` }], isError: true }),
  );
  server.registerTool('wipe', { description: 'Delete every note', annotations: { destructiveHint: true } }, async () => ({
    content: [{ type: 'text', text: 'wiped' }],
  }));
  auditMcpServer(server, { tenant: 'acme', server: { audience: RESOURCE }, ...audit });
  return server;
}

const onlyNotWipe: AuditOptions['authorize'] = ({ params }) =>
  params.name === 'wipe' ? { outcome: 'deny', reason: 'wipe needs an approval', policy: { id: 'notes-policy', version: '7' } } : { outcome: 'allow' };

async function listen(server: HttpServer): Promise<string> {
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('MCP middleware', () => {
  let running: Running;
  let query: string;
  let notes: TestEmitter;
  let emitter: EmitterClient;
  let http: HttpServer;
  let mcpUrl: string;
  let token: string;
  const sessions: string[] = [];

  before(async () => {
    const config = testConfig();
    notes = await registeredEmitter(config.keysFile, 'mcp:notes');
    running = await startAll(await context(config));
    query = running.queryUrl!;
    emitter = new EmitterClient({ endpoint: running.ingestUrl!, source: notes.source, privateJwk: notes.key.privateJwk, stateDir: tempDir(), flushIntervalMs: 50 });

    // The authorization server's key, and a verifier as the SDK's bearer auth expects one.
    const idp = await generateKeyPair('ES256');
    const verifier = {
      async verifyAccessToken(presented: string) {
        const { payload } = await jwtVerify(presented, idp.publicKey, { issuer: ISSUER, audience: RESOURCE });
        return {
          token: presented,
          clientId: String(payload.client_id),
          scopes: String(payload.scope ?? '').split(' '),
          expiresAt: payload.exp!,
          resource: new URL(RESOURCE),
          extra: { claims: payload as Record<string, unknown> },
        };
      },
    };
    token = await new SignJWT({
      scope: 'notes:read notes:write',
      client_id: 'desk-agent',
      email: 'alice@acme.example',
      // RFC 8693: planner acts now, on behalf of desk before it.
      act: { sub: 'agent:planner', act: { sub: 'agent:desk' } },
    } satisfies JWTPayload)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setSubject('alice')
      .setIssuer(ISSUER)
      .setAudience(RESOURCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .setJti(randomUUID())
      .sign(idp.privateKey);

    const app = createMcpExpressApp();
    const transports = new Map<string, StreamableHTTPServerTransport>();
    const auth = requireBearerAuth({ verifier, resourceMetadataUrl: `${RESOURCE}/.well-known/oauth-protected-resource` });
    app.all('/mcp', auth, async (req: any, res: any) => {
      const sid = req.headers['mcp-session-id'] as string | undefined;
      let transport = sid ? transports.get(sid) : undefined;
      if (!transport) {
        const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            transports.set(id, created);
            sessions.push(id);
          },
        });
        transport = created;
        await notesServer({ emitter, authorize: onlyNotWipe }).connect(transport);
      }
      await transport.handleRequest(req, res, req.body);
    });
    http = app.listen(0, '127.0.0.1');
    mcpUrl = `${await listen(http)}/mcp`;
  });

  after(async () => {
    http?.closeAllConnections?.();
    http?.close();
    await emitter?.close();
    await running?.close();
  });

  test('Streamable HTTP with bearer auth: human, actor chain, tool, decision and isError come back from the query API', async () => {
    const client = new Client({ name: 'desk-client', version: '1.2.3' });
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    const read = await client.callTool({ name: 'read_note', arguments: { id: '42' }, _meta: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` } });
    assert.deepEqual(read.content, [{ type: 'text', text: 'note 42' }]);
    const locked = await client.callTool({ name: 'delete_note', arguments: { id: '42' } });
    assert.equal(locked.isError, true);
    await assert.rejects(client.callTool({ name: 'wipe', arguments: {} }), (err: any) => err.code === DENIED_ERROR_CODE && /wipe needs an approval/.test(err.message));
    const sessionId = transport.sessionId!;
    assert.ok(sessions.includes(sessionId));
    await client.close();
    await emitter.flush();

    const { body } = await api(query, `/v1/events?session=${sessionId}&limit=50`);
    const rows = body.events as any[];
    const by = (type: string, tool: string) => rows.find((r) => r.type === type && r.tool_name === tool);
    assertAuditedRows(rows, {
      events: ['mcp.tool.call delete_note allow', 'mcp.tool.call read_note allow', 'mcp.tool.call wipe deny', 'mcp.tool.result delete_note ', 'mcp.tool.result read_note '],
      server_id: 'notes',
      server_audience: RESOURCE,
      source: 'mcp:notes',
    });
    for (const row of rows) {
      assert.equal(row.agent_id, 'agent:planner');
      assert.equal(row.token_client_id, 'desk-agent');
      assert.equal(row.delegation_mode, 'obo_exchange');
    }
    const readCall = by('mcp.tool.call', 'read_note');
    assert.equal(readCall.tool_intent, 'read');
    assert.equal(readCall.tool_sensitivity, 'internal');
    assert.equal(readCall.trace_id, TRACE);
    assert.equal(by('mcp.tool.call', 'delete_note').tool_intent, 'delete');
    const wipe = by('mcp.tool.call', 'wipe');
    assert.deepEqual([wipe.policy_id, wipe.policy_version, wipe.decision_reason, wipe.decided_by], ['notes-policy', '7', 'wipe needs an approval', 'server']);
    assert.ok(!rows.some((r) => r.type === 'mcp.tool.result' && r.tool_name === 'wipe'), 'a denied call never ran');

    await assertResultsSigned(query, rows);
    // The result as columns: the failed call is found by a filter, not by reading each event.
    assert.equal(by('mcp.tool.result', 'delete_note').result_is_error, true);
    assert.equal(by('mcp.tool.result', 'read_note').result_is_error, false);
    assert.ok(by('mcp.tool.result', 'read_note').result_duration_ms >= 0);
    assert.equal(by('mcp.tool.call', 'read_note').result_is_error, null, 'a call event has no result of its own');
    const failed = (await api(query, `/v1/events?session=${sessionId}&result_is_error=true&limit=50`)).body.events as any[];
    assert.deepEqual(failed.map((r) => `${r.type} ${r.tool_name}`), ['mcp.tool.result delete_note']);
    const succeeded = (await api(query, `/v1/events?session=${sessionId}&result_is_error=false&limit=50`)).body.events as any[];
    assert.deepEqual(succeeded.map((r) => `${r.type} ${r.tool_name}`), ['mcp.tool.result read_note']);
    // The token's claims are stored, never the token.
    const stored = await api(query, `/v1/events/${readCall.id}`);
    assert.ok(!JSON.stringify(stored.body).includes(token.split('.')[2]!));
  });

  test('in memory (no transport session): one stable session id per connection, the agent from initialize', async () => {
    const server = notesServer({ emitter });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'local-agent', version: '0.1.0' });
    await client.connect(clientSide);
    await client.callTool({ name: 'read_note', arguments: { id: '1' } });
    await client.callTool({ name: 'read_note', arguments: { id: '2' } });
    await client.close();
    await emitter.flush();

    const { body } = await api(query, '/v1/events?agent=local-agent/0.1.0&limit=50');
    const rows = body.events as any[];
    assert.equal(rows.length, 4);
    assert.equal(new Set(rows.map((r) => r.session_id)).size, 1);
    assert.ok(rows.every((r) => r.human_sub === '' && r.agent_runtime_kind === 'other' && r.tool_name === 'read_note'));
  });

  test('with ingest down (it accepts connections and never answers) tool calls still succeed at once', async () => {
    const sockets = new Set<net.Socket>();
    const blackHole = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const down = new EmitterClient({
      endpoint: `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`,
      source: notes.source,
      privateJwk: notes.key.privateJwk,
      stateDir: tempDir(),
      flushIntervalMs: 1,
    });
    const server = notesServer({ emitter: down });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'local-agent', version: '0.1.0' });
    await client.connect(clientSide);
    const slowest: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const result = await client.callTool({ name: 'read_note', arguments: { id: String(i) } });
      slowest.push(performance.now() - started);
      assert.deepEqual(result.content, [{ type: 'text', text: `note ${i}` }]);
    }
    await client.close();
    // A send to this ingest hangs until its 30 s timeout: a call that waited on
    // it would take that long. Every call came back far inside it.
    assert.ok(Math.max(...slowest) < 5_000, `slowest call ${Math.max(...slowest)} ms`);
    // Nothing lost: every event is in the durable outbox, waiting for ingest.
    const deadline = Date.now() + 10_000;
    while (down.pending < 40 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(down.pending, 40);
    // The calls ran without a turn of the event loop; the events, and the send, came after them.
    while (sockets.size === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(sockets.size >= 1, 'the emitter did try to reach ingest');
    for (const socket of sockets) socket.destroy();
    blackHole.close();
  });
});
