// A real OpenID provider for tests: `oidc-provider` (the certified Node.js
// implementation) on loopback, with a username/password sign-in page of our
// own (its interaction handler checks the password), JWT access tokens for
// the query API's audience carrying the roles and tenant claims the API reads,
// and its JWKS served at /jwks for the API to trust.
//
// The issuer listens first (its URL is needed by the API's configuration);
// the clients, whose redirect URIs name the console's address, are given once
// that is known (configure()).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors, type Configuration } from 'oidc-provider';

export interface Account {
  password: string;
  roles: string[];
  tenant: string;
}

export interface OpenIdProvider {
  issuer: string;
  // The API's configuration that trusts this issuer.
  env: (audience: string) => Record<string, string>;
  configure(options: { audience: string; consoleOrigin: string; accounts: Record<string, Account> }): Promise<void>;
  // An access token by the client credentials grant (a service's token), for
  // a resource indicator: the API's, another's, or the API's with a 1 s life.
  serviceToken(resource: string): Promise<{ access_token: string; expires_in: number }>;
  close(): Promise<void>;
}

export const CONSOLE_CLIENT = 'actorlog-console';
const SERVICE_CLIENT = 'service';
const SERVICE_SECRET = randomBytes(24).toString('base64url');
// A resource indicator whose tokens carry the API's audience and live 1 s.
export const SHORT_LIVED = 'urn:actorlog:short-lived';
export const OTHER_API = 'urn:other:api';

const page = (body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head><body><main>${body}</main></body></html>`;
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginForm(uid: string, error?: string): string {
  return page(`<h1>Sign in to the test identity provider</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`);
}

async function formBody(req: http.IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(text);
}

export async function openIdProvider(): Promise<OpenIdProvider> {
  let provider: Provider | undefined;
  let accounts: Record<string, Account> = {};
  const server = http.createServer((req, res) => {
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    const p = provider;
    if (req.url?.startsWith('/interaction/')) interaction(p, req, res).catch((err: Error) => res.writeHead(500).end(err.message));
    else void p.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The sign-in page checks the password; the console is a first-party
  // client, so what it asks for is granted without a consent page.
  async function interaction(p: Provider, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const details = await p.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      const grant = details.grantId ? (await p.Grant.find(details.grantId))! : new p.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      await p.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginForm(details.uid));
      return;
    }
    const form = await formBody(req);
    const username = form.get('username') ?? '';
    if (accounts[username]?.password !== form.get('password')) {
      res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' }).end(loginForm(details.uid, 'Wrong username or password.'));
      return;
    }
    await p.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
  }

  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const signingKeys = [
    { ...(await exportJWK(rsa.privateKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.privateKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
  ];

  return {
    issuer,
    env: (audience) => ({ ACTORLOG_AUTH_JWKS: `${issuer}/jwks`, ACTORLOG_AUTH_ISSUER: issuer, ACTORLOG_AUTH_AUDIENCE: audience }),
    async configure({ audience, consoleOrigin, accounts: known }) {
      accounts = known;
      const resourceServer = (resource: string) => ({
        scope: 'actorlog',
        audience: resource === SHORT_LIVED ? audience : resource,
        accessTokenTTL: resource === SHORT_LIVED ? 1 : 600,
        accessTokenFormat: 'jwt' as const,
        jwt: { sign: { alg: 'ES256' as const } },
      });
      const configuration: Configuration = {
        clients: [
          {
            client_id: CONSOLE_CLIENT,
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code'],
            response_types: ['code'],
            redirect_uris: [`${consoleOrigin}/oidc/callback`],
            post_logout_redirect_uris: [`${consoleOrigin}/`],
          },
          { client_id: SERVICE_CLIENT, client_secret: SERVICE_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
        ],
        jwks: { keys: signingKeys as never },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        pkce: { required: () => true },
        clientBasedCORS: (_ctx, origin) => origin === consoleOrigin,
        ttl: {
          Interaction: 600,
          Session: 3600,
          Grant: 3600,
          IdToken: 600,
          // A resource server's own token life (SHORT_LIVED's 1 s) wins.
          AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
          ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
        },
        findAccount: async (_ctx, id) => (accounts[id] ? { accountId: id, claims: async () => ({ sub: id }) } : undefined),
        // The claims the API reads roles and tenants from (ACTORLOG_AUTH_ROLES_CLAIM, ACTORLOG_AUTH_TENANT_CLAIM).
        extraTokenClaims: async (_ctx, token) => {
          const account = 'accountId' in token && typeof token.accountId === 'string' ? accounts[token.accountId] : undefined;
          if (account) return { roles: account.roles, tenant: account.tenant };
          return { roles: ['analyst'], tenant: 'acme' };
        },
        features: {
          devInteractions: { enabled: false },
          clientCredentials: { enabled: true },
          rpInitiatedLogout: {
            enabled: true,
            logoutSource: async (ctx, form) => {
              ctx.body = page(`<h1>Sign out of the test identity provider?</h1>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
            },
          },
          resourceIndicators: {
            enabled: true,
            defaultResource: async () => audience,
            useGrantedResource: async () => true,
            getResourceServerInfo: async (_ctx, resource) => {
              if (![audience, SHORT_LIVED, OTHER_API].includes(resource)) throw new errors.InvalidTarget();
              return resourceServer(resource);
            },
          },
        },
      };
      provider = new Provider(issuer, configuration);
      // The provider's own log lines stay out of the test output.
      provider.on('server_error', () => undefined);
    },
    async serviceToken(resource) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT}:${SERVICE_SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'actorlog', resource }),
      });
      const body = (await response.json()) as { access_token: string; expires_in: number; error?: string };
      if (!response.ok) throw new Error(`the identity provider refused a service token: ${body.error ?? response.status}`);
      return body;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
