import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setCsrfToken } from '../api.ts';
import type { Me, SignInMethods } from '../types.ts';
import { Field, describedBy } from '../components/forms.tsx';

/** The single sign-on callback sends people back here with `?sign_in_error=` when it refused them. */
function takeSsoError(): string | null {
  const params = new URLSearchParams(location.search);
  const error = params.get('sign_in_error');
  if (error === null) return null;
  params.delete('sign_in_error');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  return error;
}

/**
 * People sign in with e-mail and password or single sign-on, into an HttpOnly session cookie. An API
 * token stays possible (for automation and for whoever prefers one): it is checked against
 * `GET /api/v1/me` before it is kept, in this tab's session storage only.
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (how: { token: string } | { session: true }, me: Me) => void; notice: string | null }) {
  const [methods, setMethods] = useState<SignInMethods | null>(null);
  const [ssoError] = useState(takeSsoError);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [errors, setErrors] = useState<{ email?: string; password?: string; token?: string }>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<SignInMethods>('/api/v1/auth/methods', { quiet: true }).then(setMethods, () => setMethods({ password: true, sso: null }));
  }, []);

  const signInWithPassword = async (event: Event) => {
    event.preventDefault();
    const next: typeof errors = {};
    if (!email.trim()) next.email = 'Enter the e-mail address of your account.';
    if (!password) next.password = 'Enter your password.';
    setErrors(next);
    if (next.email || next.password) return;
    setBusy(true);
    try {
      const session = await api.post<{ csrf_token: string }>('/api/v1/sessions', { email: email.trim(), password }, { quiet: true });
      setCsrfToken(session.csrf_token);
      const me = await api.get<Me>('/api/v1/me', { quiet: true });
      onSignedIn({ session: true }, me);
    } catch (failure) {
      const detail = failure instanceof ApiError ? failure.problem.detail : String(failure);
      setErrors(failure instanceof ApiError && failure.problem.field === 'email' ? { email: detail } : { password: detail });
    } finally {
      setBusy(false);
    }
  };

  const signInWithToken = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (value.length < 16) {
      setErrors({ token: 'Paste the whole API token (at least 16 characters).' });
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      const me = await api.get<Me>('/api/v1/me', { token: value });
      onSignedIn({ token: value }, me);
    } catch (failure) {
      setErrors({ token: failure instanceof ApiError ? failure.problem.detail : String(failure) });
    } finally {
      setBusy(false);
    }
  };

  const returnTo = `${location.pathname}${location.hash}`;
  return (
    <main class="sign-in" id="main">
      <div class="sign-in-card">
        <form onSubmit={signInWithPassword} noValidate aria-labelledby="sign-in-title">
          <h1 id="sign-in-title">
            <span aria-hidden="true" class="brand-mark" /> Firebreak
          </h1>
          {notice || ssoError ? (
            <p class="notice" role="status">
              {ssoError ? `Single sign-on failed: ${ssoError}` : notice}
            </p>
          ) : null}
          {methods?.sso ? (
            <>
              <a class="button primary sso" href={`${methods.sso.start_url}?return_to=${encodeURIComponent(returnTo)}`}>
                Sign in with {methods.sso.name}
              </a>
              <p class="divider">
                <span>or with your password</span>
              </p>
            </>
          ) : null}
          <Field id="email" label="E-mail" error={errors.email}>
            <input
              id="email"
              name="email"
              type="email"
              autoComplete="username"
              spellcheck={false}
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
              required
              autoFocus
              {...describedBy('email', errors.email)}
            />
          </Field>
          <Field id="password" label="Password" error={errors.password}>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
              {...describedBy('password', errors.password)}
            />
          </Field>
          <button type="submit" class={methods?.sso ? '' : 'primary'} disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <details class="token-sign-in" open={Boolean(errors.token)}>
          <summary>Use an API token instead</summary>
          <form onSubmit={signInWithToken} noValidate aria-label="Token sign-in">
            <p class="hint">For automation, or if you prefer a token. It is kept in this tab's session storage only and sent as an Authorization header.</p>
            <Field id="token" label="API token" error={errors.token} hint="Printed at first start, or created under Settings → Tokens.">
              <input
                id="token"
                name="token"
                type="password"
                autoComplete="off"
                spellcheck={false}
                value={token}
                onInput={(e) => setToken(e.currentTarget.value)}
                required
                {...describedBy('token', errors.token)}
              />
            </Field>
            <button type="submit" disabled={busy}>
              {busy ? 'Checking…' : 'Sign in with token'}
            </button>
          </form>
        </details>
      </div>
    </main>
  );
}
