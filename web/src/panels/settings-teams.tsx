import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { useSession } from '../session.ts';
import { ProblemDisplay, useAction } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { SchemaForm, listOf } from '../components/SchemaForm.tsx';
import type { Team } from '../types.ts';

export function TeamsSettings() {
  const { me } = useSession();
  const admin = me.role === 'admin';
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  const action = useAction();
  const remove = (team: Team) => {
    if (!confirm(`Delete team ${team.id}?`)) return;
    void action.run(() => api.delete(`/api/v1/teams/${encodeURIComponent(team.id)}`)).then((ok) => ok && teams.reload());
  };

  return (
    <div>
      <h2>Teams</h2>
      <ProblemDisplay of={teams} />
      <ProblemDisplay problem={action.problem} />
      <DataTable
        testId="teams-table"
        rows={teams.data}
        rowKey={(t) => t.id}
        empty="No teams yet."
        columns={[
          { header: 'id', rowHeader: true, cell: (t) => t.id },
          { header: 'name', cell: (t) => t.name },
          { header: 'members', cell: (t) => t.members.map((m) => (m.role === 'lead' ? `${m.user} (lead)` : m.user)).join(', ') || '—' },
          {
            header: '',
            hidden: !admin,
            cell: (t) => (
              <button type="button" class="danger" onClick={() => remove(t)} aria-label={`Delete team ${t.id}`}>
                Delete
              </button>
            ),
          },
        ]}
      />
      {admin ? (
        <SchemaForm
          id="team"
          title="New team"
          operation={{ method: 'post', path: '/api/v1/teams' }}
          fields={[
            { name: 'id', label: 'Id' },
            { name: 'name', label: 'Name' },
            { name: 'members', label: 'Members (optional)', hint: 'handles or e-mails, separated by commas' },
          ]}
          initial={{ id: '', name: '', members: '' }}
          toBody={(v) => {
            const members = listOf(v.members).map((user) => ({ user }));
            return { id: v.id, name: v.name?.trim(), ...(members.length ? { members } : {}) };
          }}
          send={(body) => api.post<Team>('/api/v1/teams', body)}
          onDone={() => teams.reload()}
          submitLabel="Create team"
        />
      ) : (
        <p class="muted">Only admins change teams.</p>
      )}
    </div>
  );
}
