// Who is calling the query API. In production analysts present a JWT from
// the organisation's identity provider, verified with jose against its JWKS
// (a file or a URL) with issuer, audience and expiry checked; roles and
// tenants come from configurable claims. Without a JWKS, one static token
// (development only) stands for every role on every tenant.
import fs from 'node:fs';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { FastifyRequest } from 'fastify';
import type { ClaimSeparator, Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';

// platform_admin: the operator of the actorlog deployment, above tenants. It
// reads the access log and the quarantine whole, including what carries no
// tenant (refused calls without a valid token, events with no readable tenant).
export const ROLES = ['analyst', 'compliance', 'admin', 'platform_admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  roles: Role[];
  // '*': every tenant (the development token only).
  tenants: string[] | '*';
  via: 'jwt' | 'static';
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export type Authenticate = (request: FastifyRequest) => Promise<Principal>;

function bearer(request: FastifyRequest): string {
  const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
  if (!match) throw new ActorlogError('UNAUTHORIZED');
  return match[1]!;
}

// `a.b.c` in the claims, so nested role claims (realm_access.roles) work too.
function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

// A claim is read as identity providers send it: a list of strings, or one
// string that is one value. A string is split only when the operator says the
// provider packs several values into one (ACTORLOG_AUTH_CLAIM_SEPARATOR):
// splitting by default would let a tenant named "acme globex" grant two.
const SEPARATORS: Record<ClaimSeparator, RegExp | undefined> = { none: undefined, space: /\s+/, comma: /\s*,\s*/ };

export function claimValues(value: unknown, separator: ClaimSeparator = 'none'): string[] {
  const split = SEPARATORS[separator];
  if (typeof value === 'string') return (split ? value.split(split) : [value]).filter((v) => v !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

export function jwtAuthenticator(cfg: NonNullable<Config['query']['jwt']>): Authenticate {
  const keys = /^https?:\/\//.test(cfg.jwks)
    ? createRemoteJWKSet(new URL(cfg.jwks))
    : createLocalJWKSet(JSON.parse(fs.readFileSync(cfg.jwks, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
  return async (request) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(bearer(request), keys, {
        issuer: cfg.issuer,
        audience: cfg.audience,
        algorithms: ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'],
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      if (err instanceof ActorlogError) throw err;
      throw new ActorlogError('UNAUTHORIZED', (err as { code?: string }).code ?? 'invalid token');
    }
    return {
      sub: payload.sub!,
      roles: claimValues(claimAt(payload, cfg.rolesClaim), cfg.claimSeparator).filter((r): r is Role => (ROLES as readonly string[]).includes(r)),
      tenants: claimValues(claimAt(payload, cfg.tenantClaim), cfg.claimSeparator),
      via: 'jwt',
    };
  };
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export function staticAuthenticator(token: string): Authenticate {
  const expected = digest(token);
  return async (request) => {
    // Compared over digests: neither content nor length leaks through timing.
    if (!timingSafeEqual(digest(bearer(request)), expected)) throw new ActorlogError('UNAUTHORIZED');
    return { sub: 'static-development-token', roles: [...ROLES], tenants: '*', via: 'static' };
  };
}

export function requireRole(principal: Principal | undefined, role: Role): Principal {
  if (!principal) throw new ActorlogError('UNAUTHORIZED');
  if (!principal.roles.includes(role)) throw new ActorlogError('FORBIDDEN', `the ${role} role is required`);
  return principal;
}
