// The proxy's configuration: one validated object, from the command line
// (and the environment for the one secret, the upstream credential).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ActorlogError } from '../lib/errors.js';

export const PROXY_USAGE = `actorlog mcp-proxy --emitter ID --key FILE --tenant T [options] -- <server command> [args...]
actorlog mcp-proxy --emitter ID --key FILE --tenant T --listen HOST:PORT --upstream URL
                   --resource URI --jwks URL|FILE [--issuer ISS] [--authorization-server URL ...] [options]

  --endpoint URL             ingest (default: this host's ingest port)
  --state-dir DIR            the emitter's seq and outbox (default DATA_DIR/mcp-proxy/<emitter>)
  --server-id ID             the server as events name it (default: the command's name, or the upstream host)
  --audience URI             the server's audience in events (default: --resource, or the server id)
  --policy-id ID --policy-version V
                             the policy decisions are recorded under (default mcp-proxy / 1)
  --deny-tool NAME           refuse tools/call of this tool (repeatable; NAME* is a prefix)
  --allow-tool NAME          refuse tools/call of every tool not named (repeatable; NAME* is a prefix)
                             Default: every tool allowed. Deny wins over allow. A refused call
                             never reaches the server: the client gets JSON-RPC error -32003,
                             and a denied event names the policy id/version and the reason.
  HTTP mode:
  --resource URI             this proxy's canonical URI as clients use it; tokens must name it in aud
  --jwks URL|FILE            the authorization server's JWKS
  --issuer ISS               the token issuer to require
  --authorization-server URL listed in the protected-resource metadata (default: --issuer)
  --scope S                  scopes_supported in the metadata (repeatable)
  --no-auth                  relay without authentication (never on a shared network)
  --allowed-host HOST[:PORT] also accept this Host header (repeatable; '*': any)
  --allowed-origin ORIGIN    also accept this Origin header (repeatable; '*': any)
                             Default for both: the listen address (localhost,
                             127.0.0.1 and [::1] when it is loopback or 0.0.0.0)
                             and the --resource origin; anything else gets 403.
                             MCP_PROXY_ALLOWED_HOSTS / MCP_PROXY_ALLOWED_ORIGINS
                             (environment, comma-separated) add to them too.
  --refusal-limit N          refused requests (bad token, wrong audience, bad Host or Origin)
                             recorded as denied events per client address (IPv6: per /64)
                             and window; beyond it they are answered 429 with Retry-After and
                             only counted (default 20; 0: record every refusal)
  --refusal-window SECONDS   that window (default 60)
  MCP_PROXY_UPSTREAM_AUTHORIZATION (environment): the Authorization header sent
  upstream; the client's own token is never forwarded.`;

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:]+):\d{1,5}$/, 'HOST:PORT')
  .transform((value) => {
    const at = value.lastIndexOf(':');
    return { host: value.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(value.slice(at + 1)) };
  });
