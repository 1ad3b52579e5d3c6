import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { Field, ProblemNotice, SecretShownOnce, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { formatTime } from '../format.ts';
import type { CreatedIntegration, Integration, Service } from '../types.ts';

/** Alert-ingestion integrations: one routing key per sender, shown once when created. */
export function IntegrationsSettings() {
  const integrations = useAsync((signal) => api.get<Integration[]>('/api/v1/integrations', { signal }), []);
  const services = useAsync((signal) => api.get<Service[]>('/api/v1/services', { signal }), []);
  const [created, setCreated] = useState<CreatedIntegration | null>(null);
  const [form, setForm] = useState({ name: '', service: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);

  if (integrations.state === 'error' && integrations.error.status === 404) return <p class="muted">Alert ingestion is not installed.</p>;

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const next: FieldErrors = {};
    if (!form.name.trim()) next.name = 'Name the sender, e.g. “Alertmanager prod”.';
    if (!form.service) next.service = 'Choose the service its alerts belong to.';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      setCreated(await api.post<CreatedIntegration>('/api/v1/integrations', { name: form.name.trim(), service: form.service }));
      setForm({ name: '', service: '' });
      integrations.reload();
    } catch (error) {
      const split = problemToErrors(error, ['name', 'service']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  const remove = async (integration: Integration) => {
    if (!confirm(`Delete integration ${integration.name}? Its routing key stops working.`)) return;
    setProblem(null);
    try {
      await api.delete(`/api/v1/integrations/${encodeURIComponent(integration.id)}`);
      integrations.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };

  return (
    <div>
      <h2>Integrations</h2>
      {created ? (
        <SecretShownOnce secret={created.routing_key} testId="new-routing-key" onDone={() => setCreated(null)}>
          <strong>Integration {created.name} created.</strong> Copy its routing key now: it is shown only this once. Use it as the Events API
          <code> routing_key</code> or as the Alertmanager bearer token.
        </SecretShownOnce>
      ) : null}
      {integrations.state === 'error' ? <ProblemNotice problem={integrations.error.problem} /> : null}
      <ProblemNotice problem={problem} />
      <div class="table-scroll">
        <table data-testid="integrations-table">
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">service</th>
              <th scope="col">key starts</th>
              <th scope="col">rate limit</th>
              <th scope="col">created</th>
              <th scope="col">
                <span class="visually-hidden">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(integrations.data ?? []).map((i) => (
              <tr key={i.id}>
                <th scope="row">{i.name}</th>
                <td>{i.service}</td>
                <td>
                  <code>{i.key_hint}…</code>
                </td>
                <td>
                  {i.rate_limit.per_second}/s, burst {i.rate_limit.burst}
                </td>
                <td>
                  {formatTime(i.created_at)} by {i.created_by}
                </td>
                <td>
                  <button type="button" class="danger" onClick={() => void remove(i)} aria-label={`Delete integration ${i.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="card-form" onSubmit={submit} noValidate aria-labelledby="new-integration-title">
        <h3 id="new-integration-title">New integration</h3>
        <div class="form-grid">
          <Field id="integration-name" label="Name" error={errors.name}>
            <input id="integration-name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} {...describedBy('integration-name', errors.name)} />
          </Field>
          <Field id="integration-service" label="Service" error={errors.service}>
            <select id="integration-service" value={form.service} onChange={(e) => setForm({ ...form, service: e.currentTarget.value })} {...describedBy('integration-service', errors.service)}>
              <option value="">choose…</option>
              {(services.data ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.id})
                </option>
              ))}
            </select>
          </Field>
        </div>
        <button type="submit" class="primary">
          Create integration
        </button>
      </form>
    </div>
  );
}
