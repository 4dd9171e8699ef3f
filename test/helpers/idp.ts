// A stand-in identity provider for tests: a signing key, its JWKS written to
// a file the query API is configured with, and tokens minted on demand.
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { tempDir } from './fixtures.js';

export const ISSUER = 'https://idp.test.example';
export const AUDIENCE = 'actorlog-query';

export interface TestIdp {
  jwksFile: string;
  token(claims: { sub: string; roles?: string[]; tenant?: string | string[] }, opts?: { issuer?: string; audience?: string; expiresIn?: string; foreignKey?: boolean }): Promise<string>;
  env: Record<string, string>;
}

export async function testIdp(): Promise<TestIdp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const other = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const jwksFile = path.join(tempDir(), 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return {
    jwksFile,
    env: { ACTORLOG_AUTH_JWKS: jwksFile, ACTORLOG_AUTH_ISSUER: ISSUER, ACTORLOG_AUTH_AUDIENCE: AUDIENCE },
    token: (claims, opts = {}) =>
      new SignJWT({ roles: claims.roles, tenant: claims.tenant })
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
        .setSubject(claims.sub)
        .setIssuer(opts.issuer ?? ISSUER)
        .setAudience(opts.audience ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '10m')
        // foreignKey: a well-formed token signed by a key the JWKS does not hold.
        .sign(opts.foreignKey ? other.privateKey : privateKey),
  };
}
