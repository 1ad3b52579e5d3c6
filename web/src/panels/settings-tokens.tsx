import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { useSession } from '../session.ts';
import { ProblemDisplay, SecretShownOnce, useAction } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { formatTime } from '../format.ts';
import type { TokenInfo } from '../types.ts';

/** API tokens: the secret of a new token is shown once, here, and never again. */
export function TokensSettings() {
  const { me } = useSession();
  const tokens = useAsync((signal) => (me.role === 'admin' ? api.get<TokenInfo[]>('/api/v1/tokens', { signal }) : Promise.resolve([])), []);
  const action = useAction();
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);

  if (me.role !== 'admin') return <p class="muted">Managing tokens needs the admin role; you are signed in as {me.role}.</p>;

  const revoke = (token: TokenInfo) => {
    const self = token.id === me.token_id;
    if (!confirm(self ? 'Revoke the token you are signed in with? You will be signed out.' : `Revoke token ${token.name}?`)) return;
    void action.run(() => api.delete(`/api/v1/tokens/${encodeURIComponent(token.id)}`)).then((ok) => ok && tokens.reload());
  };

  return (
    <div>
      <h2>API tokens</h2>
      {created ? (
        <SecretShownOnce secret={created.token} testId="new-token" onDone={() => setCreated(null)}>
          <strong>Token {created.name} created.</strong> Copy it now: it is shown only this once.
        </SecretShownOnce>
      ) : null}
      <ProblemDisplay of={tokens} />
      <DataTable
        testId="tokens-table"
        rows={tokens.data}
        rowKey={(t) => t.id}
        rowProps={(t) => ({ class: t.revoked_at ? 'revoked' : '' })}
        columns={[
          {
            header: 'name',
            rowHeader: true,
            cell: (t) => (
              <>
                {t.name}
                {t.id === me.token_id ? <small> (this session)</small> : null}
              </>
            ),
          },
          { header: 'role', cell: (t) => t.role },
          { header: 'created', cell: (t) => formatTime(t.created_at) },
          { header: 'by', cell: (t) => t.created_by },
          { header: 'state', cell: (t) => (t.revoked_at ? `revoked ${formatTime(t.revoked_at)}` : 'active') },
          {
            header: '',
            cell: (t) =>
              t.revoked_at ? null : (
                <button type="button" class="danger" onClick={() => revoke(t)} aria-label={`Revoke token ${t.name}`}>
                  Revoke
                </button>
              ),
          },
        ]}
      />
      <ProblemDisplay problem={action.problem} />
      <SchemaForm
        id="token"
        title="New token"
        operation={{ method: 'post', path: '/api/v1/tokens' }}
        fields={[
          { name: 'name', label: 'Name' },
          { name: 'role', label: 'Role', kind: 'select' },
        ]}
        initial={{ name: '', role: 'responder' }}
        toBody={(v) => ({ name: v.name?.trim(), role: v.role })}
        send={(body) => api.post<TokenInfo & { token: string }>('/api/v1/tokens', body)}
        onDone={(result) => {
          setCreated({ name: result.name, token: result.token });
          tokens.reload();
        }}
        submitLabel="Create token"
      />
    </div>
  );
}
