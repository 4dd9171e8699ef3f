// OIDC authorization code flow with PKCE (RFC 7636), as a public client: the
// console redirects to the issuer the API trusts, comes back to
// /oidc/callback with a code, and exchanges it (with the verifier only this
// tab holds) for an access token for the API's audience (RFC 8707
// `resource`). Loaded only when used.
import { setCredential } from './auth';
import { navigate } from './router';

export interface OidcSettings {
  issuer: string;
  client_id: string;
  scope: string;
  audience: string;
}

const PENDING = 'actorlog.oidc.pending';
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = () => `${location.origin}/oidc/callback`;

async function discover(issuer: string): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`the identity provider's discovery document answered ${response.status}`);
  return response.json() as Promise<{ authorization_endpoint: string; token_endpoint: string }>;
}

export async function startLogin(settings: OidcSettings, returnTo: string): Promise<void> {
  const { authorization_endpoint } = await discover(settings.issuer);
  const verifier = random(48);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo: returnTo.startsWith('/oidc/') ? '/search' : returnTo }));
  const url = new URL(authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: settings.client_id,
    redirect_uri: redirectUri(),
    scope: settings.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: settings.audience,
  }))
    url.searchParams.set(k, v);
  location.assign(url.toString());
}

export async function finishLogin(settings: OidcSettings): Promise<void> {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; returnTo: string } | null;
  sessionStorage.removeItem(PENDING);
  if (params.get('error')) throw new Error(`the identity provider refused: ${params.get('error')} ${params.get('error_description') ?? ''}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('this sign-in was not started here (state mismatch); sign in again');
  const { token_endpoint } = await discover(settings.issuer);
  const response = await fetch(token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: redirectUri(),
      client_id: settings.client_id,
      code_verifier: pending.verifier,
      resource: settings.audience,
    }),
  });
  const body = (await response.json()) as { access_token?: string; expires_in?: number; id_token?: string; error?: string; error_description?: string };
  if (!response.ok || !body.access_token) throw new Error(`the token exchange failed: ${body.error ?? response.status} ${body.error_description ?? ''}`);
  setCredential({ kind: 'oidc', token: body.access_token, idToken: body.id_token, expiresAt: Math.floor(Date.now() / 1000) + (body.expires_in ?? 300) });
  navigate(pending.returnTo, { replace: true });
}