const httpUrl = z.url({ protocol: /^https?$/ });
const allowedHost = z.union([z.literal('*'), z.string().regex(/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/, 'HOST or HOST:PORT')]);
const allowedOrigin = z.union([z.literal('*'), httpUrl.refine((value) => /^[a-z]+:\/\/[^/?#]+\/?$/i.test(value), 'an origin: scheme://host[:port]')]);

// A tool name, or a prefix of names ending in `*`.
const toolPattern = z.string().min(1).max(256);

export const proxyOptionsSchema = z
  .object({
    emitter: z.string().min(1),
    key: z.string().min(1),
    tenant: z.string().min(1),
    endpoint: httpUrl,
    stateDir: z.string().min(1),
    serverId: z.string().min(1).max(256).optional(),
    audience: z.string().min(1).max(1024).optional(),
    policy: z.object({ id: z.string().min(1), version: z.string().min(1) }),
    tools: z.object({ allow: z.array(toolPattern), deny: z.array(toolPattern) }),
    command: z.array(z.string()).optional(),
    listen: listen.optional(),
    upstream: httpUrl.optional(),
    resource: httpUrl.optional(),
    jwks: z.string().min(1).optional(),
    issuer: z.string().min(1).optional(),
    authorizationServers: z.array(httpUrl),
    scopes: z.array(z.string().min(1)),
    noAuth: z.boolean(),
    allowedHosts: z.array(allowedHost),
    allowedOrigins: z.array(allowedOrigin),
    upstreamAuthorization: z.string().min(1).optional(),
    refusalLimit: z.coerce.number().int().min(0).max(1_000_000),
    refusalWindowS: z.coerce.number().int().min(1).max(86_400),
  })
  .superRefine((o, ctx) => {
    const stdio = Boolean(o.command?.length);
    const httpMode = Boolean(o.listen || o.upstream);
    if (stdio === httpMode) ctx.addIssue({ code: 'custom', message: 'give either `-- <server command>` (stdio) or --listen and --upstream (HTTP)' });
    if (httpMode && (!o.listen || !o.upstream)) ctx.addIssue({ code: 'custom', message: 'HTTP mode needs both --listen and --upstream' });
    if (httpMode && !o.noAuth && (!o.resource || !o.jwks)) {
      ctx.addIssue({ code: 'custom', message: 'HTTP mode needs --resource and --jwks (or --no-auth, explicitly)' });
    }
    if (httpMode && !o.noAuth && o.authorizationServers.length === 0 && !o.issuer) {
      ctx.addIssue({ code: 'custom', message: 'the protected-resource metadata needs --authorization-server (or --issuer)' });
    }
  });
export type ProxyOptions = z.infer<typeof proxyOptionsSchema>;

const list = (value: string | undefined) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);

export function parseProxyArgs(argv: string[], defaults: { endpoint: string; dataDir: string }, env: NodeJS.ProcessEnv = process.env): ProxyOptions {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? undefined : argv.slice(dash + 1);
  const { values } = parseArgs({
    args: own,
    options: {
      emitter: { type: 'string' },
      key: { type: 'string' },
      tenant: { type: 'string' },
      endpoint: { type: 'string' },
      'state-dir': { type: 'string' },
      'server-id': { type: 'string' },
      audience: { type: 'string' },
      'policy-id': { type: 'string' },
      'policy-version': { type: 'string' },
      'deny-tool': { type: 'string', multiple: true },
      'allow-tool': { type: 'string', multiple: true },
      listen: { type: 'string' },
      upstream: { type: 'string' },
      resource: { type: 'string' },
      jwks: { type: 'string' },
      issuer: { type: 'string' },
      'authorization-server': { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      'no-auth': { type: 'boolean' },
      'allowed-host': { type: 'string', multiple: true },
      'allowed-origin': { type: 'string', multiple: true },
      'refusal-limit': { type: 'string' },
      'refusal-window': { type: 'string' },
    },
  });
  const parsed = proxyOptionsSchema.safeParse({
    emitter: values.emitter,
    key: values.key,
    tenant: values.tenant,
    endpoint: values.endpoint ?? defaults.endpoint,
    stateDir: values['state-dir'] ?? path.join(defaults.dataDir, 'mcp-proxy', (values.emitter ?? 'proxy').replace(/[^A-Za-z0-9._-]/g, '_')),
    serverId: values['server-id'],
    audience: values.audience,
    policy: { id: values['policy-id'] ?? 'mcp-proxy', version: values['policy-version'] ?? '1' },
    tools: { allow: values['allow-tool'] ?? [], deny: values['deny-tool'] ?? [] },
    command,
    listen: values.listen,
    upstream: values.upstream,
    resource: values.resource,
    jwks: values.jwks,
    issuer: values.issuer,
    authorizationServers: values['authorization-server'] ?? (values.issuer && /^https?:/.test(values.issuer) ? [values.issuer] : []),
    scopes: values.scope ?? [],
    noAuth: values['no-auth'] ?? false,
    allowedHosts: [...(values['allowed-host'] ?? []), ...list(env.MCP_PROXY_ALLOWED_HOSTS)],
    allowedOrigins: [...(values['allowed-origin'] ?? []), ...list(env.MCP_PROXY_ALLOWED_ORIGINS)],
    upstreamAuthorization: env.MCP_PROXY_UPSTREAM_AUTHORIZATION || undefined,
    refusalLimit: values['refusal-limit'] ?? 20,
    refusalWindowS: values['refusal-window'] ?? 60,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw new ActorlogError('BAD_REQUEST', `${problems}\n\n${PROXY_USAGE}`);
  }
  return parsed.data;
}
