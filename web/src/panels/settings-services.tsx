import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { useSession } from '../session.ts';
import { Field, ProblemNotice, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import type { Service, Team } from '../types.ts';

const SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function ServicesSettings() {
  const { me } = useSession();
  const services = useAsync((signal) => api.get<Service[]>('/api/v1/services', { signal }), []);
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  const [problem, setProblem] = useState<Problem | null>(null);

  const remove = async (service: Service) => {
    if (!confirm(`Delete service ${service.id}?`)) return;
    setProblem(null);
    try {
      await api.delete(`/api/v1/services/${encodeURIComponent(service.id)}`);
      services.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };

  return (
    <div>
      <h2>Services</h2>
      <p class="muted">Each service's tier and recovery objectives drive ownership, routing and recovery.</p>
      {services.state === 'error' ? <ProblemNotice problem={services.error.problem} /> : null}
      <ProblemNotice problem={problem} />
      <div class="table-scroll">
        <table data-testid="services-table">
          <thead>
            <tr>
              <th scope="col">id</th>
              <th scope="col">name</th>
              <th scope="col">owner team</th>
              <th scope="col">tier</th>
              <th scope="col">RTO</th>
              <th scope="col">SLO</th>
              {me.role === 'admin' ? <th scope="col"><span class="visually-hidden">actions</span></th> : null}
            </tr>
          </thead>
          <tbody>
            {(services.data ?? []).map((s) => (
              <tr key={s.id}>
                <th scope="row">{s.id}</th>
                <td>{s.name}</td>
                <td>{s.owner_team ?? '—'}</td>
                <td>{s.tier}</td>
                <td>{s.rto_minutes === null ? '—' : `${s.rto_minutes} min`}</td>
                <td>{s.slo_target === null ? '—' : `${(s.slo_target * 100).toFixed(2)}%`}</td>
                {me.role === 'admin' ? (
                  <td>
                    <button type="button" class="danger" onClick={() => void remove(s)} aria-label={`Delete service ${s.id}`}>
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {services.data?.length === 0 ? <p class="muted">No services yet.</p> : null}
      {me.role === 'admin' ? <CreateService teams={teams.data ?? []} onCreated={() => services.reload()} /> : <p class="muted">Only admins change services.</p>}
    </div>
  );
}

function CreateService({ teams, onCreated }: { teams: Team[]; onCreated: () => void }) {
  const [form, setForm] = useState({ id: '', name: '', owner_team: '', tier: '3', rto_minutes: '', slo_target: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });

  const submit = async (event: Event) => {
    event.preventDefault();
    const next: FieldErrors = {};
    if (!SLUG.test(form.id)) next.id = 'Lower-case letters, digits, dot, dash or underscore; starts with a letter or digit.';
    if (form.rto_minutes && !(Number.isInteger(Number(form.rto_minutes)) && Number(form.rto_minutes) >= 1)) next.rto_minutes = 'Whole minutes, at least 1.';
    if (form.slo_target && !(Number(form.slo_target) > 0 && Number(form.slo_target) < 1)) next.slo_target = 'A fraction between 0 and 1, e.g. 0.999.';
    setErrors(next);
    setProblem(null);
    if (Object.keys(next).length) return;
    try {
      await api.post('/api/v1/services', {
        id: form.id,
        ...(form.name ? { name: form.name } : {}),
        ...(form.owner_team ? { owner_team: form.owner_team } : {}),
        tier: Number(form.tier),
        ...(form.rto_minutes ? { rto_minutes: Number(form.rto_minutes) } : {}),
        ...(form.slo_target ? { slo_target: Number(form.slo_target) } : {}),
      });
      setForm({ id: '', name: '', owner_team: '', tier: '3', rto_minutes: '', slo_target: '' });
      onCreated();
    } catch (error) {
      const split = problemToErrors(error, ['id', 'name', 'owner_team', 'tier', 'rto_minutes', 'slo_target']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };

  return (
    <form class="card-form" onSubmit={submit} noValidate aria-labelledby="new-service-title">
      <h3 id="new-service-title">New service</h3>
      <div class="form-grid">
        <Field id="id" label="Id" error={errors.id}>
          <input id="id" value={form.id} onInput={set('id')} {...describedBy('id', errors.id)} />
        </Field>
        <Field id="name" label="Name (optional)" error={errors.name}>
          <input id="name" value={form.name} onInput={set('name')} {...describedBy('name', errors.name)} />
        </Field>
        <Field id="owner_team" label="Owner team" error={errors.owner_team}>
          <select id="owner_team" value={form.owner_team} onChange={set('owner_team')} {...describedBy('owner_team', errors.owner_team)}>
            <option value="">none</option>
            {teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.id})
              </option>
            ))}
          </select>
        </Field>
        <Field id="tier" label="Tier" error={errors.tier} hint="1 is the most critical">
          <select id="tier" value={form.tier} onChange={set('tier')}>
            {['1', '2', '3', '4'].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field id="rto_minutes" label="RTO in minutes (optional)" error={errors.rto_minutes}>
          <input id="rto_minutes" inputMode="numeric" value={form.rto_minutes} onInput={set('rto_minutes')} {...describedBy('rto_minutes', errors.rto_minutes)} />
        </Field>
        <Field id="slo_target" label="SLO target (optional)" error={errors.slo_target} hint="e.g. 0.999">
          <input id="slo_target" inputMode="decimal" value={form.slo_target} onInput={set('slo_target')} {...describedBy('slo_target', errors.slo_target)} />
        </Field>
      </div>
      <ProblemNotice problem={problem} />
      <button type="submit" class="primary">
        Create service
      </button>
    </form>
  );
}
