// The proxy as the MCP authorization spec's resource server: a bearer JWT,
// verified against the authorization server's JWKS, whose audience is this
// proxy's own canonical resource URI (RFC 8707), and an RFC 9728 metadata
// document telling clients where to get one.
import fs from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface BearerOptions {
  // The canonical URI clients use for this proxy, e.g. https://mcp.example.com/mcp
  resource: string;
  // JWKS of the authorization server: an https URL, or a file holding the set.
  jwks: string;
  issuer?: string;
  authorizationServers: string[];
  scopesSupported?: string[];
}

export type Verdict =
  | { ok: true; claims: Record<string, unknown> }
  // claims: set when the signature verified but a claim did not (e.g. the
  // audience), so the refusal can still name who presented the token.
  | { ok: false; error: 'invalid_request' | 'invalid_token'; reason: string; claims?: Record<string, unknown> };

// RFC 8707 section 2: the canonical form has a lower-case scheme and host and
// no fragment; a bare trailing slash is not significant.
export function canonicalResource(uri: string): string {
  const url = new URL(uri);
  url.hash = '';
  const text = url.href;
  return url.pathname === '/' && !url.search ? text.replace(/\/$/, '') : text;
}

export function metadataUrl(resource: string): string {
  // RFC 9728 section 3.1: the well-known suffix goes between host and path.
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

// A signature check costs more than relaying the request, and a client sends
// the same token with every request: a token that verified is trusted again
// until it expires, for at most a minute (so a key removed from the JWKS stops
// working within that), and only the last few hundred are kept.
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 512;

export class BearerAuth {
  readonly resource: string;
  readonly metadataUrl: string;
  private readonly keys: JWTVerifyGetKey;
  private readonly verified = new Map<string, { claims: Record<string, unknown>; until: number }>();

  constructor(private readonly options: BearerOptions) {
    this.resource = canonicalResource(options.resource);
    this.metadataUrl = metadataUrl(this.resource);
    this.keys = /^https?:\/\//.test(options.jwks)
      ? createRemoteJWKSet(new URL(options.jwks))
      : createLocalJWKSet(JSON.parse(fs.readFileSync(options.jwks, 'utf8')));
  }

  // RFC 9728 section 2.
  metadata(): Record<string, unknown> {
    return {
      resource: this.resource,
      authorization_servers: this.options.authorizationServers,
      bearer_methods_supported: ['header'],
      ...(this.options.scopesSupported?.length ? { scopes_supported: this.options.scopesSupported } : {}),
    };
  }

  async verify(authorization: string | undefined): Promise<Verdict> {
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization ?? '');
    if (!match) return { ok: false, error: 'invalid_request', reason: authorization ? 'not a bearer token' : 'no bearer token' };
    const token = match[1]!;
    const now = Date.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return { ok: true, claims: known.claims };
    if (known) this.verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        audience: [this.resource, `${this.resource}/`],
        requiredClaims: ['exp', 'sub'],
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      });
      const claims = payload as Record<string, unknown>;
      if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims, until: Math.min(payload.exp! * 1000, now + VERIFIED_TTL_MS) });
      return { ok: true, claims };
    } catch (err) {
      if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired) {
        const claims = (err as { payload?: JWTPayload }).payload as Record<string, unknown> | undefined;
        const reason = err.claim === 'aud' ? 'token audience is not this resource' : `token ${err.claim} claim: ${err.reason}`;
        return { ok: false, error: 'invalid_token', reason, ...(claims ? { claims } : {}) };
      }
      return { ok: false, error: 'invalid_token', reason: `token refused: ${(err as Error).message}` };
    }
  }

  // RFC 6750 section 3 with RFC 9728 section 5.1's resource_metadata.
  challenge(verdict: Extract<Verdict, { ok: false }>): string {
    // A request with no token gets no error code (RFC 6750 3.1).
    const parts = verdict.reason === 'no bearer token' ? [] : [`error="${verdict.error}"`, `error_description="${verdict.reason.replace(/["\\]/g, '')}"`];
    parts.push(`resource_metadata="${this.metadataUrl}"`);
    return `Bearer ${parts.join(', ')}`;
  }
}
