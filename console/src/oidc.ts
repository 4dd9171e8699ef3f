// OIDC authorization code flow with PKCE (RFC 7636), as a public client: the
// console redirects to the issuer the API trusts, comes back to its redirect
// URI with a code, and exchanges it (with the verifier only this tab holds)
// for an access token, which it presents to the API. The API, not the
// console, verifies that token (issuer, audience, expiry, roles and tenants
// from its claims). Loaded only when used.
import { setCredential } from './auth';
import { navigate } from './router';

export interface OidcSettings {
  issuer: string;
  client_id: string;
  scope: string;
  // Absent: <this origin>/oidc/callback.
  redirect_uri?: string;
  // RFC 8707 resource indicator (the API's audience), for issuers that use one.
  resource?: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

const PENDING = 'actorlog.oidc.pending';
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = (s: OidcSettings) => s.redirect_uri ?? `${location.origin}/oidc/callback`;

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`the identity provider's discovery document answered ${response.status}`);
  const doc = (await response.json()) as Discovery;
  // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer asked for.
  if (doc.issuer !== issuer) throw new Error(`the discovery document names the issuer ${doc.issuer}, not ${issuer}`);
  return doc;
}

export async function startLogin(settings: OidcSettings, returnTo: string): Promise<void> {
  const { authorization_endpoint } = await discover(settings.issuer);
  const verifier = random(48);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = random(16);
  const back = new URL(redirectUri(settings)).pathname;
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo: returnTo.startsWith(back) ? '/search' : returnTo }));
  const url = new URL(authorization_endpoint);
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: settings.client_id,
    redirect_uri: redirectUri(settings),
    scope: settings.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: settings.resource,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  location.assign(url.toString());
}

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): signing out
// of the console also ends the session at the identity provider, which then
// sends the browser back to the console.
function signOutUrl(settings: OidcSettings, endSession: string, idToken?: string): string {
  const url = new URL(endSession);
  url.searchParams.set('client_id', settings.client_id);
  if (idToken) url.searchParams.set('id_token_hint', idToken);
  url.searchParams.set('post_logout_redirect_uri', `${new URL(redirectUri(settings)).origin}/`);
  return url.toString();
}

export async function finishLogin(settings: OidcSettings): Promise<void> {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; returnTo: string } | null;
  sessionStorage.removeItem(PENDING);
  // The code and state leave the address bar (and the history) at once.
  history.replaceState(null, '', location.pathname);
  if (params.get('error')) throw new Error(`the identity provider refused: ${params.get('error')} ${params.get('error_description') ?? ''}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('this sign-in was not started here (state mismatch); sign in again');
  const { token_endpoint, end_session_endpoint } = await discover(settings.issuer);
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.get('code') ?? '',
    redirect_uri: redirectUri(settings),
    client_id: settings.client_id,
    code_verifier: pending.verifier,
  });
  if (settings.resource) body.set('resource', settings.resource);
  const response = await fetch(token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const answer = (await response.json()) as { access_token?: string; expires_in?: number; id_token?: string; error?: string; error_description?: string };
  if (!response.ok || !answer.access_token) throw new Error(`the token exchange failed: ${answer.error ?? response.status} ${answer.error_description ?? ''}`);
  setCredential({
    kind: 'oidc',
    token: answer.access_token,
    expiresAt: Math.floor(Date.now() / 1000) + (answer.expires_in ?? 300),
    signOutUrl: end_session_endpoint && signOutUrl(settings, end_session_endpoint, answer.id_token),
  });
  navigate(pending.returnTo, { replace: true });
}
