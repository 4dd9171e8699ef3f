// An emitter's keys from its JWKS URL, served by a real local HTTP server:
// events signed with a published key verify, a key removed upstream stops
// verifying once the set is refetched, and the fetch is bounded.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { importSigningKey, signEvent } from '@actorlog/sdk';
import { KeyResolver } from '../../processor/key-resolver.js';
import { runPipeline } from '../../processor/pipeline.js';
import { checkJwksUrl, fetchJwks } from '../../keys/jwks-url.js';
import { readRegistry, setEmitterJwksUrl } from '../../keys/registry.js';
import { ActorlogError } from '../../lib/errors.js';
import { fullEvent, tempDir } from '../helpers/fixtures.js';

// What the server answers, changed by each test; every request is counted.
let serve: (res: http.ServerResponse) => void = (res) => res.end('{}');
let requests = 0;
const server = http.createServer((_req, res) => {
  requests++;
  serve(res);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.closeAllConnections();
  server.close();
});

async function publishedSigner(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' };
  return { kid, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }, signer: await importSigningKey(privateJwk) };
}

test('events signed with a key the JWKS URL publishes verify; once it is removed upstream, they stop verifying after the refresh', async () => {
  const registry = path.join(tempDir(), 'emitters.json');
  setEmitterJwksUrl(registry, 'kms:signer', checkJwksUrl(`${base}/jwks.json`), ['acme']);
  assert.equal(readRegistry(registry).emitters['kms:signer']!.jwks_url, `${base}/jwks.json`);
  const a = await publishedSigner('kms-a');
  const b = await publishedSigner('kms-b');
  let published = [a.publicJwk, b.publicJwk];
  serve = (res) => {
    res.setHeader('content-type', 'application/jwk-set+json');
    res.end(JSON.stringify({ keys: published }));
  };
  let now = Date.now();
  const keys = new KeyResolver(registry, { refreshMs: 60_000, now: () => now });
  const run = async (signer: Awaited<ReturnType<typeof publishedSigner>>['signer']) => {
    keys.refresh();
    return runPipeline([{ value: Buffer.from(await signEvent(fullEvent('kms:signer'), signer)), receivedAt: Date.now() }], {
      keys,
      eventMaxBytes: 65536,
      skew: { futureMs: 300_000, pastMs: 86_400_000 },
    });
  };
  requests = 0;
  assert.equal((await run(a.signer)).rows.length, 1);
  assert.equal((await run(b.signer)).rows.length, 1);
  assert.equal(requests, 1, 'the set is fetched once and cached');

  published = [b.publicJwk];
  // Within the refresh interval the cached set still holds kms-a.
  assert.equal((await run(a.signer)).rows.length, 1);
  now += 60_001;
  const refused = await run(a.signer);
  assert.equal(refused.rows.length, 0);
  assert.equal(refused.quarantined[0]?.reason, 'unknown_emitter_key');
  assert.equal((await run(b.signer)).rows.length, 1);
  assert.equal(requests, 2);
  // Another emitter with no URL, or an unknown kid, never reaches the server.
  assert.equal(await keys.resolve('gw:other', 'kms-b'), undefined);
  assert.equal(await keys.resolve('kms:signer', 'kms-z'), undefined);
  assert.equal(requests, 2);

  // The server fails: the last good set stays in use, and the failure is said.
  const errors: string[] = [];
  const failing = new KeyResolver(registry, { refreshMs: 1, retryMs: 60_000, onError: (_url, message) => void errors.push(message) });
  failing.refresh();
  assert.ok(await failing.resolve('kms:signer', 'kms-b'));
  serve = (res) => {
    res.statusCode = 503;
    res.end();
  };
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(await failing.resolve('kms:signer', 'kms-b'), 'the last good set is kept while the URL fails');
  assert.deepEqual(errors, ['HTTP 503']);
});

test('the fetch is bounded: size, time, no redirect; only usable public signing keys are taken; the URL is https or loopback http', async () => {
  const bounds = { timeoutMs: 300, maxBytes: 4096 };
  serve = (res) => res.end(JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), kid: 'k' }], pad: 'x'.repeat(5000) }));
  await assert.rejects(fetchJwks(`${base}/big`, bounds), /larger than 4096 bytes/);
  serve = () => undefined; // never answers
  const started = Date.now();
  await assert.rejects(fetchJwks(`${base}/slow`, bounds), (err: Error) => /timeout|aborted/i.test(`${err.name} ${err.message}`));
  assert.ok(Date.now() - started < 5_000);
  serve = (res) => {
    res.writeHead(302, { location: 'https://elsewhere.example/jwks' });
    res.end();
  };
  await assert.rejects(fetchJwks(`${base}/moved`, bounds), /fetch failed|redirect/i);
  const ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
  serve = (res) =>
    res.end(
      JSON.stringify({
        keys: [
          { ...ec, kid: 'ec-1' },
          { ...ec, kid: 'enc', use: 'enc' },
          { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), d: 'B'.repeat(43), kid: 'private' },
          { kty: 'RSA', n: 'x', e: 'AQAB', kid: 'rsa' },
          { ...ec },
          { ...ec, kid: 'wrong-alg', alg: 'EdDSA' },
        ],
      }),
    );
  assert.deepEqual([...(await fetchJwks(`${base}/mixed`, bounds)).keys()], ['ec-1']);
  serve = (res) => res.end('not json');
  await assert.rejects(fetchJwks(`${base}/bad`, bounds), SyntaxError);

  const refusedUrl = (url: string) => assert.throws(() => checkJwksUrl(url), (err: ActorlogError) => err.code === 'BAD_REQUEST' && /https|credentials|not a URL/.test(err.message));
  refusedUrl('http://keys.example/jwks');
  refusedUrl('ftp://127.0.0.1/jwks');
  refusedUrl('https://user:pw@keys.example/jwks');
  refusedUrl('jwks');
  assert.equal(checkJwksUrl('https://keys.example/jwks'), 'https://keys.example/jwks');
  assert.equal(checkJwksUrl('http://localhost:8080/jwks'), 'http://localhost:8080/jwks');
  assert.equal(checkJwksUrl('http://[::1]:8080/jwks'), 'http://[::1]:8080/jwks');
});
