// The issue's "done means" for the light package, as a new user meets it: a
// scratch project installs only the packed @actorlog/sdk tarball and the
// official MCP SDK, an MCP server gains its audit in three added lines, and
// its events come back from the query API of a real embedded actorlog.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startAll, type Running } from '../../cli/services.js';
import { registeredEmitter, tempDir, type TestEmitter } from '../helpers/fixtures.js';
import { api, context, eventually, testConfig } from '../helpers/services.js';
import { assertAuditedRows, assertResultsSigned } from '../helpers/audited-session.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// The version the root installed (its package.json is not in the SDK's exports map).
const MCP_SDK_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8')) as { version: string }).version;
const RESOURCE = 'http://127.0.0.1/scratch-notes';
const ISSUER = 'https://idp.test.example';
const LIGHT_CEILING_BYTES = 15e6;

// What an MCP developer already has: an McpServer with a tool behind the SDK's
// bearer auth. The verifier is node:crypto only (Ed25519 JWT, the IdP's
// public JWK in IDP_JWK), because the scratch project installs nothing else.
const SERVER_BEFORE_AUDIT = `
import crypto from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { z } from 'zod';
const RESOURCE = ${JSON.stringify(RESOURCE)};
const idpKey = crypto.createPublicKey({ key: JSON.parse(process.env.IDP_JWK), format: 'jwk' });
const verifier = {
  async verifyAccessToken(token) {
    const [h, p, s] = token.split('.');
    if (!crypto.verify(null, Buffer.from(h + '.' + p), idpKey, Buffer.from(s, 'base64url'))) throw new InvalidTokenError('bad signature');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    if (claims.aud !== RESOURCE || claims.exp < Date.now() / 1000) throw new InvalidTokenError('wrong audience or expired');
    return { token, clientId: claims.client_id, scopes: claims.scope.split(' '), expiresAt: claims.exp, resource: new URL(RESOURCE), extra: { claims } };
  },
};
function notesServer() {
  const server = new McpServer({ name: 'scratch-notes', version: '1.0.0' });
  server.registerTool('read_note', { description: 'Read a note', inputSchema: { id: z.string() }, annotations: { readOnlyHint: true } },
    async ({ id }) => ({ content: [{ type: 'text', text: 'note ' + id }] }));
  server.registerTool('delete_note', { description: 'Delete a note', inputSchema: { id: z.string() }, annotations: { destructiveHint: true } },
    async ({ id }) => ({ content: [{ type: 'text', text: 'note ' + id + ' is locked' }], isError: true }));
  AUDIT_HERE
  return server;
}
const app = createMcpExpressApp();
const transports = new Map();
app.all('/mcp', requireBearerAuth({ verifier }), async (req, res) => {
  let transport = transports.get(req.headers['mcp-session-id']);
  if (!transport) {
    transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => crypto.randomUUID(), onsessioninitialized: (id) => transports.set(id, transport) });
    await notesServer().connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
});
const listener = app.listen(0, '127.0.0.1', () => console.log('listening http://127.0.0.1:' + listener.address().port + '/mcp'));
`;

// The audit: the import, the emitter and the wiring, three added lines.
const AUDIT_IMPORTS = `import { EmitterClient, auditMcpServer } from '@actorlog/sdk/mcp';`;
const AUDIT_EMITTER = `const emitter = new EmitterClient({ endpoint: process.env.ACTORLOG_INGEST, source: process.env.ACTORLOG_SOURCE, privateJwk: JSON.parse(process.env.ACTORLOG_KEY), stateDir: process.env.ACTORLOG_STATE });`;
const AUDIT_WIRING = `auditMcpServer(server, { emitter, tenant: 'acme', server: { audience: RESOURCE } });`;

function scratchServerSource(): string {
  return `${AUDIT_IMPORTS}\n${AUDIT_EMITTER}\n${SERVER_BEFORE_AUDIT.replace('AUDIT_HERE', AUDIT_WIRING)}`;
}

async function duBytes(paths: string[]): Promise<number> {
  const { stdout } = await run('du', ['-skc', ...paths], { timeout: 30_000 });
  return Number(/^(\d+)\s+total$/m.exec(stdout)![1]) * 1024;
}

// The light package and everything it pulls in, from the scratch lockfile
// (a nested copy wins over the hoisted one, as Node resolves it).
function closureOf(project: string, start: string): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key) || !lock.packages[key]) return;
    seen.add(key);
    for (const dep of Object.keys(lock.packages[key]!.dependencies ?? {})) {
      const nested = `${key}/node_modules/${dep}`;
      visit(lock.packages[nested] ? nested : `node_modules/${dep}`);
    }
  };
  visit(start);
  return [...seen].map((key) => path.join(project, key));
}

function firstLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`scratch server did not start in ${timeoutMs} ms: ${out}${err}`)), timeoutMs);
    child.stderr!.on('data', (chunk) => (err += chunk));
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`scratch server exited with ${code}: ${out}${err}`));
    });
  });
}

describe('packed @actorlog/sdk in a scratch project', () => {
  let running: Running;
  let query: string;
  let notes: TestEmitter;
  let project: string;
  let server: ChildProcess | undefined;

  before(async () => {
    const packs = tempDir('actorlog-pack-');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packs], { cwd: path.join(ROOT, 'sdk'), timeout: 180_000 });
    const tarball = path.join(packs, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);

    project = tempDir('actorlog-scratch-');
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'scratch-notes', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@modelcontextprotocol/sdk@${MCP_SDK_VERSION}`], {
      cwd: project,
      timeout: 300_000,
    });
    fs.writeFileSync(path.join(project, 'server.mjs'), scratchServerSource());

    const config = testConfig();
    notes = await registeredEmitter(config.keysFile, 'mcp:scratch-notes');
    running = await startAll(await context(config));
    query = running.queryUrl!;
  });

  after(async () => {
    server?.kill('SIGKILL');
    await running?.close();
  });

  test('installs only the package and its own dependencies, a few MB', async () => {
    const installed = JSON.parse(fs.readFileSync(path.join(project, 'node_modules/@actorlog/sdk/package.json'), 'utf8'));
    assert.deepEqual(Object.keys(installed.dependencies ?? {}), ['zod'], 'the light package depends on zod only, nothing of the server');
    assert.ok(!fs.existsSync(path.join(project, 'node_modules/chdb')) && !fs.existsSync(path.join(project, 'node_modules/kafkajs')));
    const light = await duBytes(closureOf(project, 'node_modules/@actorlog/sdk'));
    const all = await duBytes([path.join(project, 'node_modules')]);
    console.log(`scratch node_modules: ${(all / 1e6).toFixed(1)} MB in all; @actorlog/sdk and its dependencies: ${(light / 1e6).toFixed(1)} MB (ceiling ${LIGHT_CEILING_BYTES / 1e6} MB)`);
    assert.ok(light < LIGHT_CEILING_BYTES, `@actorlog/sdk installs ${light} bytes`);
  });

  test('three added lines audit an McpServer: human, actor chain, tool and outcome come back from the query API', async () => {
    const idp = await generateKeyPair('EdDSA', { extractable: true });
    server = spawn(process.execPath, ['server.mjs'], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        IDP_JWK: JSON.stringify(await exportJWK(idp.publicKey)),
        ACTORLOG_INGEST: running.ingestUrl!,
        ACTORLOG_SOURCE: notes.source,
        ACTORLOG_KEY: JSON.stringify(notes.key.privateJwk),
        ACTORLOG_STATE: tempDir(),
      },
    });
    const [, url] = await firstLine(server, /listening (\S+)/, 30_000);
    const token = await new SignJWT({ scope: 'notes:read', client_id: 'desk-agent', email: 'alice@acme.example', act: { sub: 'agent:planner', act: { sub: 'agent:desk' } } })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setSubject('alice')
      .setIssuer(ISSUER)
      .setAudience(RESOURCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .setJti(randomUUID())
      .sign(idp.privateKey);

    const client = new Client({ name: 'desk-client', version: '1.2.3' });
    const transport = new StreamableHTTPClientTransport(new URL(url!), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    assert.deepEqual((await client.callTool({ name: 'read_note', arguments: { id: '7' } })).content, [{ type: 'text', text: 'note 7' }]);
    assert.equal((await client.callTool({ name: 'delete_note', arguments: { id: '7' } })).isError, true);
    const sessionId = transport.sessionId!;
    await client.close();

    // The server's emitter flushes on its own timer; wait for all four events.
    const rows = await eventually(
      async () => {
        const { body } = await api(query, `/v1/events?session=${sessionId}&limit=50`);
        return (body.events as any[] | undefined)?.length === 4 ? (body.events as any[]) : undefined;
      },
      'the scratch server events in the query API',
      30_000,
    );
    assertAuditedRows(rows, {
      events: ['mcp.tool.call delete_note allow', 'mcp.tool.call read_note allow', 'mcp.tool.result delete_note ', 'mcp.tool.result read_note '],
      server_id: 'scratch-notes',
      server_audience: RESOURCE,
      source: 'mcp:scratch-notes',
    });
    await assertResultsSigned(query, rows);
  });
});
