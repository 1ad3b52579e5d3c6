import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { useSession } from '../session.ts';
import { Field, ProblemNotice, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import type { Team } from '../types.ts';

const SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function TeamsSettings() {
  const { me } = useSession();
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [form, setForm] = useState({ id: '', name: '', members: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formProblem, setFormProblem] = useState<Problem | null>(null);

  const remove = async (team: Team) => {
    if (!confirm(`Delete team ${team.id}?`)) return;
    setProblem(null);
    try {
      await api.delete(`/api/v1/teams/${encodeURIComponent(team.id)}`);
      teams.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const next: FieldErrors = {};
    if (!SLUG.test(form.id)) next.id = 'Lower-case letters, digits, dot, dash or underscore; starts with a letter or digit.';
    if (!form.name.trim()) next.name = 'Give the team a name.';
    setErrors(next);
    setFormProblem(null);
    if (Object.keys(next).length) return;
    const members = form.members
      .split(/[,\n]/)
      .map((m) => m.trim())
      .filter(Boolean)
      .map((user) => ({ user }));
    try {
      await api.post('/api/v1/teams', { id: form.id, name: form.name.trim(), ...(members.length ? { members } : {}) });
      setForm({ id: '', name: '', members: '' });
      teams.reload();
    } catch (error) {
      const split = problemToErrors(error, ['id', 'name', 'members']);
      setErrors(split.fields);
      setFormProblem(split.form);
    }
  };

  return (
    <div>
      <h2>Teams</h2>
      {teams.state === 'error' ? <ProblemNotice problem={teams.error.problem} /> : null}
      <ProblemNotice problem={problem} />
      <div class="table-scroll">
        <table data-testid="teams-table">
          <thead>
            <tr>
              <th scope="col">id</th>
              <th scope="col">name</th>
              <th scope="col">members</th>
              {me.role === 'admin' ? <th scope="col"><span class="visually-hidden">actions</span></th> : null}
            </tr>
          </thead>
          <tbody>
            {(teams.data ?? []).map((t) => (
              <tr key={t.id}>
                <th scope="row">{t.id}</th>
                <td>{t.name}</td>
                <td>{t.members.map((m) => (m.role === 'lead' ? `${m.user} (lead)` : m.user)).join(', ') || '—'}</td>
                {me.role === 'admin' ? (
                  <td>
                    <button type="button" class="danger" onClick={() => void remove(t)} aria-label={`Delete team ${t.id}`}>
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {teams.data?.length === 0 ? <p class="muted">No teams yet.</p> : null}
      {me.role === 'admin' ? (
        <form class="card-form" onSubmit={submit} noValidate aria-labelledby="new-team-title">
          <h3 id="new-team-title">New team</h3>
          <div class="form-grid">
            <Field id="team-id" label="Id" error={errors.id}>
              <input id="team-id" value={form.id} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} {...describedBy('team-id', errors.id)} />
            </Field>
            <Field id="team-name" label="Name" error={errors.name}>
              <input id="team-name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} {...describedBy('team-name', errors.name)} />
            </Field>
            <Field id="team-members" label="Members (optional)" error={errors.members} hint="handles or e-mails, separated by commas">
              <input id="team-members" value={form.members} onInput={(e) => setForm({ ...form, members: e.currentTarget.value })} {...describedBy('team-members', errors.members)} />
            </Field>
          </div>
          <ProblemNotice problem={formProblem} />
          <button type="submit" class="primary">
            Create team
          </button>
        </form>
      ) : (
        <p class="muted">Only admins change teams.</p>
      )}
    </div>
  );
}
