// Runs the proxy in the mode its options say, with an emitter of its own.
import fs from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { EmitterClient, uuidv7 } from '@actorlog/sdk';
import { McpObserver } from '@actorlog/sdk/mcp';
import { BearerAuth, canonicalResource } from './auth.js';
import { startHttpProxy, type RunningHttpProxy } from './http.js';
import type { ProxyOptions } from './options.js';
import { runStdioProxy } from './stdio.js';
import { ToolPolicy } from './tool-policy.js';

// How long an exit waits for the outbox to reach ingest; what is left stays
// in the outbox and goes with the next run.
const CLOSE_WAIT_MS = 3_000;

// `node server.js` and `npx -y pkg` name the server by what they run, not by the runner.
const RUNNERS = new Set(['node', 'npx', 'uvx', 'uv', 'python', 'python3', 'bun', 'bunx', 'deno', 'docker', 'pipx']);
export function commandName(command: string[]): string {
  const [first, ...rest] = command.map((part) => path.basename(part));
  if (!RUNNERS.has(first!)) return first!;
  return rest.find((part) => !part.startsWith('-') && part !== 'run') ?? first!;
}

export function proxyParts(options: ProxyOptions, log: (line: string) => void) {
  const emitter = new EmitterClient({
    endpoint: options.endpoint,
    source: options.emitter,
    privateJwk: JSON.parse(fs.readFileSync(options.key, 'utf8')) as JWK,
    stateDir: options.stateDir,
    onRejected: (r) => log(`event ${r.id} refused by ingest: ${r.code}: ${r.message}`),
  });
  const resource = options.resource ? canonicalResource(options.resource) : undefined;
  const serverId = options.serverId ?? (options.command ? commandName(options.command) : new URL(options.upstream!).host);
  let emitErrors = 0;
  const observer = new McpObserver({
    emitter,
    tenant: options.tenant,
    server: { id: serverId.slice(0, 256), audience: options.audience ?? resource ?? serverId },
    policy: options.policy,
    decidedBy: 'gateway',
    // Said once, then counted: a down ingest must not flood the server's stderr.
    onEmitError: (err) => {
      if (emitErrors++ === 0) log(`events not queued: ${err.message}`);
    },
  });
  const close = async () => {
    observer.emitQueued();
    const settled = await Promise.race([
      emitter.close().then(
        (result) => (result.pending > 0 ? 'kept' : 'sent'),
        () => 'kept',
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('kept'), CLOSE_WAIT_MS).unref()),
    ]);
    if (settled === 'kept' && emitter.pending > 0) log(`${emitter.pending} events kept in ${options.stateDir} for the next run`);
  };
  const policy = new ToolPolicy(options.tools);
  if (policy.active) {
    const said = [options.tools.deny.length ? `deny ${options.tools.deny.join(' ')}` : '', options.tools.allow.length ? `allow only ${options.tools.allow.join(' ')}` : ''];
    log(`tool policy ${options.policy.id}/${options.policy.version}: ${said.filter(Boolean).join('; ')}`);
  }
  return { emitter, observer, policy, close };
}

export async function runStdio(options: ProxyOptions): Promise<number> {
  const log = (line: string) => process.stderr.write(`actorlog mcp-proxy: ${line}\n`);
  const { observer, policy, close } = proxyParts(options, log);
  const [command, ...args] = options.command!;
  const code = await runStdioProxy({ command: command!, args, observer, policy, sessionId: uuidv7() });
  await close();
  return code;
}

export async function startHttp(options: ProxyOptions, log: (line: string) => void): Promise<RunningHttpProxy> {
  const { observer, policy, close } = proxyParts(options, log);
  const auth = options.noAuth
    ? undefined
    : new BearerAuth({
        resource: options.resource!,
        jwks: options.jwks!,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        authorizationServers: options.authorizationServers.length ? options.authorizationServers : [options.issuer!],
        scopesSupported: options.scopes,
      });
  const running = await startHttpProxy({
    host: options.listen!.host,
    port: options.listen!.port,
    upstream: options.upstream!,
    observer,
    policy,
    ...(auth ? { auth } : {}),
    ...(options.upstreamAuthorization ? { upstreamAuthorization: options.upstreamAuthorization } : {}),
    ...(options.resource ? { resource: options.resource } : {}),
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
    refusalLimit: { limit: options.refusalLimit, windowMs: options.refusalWindowS * 1000 },
    log,
  });
  return {
    ...running,
    close: async () => {
      await running.close();
      const { refused, recorded, limited } = running.stats;
      if (refused) log(`refused requests: ${refused} (${recorded} recorded as events, ${limited} answered 429 and counted)`);
      await close();
    },
  };
}
