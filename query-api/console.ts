// The web console: the single-page application built into dist/console by
// `npm run build`, served by the query API at `/`. Its files are read once
// at start and kept compressed in memory (the whole bundle is a few hundred
// KB). Hashed assets are immutable; index.html is revalidated every time so a
// new build is picked up. Every console path that is not a file answers
// index.html (the application routes itself), but never one of the API's own
// paths, which keep their JSON 404.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';

// dist/query-api/console.js -> dist/console
export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'console');

// Paths the console never answers for: the API and the service endpoints.
const API_PATHS = /^\/(v1|healthz|readyz|metrics|docs|openapi\.json)(\/|$|\?)/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

interface StaticFile {
  type: string;
  etag: string;
  immutable: boolean;
  raw: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

function load(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.posix.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else {
        const raw = fs.readFileSync(path.join(dir, rel));
        const type = TYPES[path.extname(entry.name)] ?? 'application/octet-stream';
        const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && raw.length > 1024;
        files.set(`/${rel}`, {
          type,
          raw,
          etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
          immutable: rel.startsWith('assets/'),
          gzip: compressible ? gzipSync(raw, { level: 9 }) : undefined,
          br: compressible ? brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }) : undefined,
        });
      }
    }
  };
  walk('');
  return files;
}

// The console's Content-Security-Policy: its own scripts and styles only;
// API calls to this origin and, for OIDC login, to the identity provider.
export function consolePolicy(connectTo: string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ${connectTo.join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile, policy: string) {
  void reply
    .header('content-type', file.type)
    .header('etag', file.etag)
    .header('vary', 'accept-encoding')
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  if (file.type.startsWith('text/html')) void reply.header('content-security-policy', policy).header('x-frame-options', 'DENY');
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  const accepts = String(request.headers['accept-encoding'] ?? '');
  if (file.br && /\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(file.br);
  if (file.gzip && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.raw);
}

// How the console signs in: the development token pasted by hand, or OIDC
// (authorization code + PKCE) against the issuer the API trusts. Public
// settings only; served at /console/config.json.
export type ConsoleAuth = { mode: 'token' } | { mode: 'oidc'; issuer: string; client_id: string; scope: string; redirect_uri?: string; resource?: string };

export function consoleAuthOf(oidc: Config['query']['consoleOidc']): ConsoleAuth {
  if (!oidc) return { mode: 'token' };
  return { mode: 'oidc', issuer: oidc.issuer, client_id: oidc.clientId, scope: oidc.scope, redirect_uri: oidc.redirectUri, resource: oidc.resource };
}

export interface ConsoleOptions {
  dir?: string;
  auth?: ConsoleAuth;
}

export function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions = {}): void {
  const dir = opts.dir ?? CONSOLE_DIR;
  const files = fs.existsSync(path.join(dir, 'index.html')) ? load(dir) : null;
  const auth: ConsoleAuth = opts.auth ?? { mode: 'token' };
  const policy = consolePolicy(auth.mode === 'oidc' ? [new URL(auth.issuer).origin] : []);
  app.get('/console/config.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send({ auth }));
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const pathname = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (API_PATHS.test(pathname)) throw new ActorlogError('NOT_FOUND');
    if (!files) return reply.status(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build`.\n');
    const file = files.get(pathname);
    if (file) return send(request, reply, file, policy);
    // A missing asset is a 404, not the application.
    if (pathname.startsWith('/assets/') || path.posix.extname(pathname) !== '') throw new ActorlogError('NOT_FOUND');
    return send(request, reply, files.get('/index.html')!, policy);
  };
  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
}
