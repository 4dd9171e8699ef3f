// Who the console calls the API as. The credential lives in sessionStorage:
// it is gone when the tab closes and is never written to a URL or a log.
// Two kinds: the development token pasted in by hand (development mode), or
// the access token of an OIDC login (oidc.ts).
export interface Credential {
  kind: 'token' | 'oidc';
  token: string;
  // Seconds since the epoch when an OIDC access token expires.
  expiresAt?: number;
  // Where signing out sends the browser to end the identity provider's session too.
  signOutUrl?: string;
}

const KEY = 'actorlog.credential';
const listeners = new Set<() => void>();

export function credential(): Credential | null {
  try {
    const stored = sessionStorage.getItem(KEY);
    if (!stored) return null;
    const c = JSON.parse(stored) as Credential;
    if (c.expiresAt && c.expiresAt * 1000 < Date.now()) return null;
    return c;
  } catch {
    return null;
  }
}

export function setCredential(c: Credential | null, why?: string): void {
  if (c) sessionStorage.setItem(KEY, JSON.stringify(c));
  else sessionStorage.removeItem(KEY);
  signedOutReason = c ? null : (why ?? null);
  listeners.forEach((l) => l());
}

export function signOut(): void {
  const c = credential();
  setCredential(null, 'Signed out.');
  if (c?.signOutUrl) location.assign(c.signOutUrl);
}

export let signedOutReason: string | null = null;

export function onCredentialChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
