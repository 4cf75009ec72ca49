// Sign-in: a bearer token pasted into the form. Locally the token comes from `npx nexus dev-token`;
// with Entra ID configured (NEXUS_ENTRA_TENANT_ID) it is an Entra access token for the API.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { setToken } from '../session.ts';
import { Problem } from '../ui.tsx';
import type { PortalConfig } from '../../assets.ts';

export type { PortalConfig };

export function SignIn(props: { config?: PortalConfig; notice?: string; onSignedIn: () => void }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = 'Sign in · Nexus';
    h1.current?.focus();
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    const t = token.trim().replace(/^Bearer\s+/i, '');
    if (!t) return setError('Paste a token first.');
    setBusy(true);
    setError(undefined);
    try {
      // The API decides whether the token is good: one authenticated call before keeping it.
      await api('GET', '/api/v1/me', undefined, t);
      setToken(t);
      props.onSignedIn();
    } catch (err) {
      setError(`The API refused the token: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  const cfg = props.config;
  return (
    <section aria-labelledby="signin-title" class="signin">
      <h1 id="signin-title" tabIndex={-1} ref={h1}>Sign in to Nexus</h1>
      {props.notice ? <Problem error={props.notice} /> : null}
      {cfg?.entraTenantId ? (
        <p>
          This Nexus uses Entra ID (tenant <code>{cfg.entraTenantId}</code>). Paste an access token for
          the API{cfg.audience ? <> (audience <code>{cfg.audience}</code>)</> : null}, for example from{' '}
          <code>az account get-access-token --resource {cfg.audience ?? '<api audience>'} --query accessToken -o tsv</code>.
        </p>
      ) : null}
      {!cfg || cfg.localIssuer ? (
        <p>
          On a local Nexus (<code>npm run up</code>), get a token from the local issuer:{' '}
          <code>npx nexus dev-token --user alice --role Developer</code> (roles: Developer, PlatformEngineer,
          TeamLead, Admin; add <code>--groups payments</code> for team membership), then paste it here.
        </p>
      ) : null}
      {!cfg?.entraTenantId ? (
        <p class="note">
          In production, sign-in with Entra ID (MSAL) is configured by <code>NEXUS_ENTRA_TENANT_ID</code> and{' '}
          <code>NEXUS_API_AUDIENCE</code> on the server; this Nexus has no tenant configured, so it takes a pasted token.
        </p>
      ) : null}
      <p class="note">The token stays in this browser tab (session storage) and is sent only to this API.</p>
      <form onSubmit={submit}>
        <label for="token">Bearer token</label>
        <textarea id="token" name="token" rows={4} spellcheck={false} autocomplete="off" required
          aria-describedby="token-help" value={token} onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} />
        <p id="token-help" class="note">A JWT: three base64url parts separated by dots.</p>
        <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Sign in'}</button>
      </form>
      {error ? <Problem error={error} /> : null}
    </section>
  );
}
