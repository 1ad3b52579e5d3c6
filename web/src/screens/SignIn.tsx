import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import type { Me } from '../types.ts';
import { Field, describedBy } from '../components/forms.tsx';

/** Checks the token against `GET /api/v1/me` before keeping it; it is kept in session storage only. */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string, me: Me) => void; notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (value.length < 16) {
      setError('Paste the whole API token (at least 16 characters).');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const me = await api.get<Me>('/api/v1/me', { token: value });
      onSignedIn(value, me);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.problem.detail : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <form onSubmit={submit} noValidate aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          <span aria-hidden="true" class="brand-mark" /> Firebreak
        </h1>
        <p>Sign in with an API token. It is kept in this tab's session storage only and sent as an Authorization header.</p>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        <Field id="token" label="API token" error={error} hint="Printed at first start, or created under Settings → Tokens.">
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            required
            autoFocus
            {...describedBy('token', error)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
