// How an emitter proves to ingest who is calling, with the key it already
// has: a short-lived JWT signed by its registered event key. No shared secret
// to provision; ingest checks it against the same key registry as the events.
// Its own `typ` and audience keep it apart from an event JWS, so a stored or
// exported event can never stand in for one.
import { sign } from 'node:crypto';
import type { SigningKey } from './sign.js';

export const INGEST_TOKEN_TYP = 'actorlog-ingest+jwt';
export const INGEST_TOKEN_AUDIENCE = 'actorlog-ingest';
// Ingest refuses a token that lives longer than its INGEST_AUTH_MAX_TOKEN_SECONDS (default 300).
export const INGEST_TOKEN_SECONDS = 300;

export function ingestToken(signer: SigningKey, source: string, now = Date.now(), lifetimeSeconds = INGEST_TOKEN_SECONDS): string {
  const iat = Math.floor(now / 1000);
  const header = Buffer.from(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: INGEST_TOKEN_TYP })).toString('base64url');
  const claims = { iss: source, sub: source, aud: INGEST_TOKEN_AUDIENCE, iat, exp: iat + lifetimeSeconds };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature =
    signer.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: signer.key, dsaEncoding: 'ieee-p1363' })
      : sign(null, Buffer.from(input), signer.key);
  return `${input}.${signature.toString('base64url')}`;
}

// One token reused until a minute before it expires.
export class IngestTokens {
  private token?: string;
  private renewAt = 0;

  constructor(
    private readonly signer: () => SigningKey,
    private readonly source: string,
  ) {}

  current(now = Date.now()): string {
    if (!this.token || now >= this.renewAt) {
      this.token = ingestToken(this.signer(), this.source, now);
      this.renewAt = now + (INGEST_TOKEN_SECONDS - 60) * 1000;
    }
    return this.token;
  }
}
