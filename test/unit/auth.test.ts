// Analyst authentication against a JWKS served over HTTP (the usual identity
// provider setup), with nested role claims and tenant lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { FastifyRequest } from 'fastify';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claimValues, jwtAuthenticator, staticAuthenticator } from '../../query-api/auth.js';
import type { ClaimSeparator } from '../../lib/config.js';
import { tenantScope } from '../../query-api/tenancy.js';
import { ActorlogError } from '../../lib/errors.js';

const request = (token?: string) => ({ headers: token ? { authorization: `Bearer ${token}` } : {} }) as FastifyRequest;
const code = (err: unknown) => (err instanceof ActorlogError ? err.code : String(err));

test('JWTs verified against a JWKS URL; roles from a nested claim; tenants from a list', async () => {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] };
  const server = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify(jwks)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    const authenticate = jwtAuthenticator({
      jwks: `http://127.0.0.1:${port}/jwks.json`,
      issuer: 'https://idp.example',
      audience: 'actorlog',
      rolesClaim: 'realm_access.roles',
      tenantClaim: 'tenants',
      claimSeparator: 'none',
    });
    const sign = (claims: Record<string, unknown>, audience = 'actorlog') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'k1' }).setSubject('u-1').setIssuer('https://idp.example').setAudience(audience).setExpirationTime('5m').sign(privateKey);

    const principal = await authenticate(request(await sign({ realm_access: { roles: ['analyst', 'superuser'] }, tenants: ['acme', 'globex'] })));
    assert.deepEqual(principal, { sub: 'u-1', roles: ['analyst'], tenants: ['acme', 'globex'], via: 'jwt' });
    assert.deepEqual(tenantScope(principal), { tenants: ['acme', 'globex'] });
    assert.deepEqual(tenantScope(principal, 'globex'), { tenants: ['globex'] });
    assert.throws(() => tenantScope(principal, 'initech'), (err) => code(err) === 'FORBIDDEN');

    await assert.rejects(authenticate(request(await sign({}, 'other'))), (err) => code(err) === 'UNAUTHORIZED');
    await assert.rejects(authenticate(request()), (err) => code(err) === 'UNAUTHORIZED');
    await assert.rejects(authenticate(request('not.a.jwt')), (err) => code(err) === 'UNAUTHORIZED');
    // An unsigned token claiming every role.
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x","roles":["admin"]}').toString('base64url')}.`;
    await assert.rejects(authenticate(request(none)), (err) => code(err) === 'UNAUTHORIZED');
  } finally {
    server.close();
  }
});

test('the development token: every role, every tenant, only with the right token', async () => {
  const authenticate = staticAuthenticator('s3cret');
  assert.deepEqual((await authenticate(request('s3cret'))).tenants, '*');
  await assert.rejects(authenticate(request('s3cret-not')), (err) => code(err) === 'UNAUTHORIZED');
});

test('claims read exactly: one string is one value unless a separator is configured', async () => {
  assert.deepEqual(claimValues('acme globex'), ['acme globex']);
  assert.deepEqual(claimValues('acme,globex'), ['acme,globex']);
  assert.deepEqual(claimValues(['acme', 'globex', 7, '']), ['acme', 'globex']);
  assert.deepEqual(claimValues(undefined), []);
  assert.deepEqual(claimValues({ acme: true }), []);
  assert.deepEqual(claimValues('acme  globex', 'space'), ['acme', 'globex']);
  assert.deepEqual(claimValues('acme, globex', 'comma'), ['acme', 'globex']);
  assert.deepEqual(claimValues('acme globex', 'comma'), ['acme globex']);

  // Through the authenticator, with a JWKS file: a string tenant "acme globex"
  // is one (unknown) tenant, never both; a single-string role is that role.
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-auth-'));
  const jwksFile = path.join(dir, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] }));
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'k1' }).setSubject('u-2').setIssuer('https://idp.example').setAudience('actorlog').setExpirationTime('5m').sign(privateKey);
  const authenticator = (claimSeparator: ClaimSeparator) =>
    jwtAuthenticator({ jwks: jwksFile, issuer: 'https://idp.example', audience: 'actorlog', rolesClaim: 'roles', tenantClaim: 'tenant', claimSeparator });
  try {
    const exact = await authenticator('none')(request(await sign({ tenant: 'acme globex', roles: 'analyst admin' })));
    assert.deepEqual(exact.tenants, ['acme globex']);
    assert.deepEqual(exact.roles, []);
    assert.throws(() => tenantScope(exact, 'acme'), (err) => code(err) === 'FORBIDDEN');
    const single = await authenticator('none')(request(await sign({ tenant: 'acme', roles: 'admin' })));
    assert.deepEqual(single, { sub: 'u-2', roles: ['admin'], tenants: ['acme'], via: 'jwt' });
    const split = await authenticator('space')(request(await sign({ tenant: 'acme globex', roles: 'analyst admin' })));
    assert.deepEqual(split.tenants, ['acme', 'globex']);
    assert.deepEqual(split.roles, ['analyst', 'admin']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
