// The console's OIDC login in a real browser (Debian's Chromium through
// playwright-core) against a real OpenID provider (oidc-provider) run here:
// authorization code with PKCE, a username/password sign-in at the provider,
// the access token presented to the query API, which trusts the provider's
// JWKS (fetched from it) and reads roles and tenants from the token's claims.
// The analyst sees their tenant's events and not another's; signing out ends
// the provider's session too; tokens for another audience or expired ones
// are refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { EmitterClient } from '@actorlog/sdk';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { launchBrowser } from '../helpers/browser.js';
import { registeredEmitter, tempDir, toolCall } from '../helpers/fixtures.js';
import { CONSOLE_CLIENT, OTHER_API, SHORT_LIVED, openIdProvider, type OpenIdProvider } from '../helpers/openid-provider.js';
import { api, context, testConfig } from '../helpers/services.js';

const AUDIENCE = 'urn:actorlog:query';
const WAIT = { timeout: 20_000 };

describe('console OIDC login against a real OpenID provider', { timeout: 300_000 }, () => {
  let idp: OpenIdProvider;
  let ctx: Context;
  let running: Running;
  let q: string;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  const ids: Record<'acme' | 'globex', string> = { acme: '', globex: '' };

  before(async () => {
    idp = await openIdProvider();
    const config = testConfig({
      env: {
        ...idp.env(AUDIENCE),
        ACTORLOG_CONSOLE_OIDC_CLIENT_ID: CONSOLE_CLIENT,
        ACTORLOG_CONSOLE_OIDC_SCOPES: 'openid actorlog',
        ACTORLOG_CONSOLE_OIDC_RESOURCE: AUDIENCE,
      },
    });
    ctx = await context(config);
    running = await startAll(ctx);
    q = running.queryUrl!;
    await idp.configure({
      audience: AUDIENCE,
      consoleOrigin: q,
      accounts: {
        alice: { password: 'correct horse battery staple', roles: ['analyst'], tenant: 'acme' },
        gina: { password: 'another long passphrase', roles: ['analyst'], tenant: 'globex' },
      },
    });
    for (const tenant of ['acme', 'globex'] as const) {
      const emitter = await registeredEmitter(config.keysFile, `gw:${tenant}`);
      const client = new EmitterClient({ endpoint: running.ingestUrl!, source: emitter.source, privateJwk: emitter.key.privateJwk, stateDir: tempDir() });
      ids[tenant] = await client.emit(toolCall({ tenant, human: { sub: `u-${tenant}-human`, iss: `https://login.${tenant}.example` }, context: { session_id: `sess-${tenant}` } }));
      await client.close();
    }
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  after(async () => {
    await closeBrowser?.();
    await running?.close();
    await idp?.close();
  });

  async function signIn(page: Page, username: string, password: string) {
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).click(WAIT);
    await page.waitForURL(`${idp.issuer}/interaction/**`, WAIT);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  test('the console offers the OIDC sign-in it is configured for', async () => {
    const r = await fetch(`${q}/console/config.json`);
    assert.deepEqual(await r.json(), { auth: { mode: 'oidc', issuer: idp.issuer, client_id: CONSOLE_CLIENT, scope: 'openid actorlog', resource: AUDIENCE } });
    // The page may call the issuer (discovery, token) and nothing else outside.
    assert.match((await fetch(`${q}/search`)).headers.get('content-security-policy') ?? '', new RegExp(`connect-src 'self' ${idp.issuer.replace(/\./g, '\\.')};`));
  });

  test('an analyst signs in at the provider and sees their tenant, not another', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${q}/search?since=24h`);
    // A wrong password stays at the provider, which says so.
    await signIn(page, 'alice', 'wrong password');
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor(WAIT);
    assert.ok(page.url().startsWith(idp.issuer));
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back in the console, at the view the sign-in started from.
    await page.waitForURL(`${q}/search?since=24h`, WAIT);
    await page.getByRole('navigation', { name: 'Sections' }).waitFor(WAIT);
    const results = page.locator('section[data-href="/search?since=24h"]');
    await results.locator('tbody tr').first().waitFor(WAIT);
    const humans = await results.locator('tbody tr td:nth-child(3)').allTextContents();
    assert.deepEqual([...new Set(humans)], ['u-acme-human']);

    // The token is in this tab's session storage only, never in the URL or local storage.
    const stored = JSON.parse((await page.evaluate(`sessionStorage.getItem('actorlog.credential')`)) as string) as { kind: string; token: string };
    assert.equal(stored.kind, 'oidc');
    assert.equal(await page.evaluate('localStorage.length'), 0);
    assert.doesNotMatch(page.url(), /code=|state=/);
    // It is the provider's JWT for the API, carrying the claims roles and tenants come from.
    const claims = JSON.parse(Buffer.from(stored.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual([claims.iss, claims.aud, claims.sub, claims.tenant, claims.roles], [idp.issuer, AUDIENCE, 'alice', 'acme', ['analyst']]);

    // Another tenant's event does not open; their own does.
    await page.goto(`${q}/events/${ids.globex}`);
    await page.getByRole('alert').filter({ hasText: 'NOT_FOUND' }).waitFor(WAIT);
    await page.goto(`${q}/events/${ids.acme}`);
    await page.getByText('u-acme-human').first().waitFor(WAIT);
    assert.equal((await api(q, '/v1/events?tenant=globex', stored.token)).status, 403);
    assert.equal((await api(q, `/v1/events/${ids.globex}`, stored.token)).status, 404);

    // Signing out ends the provider's session too: the next sign-in asks for the password again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click(WAIT);
    await page.waitForURL(`${q}/`, WAIT);
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).waitFor(WAIT);
    assert.equal(await page.evaluate(`sessionStorage.getItem('actorlog.credential')`), null);
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();
    await page.getByLabel('Password').waitFor(WAIT);

    // Gina of globex, same console: globex's events only.
    await page.getByLabel('Username').fill('gina');
    await page.getByLabel('Password').fill('another long passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).waitFor(WAIT);
    await page.goto(`${q}/search?since=24h`);
    const theirs = page.locator('section[data-href="/search?since=24h"]');
    await theirs.locator('tbody tr').first().waitFor(WAIT);
    assert.deepEqual([...new Set(await theirs.locator('tbody tr td:nth-child(3)').allTextContents())], ['u-globex-human']);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("the API refuses the provider's tokens for another audience, and expired ones", async () => {
    const good = await idp.serviceToken(AUDIENCE);
    assert.equal((await api(q, '/v1/events', good.access_token)).status, 200);
    const other = await idp.serviceToken(OTHER_API);
    const refused = await api(q, '/v1/events', other.access_token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'UNAUTHORIZED');
    const short = await idp.serviceToken(SHORT_LIVED);
    assert.equal(short.expires_in, 1);
    // Its one second passes (jose allows no clock tolerance unless told).
    await sleep(2_100);
    const expired = await api(q, '/v1/events', short.access_token);
    assert.equal(expired.status, 401);
    assert.match(expired.body.error.message, /exp|expired/i);
  });
});
