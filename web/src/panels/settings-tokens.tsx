import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { useSession } from '../session.ts';
import { Field, ProblemNotice, SecretShownOnce, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { formatTime } from '../format.ts';
import type { TokenInfo } from '../types.ts';

const ROLES = ['viewer', 'responder', 'admin'] as const;

/** API tokens: the secret of a new token is shown once, here, and never again. */
export function TokensSettings() {
  const { me } = useSession();
  const tokens = useAsync((signal) => (me.role === 'admin' ? api.get<TokenInfo[]>('/api/v1/tokens', { signal }) : Promise.resolve([])), []);
  const [form, setForm] = useState({ name: '', role: 'responder' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);

  if (me.role !== 'admin') return <p class="muted">Managing tokens needs the admin role; you are signed in as {me.role}.</p>;

  const submit = async (event: Event) => {
    event.preventDefault();
    const next: FieldErrors = {};
    if (!form.name.trim()) next.name = 'Name the token after who or what uses it.';
    else if (form.name.length > 200) next.name = 'At most 200 characters.';
    setErrors(next);
    setProblem(null);
    if (Object.keys(next).length) return;
    try {
      const result = await api.post<TokenInfo & { token: string }>('/api/v1/tokens', { name: form.name.trim(), role: form.role });
      setCreated({ name: result.name, token: result.token });
      setForm({ name: '', role: form.role });
      tokens.reload();
    } catch (error) {
      const split = problemToErrors(error, ['name', 'role']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };

  const revoke = async (token: TokenInfo) => {
    const self = token.id === me.token_id;
    if (!confirm(self ? 'Revoke the token you are signed in with? You will be signed out.' : `Revoke token ${token.name}?`)) return;
    setProblem(null);
    try {
      await api.delete(`/api/v1/tokens/${encodeURIComponent(token.id)}`);
      tokens.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };

  return (
    <div>
      <h2>API tokens</h2>
      {created ? (
        <SecretShownOnce secret={created.token} testId="new-token" onDone={() => setCreated(null)}>
          <strong>Token {created.name} created.</strong> Copy it now: it is shown only this once.
        </SecretShownOnce>
      ) : null}
      {tokens.state === 'error' ? <ProblemNotice problem={tokens.error.problem} /> : null}
      <div class="table-scroll">
        <table data-testid="tokens-table">
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">role</th>
              <th scope="col">created</th>
              <th scope="col">by</th>
              <th scope="col">state</th>
              <th scope="col">
                <span class="visually-hidden">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(tokens.data ?? []).map((t) => (
              <tr key={t.id} class={t.revoked_at ? 'revoked' : ''}>
                <th scope="row">
                  {t.name}
                  {t.id === me.token_id ? <small> (this session)</small> : null}
                </th>
                <td>{t.role}</td>
                <td>{formatTime(t.created_at)}</td>
                <td>{t.created_by}</td>
                <td>{t.revoked_at ? `revoked ${formatTime(t.revoked_at)}` : 'active'}</td>
                <td>
                  {t.revoked_at ? null : (
                    <button type="button" class="danger" onClick={() => void revoke(t)} aria-label={`Revoke token ${t.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ProblemNotice problem={problem} />
      <form class="card-form" onSubmit={submit} noValidate aria-labelledby="new-token-title">
        <h3 id="new-token-title">New token</h3>
        <div class="form-grid">
          <Field id="token-name" label="Name" error={errors.name}>
            <input id="token-name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} {...describedBy('token-name', errors.name)} />
          </Field>
          <Field id="token-role" label="Role" error={errors.role}>
            <select id="token-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value })}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <button type="submit" class="primary">
          Create token
        </button>
      </form>
    </div>
  );
}
