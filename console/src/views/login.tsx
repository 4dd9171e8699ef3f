// Signing in: with the identity provider the API trusts (OIDC authorization
// code with PKCE), or, in development mode, by pasting the development token
// (`DATA_DIR/analyst-token`; the console never fetches it). The URL being
// viewed stays as it is, so a pasted link opens its view after sign-in.
import { useEffect, useState } from 'preact/hooks';
import { setCredential, signedOutReason } from '../auth';
import { ErrorBox } from '../ui';
import type { Location } from '../router';

interface ConsoleConfig {
  auth: { mode: 'token' } | ({ mode: 'oidc' } & import('../oidc').OidcSettings);
}

export function LoginView({ loc }: { loc: Location }) {
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    fetch('/console/config.json')
      .then((r) => r.json() as Promise<ConsoleConfig>)
      .then(setConfig, (err: Error) => setError(err));
  }, []);
  useEffect(() => {
    if (config?.auth.mode !== 'oidc' || !(loc.query.has('code') || loc.query.has('error'))) return;
    import('../oidc').then((oidc) => oidc.finishLogin(config.auth as Extract<ConsoleConfig['auth'], { mode: 'oidc' }>)).catch((err: Error) => setError(err));
  }, [config, loc.href]);

  const submit = (e: Event) => {
    e.preventDefault();
    const token = String(new FormData(e.target as HTMLFormElement).get('token') ?? '').trim();
    if (token) setCredential({ kind: 'token', token });
  };
  const oidcLogin = () => {
    if (config?.auth.mode !== 'oidc') return;
    const auth = config.auth;
    import('../oidc').then((oidc) => oidc.startLogin(auth, loc.href)).catch((err: Error) => setError(err));
  };
  return (
    <div class="login">
      <h1>Sign in to the actorlog console</h1>
      {signedOutReason && <p class="muted">{signedOutReason}</p>}
      {error && <ErrorBox error={error} />}
      {config?.auth.mode === 'oidc' && (
        <>
          <p>
            Sign in with your organisation's identity provider (<code>{config.auth.issuer}</code>). The console keeps the access token in this tab only.
          </p>
          <button type="button" class="primary" onClick={oidcLogin}>
            Sign in with your identity provider
          </button>
        </>
      )}
      {config?.auth.mode === 'token' && (
        <form onSubmit={submit} aria-label="Development sign-in">
          <p>
            Development mode: paste the query API's development token. <code>actorlog start</code> writes it to <code>DATA_DIR/analyst-token</code> (or it is <code>ACTORLOG_ANALYST_TOKEN</code>). It is kept in this tab only.
          </p>
          <label>
            Development token
            <input name="token" type="password" required autoComplete="off" spellcheck={false} />
          </label>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      )}
    </div>
  );
}
