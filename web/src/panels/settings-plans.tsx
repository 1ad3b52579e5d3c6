import { useState } from 'preact/hooks';
import { stringify } from 'yaml';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { Field, ProblemNotice, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { formatTime, humanise } from '../format.ts';
import type { DryRunReport, PlanDetail, PlanSummary } from '../types.ts';

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/** Response plans: the list, one plan's definition as YAML (the file format), and a dry run with its result. */
export function PlansSettings() {
  const plans = useAsync((signal) => api.get<PlanSummary[]>('/api/v1/plans', { signal }), []);
  const [open, setOpen] = useState<string | null>(null);
  if (plans.state === 'error' && plans.error.status === 404) return <p class="muted">Response plans are not installed.</p>;
  return (
    <div>
      <h2>Response plans</h2>
      {plans.state === 'error' ? <ProblemNotice problem={plans.error.problem} /> : null}
      <div class="table-scroll">
        <table data-testid="plans-table">
          <thead>
            <tr>
              <th scope="col">plan</th>
              <th scope="col">version</th>
              <th scope="col">steps</th>
              <th scope="col">state</th>
              <th scope="col">last dry run</th>
              <th scope="col">
                <span class="visually-hidden">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(plans.data ?? []).map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  {p.name} <small class="muted">({p.id})</small>
                  {p.problems.length ? <div class="field-error">{p.problems.map((x) => `${x.field}: ${x.message}`).join('; ')}</div> : null}
                </th>
                <td>
                  {p.version} <small class="muted">({p.version_count})</small>
                </td>
                <td>{p.step_count}</td>
                <td>{p.enabled ? 'enabled' : 'disabled'}</td>
                <td>{p.last_tested_at ? `${formatTime(p.last_tested_at)}, ${p.last_test?.problem_count ?? 0} problems` : 'never'}</td>
                <td>
                  <button type="button" aria-expanded={open === p.id} onClick={() => setOpen(open === p.id ? null : p.id)} aria-label={`Open plan ${p.name}`}>
                    {open === p.id ? 'Close' : 'Open'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {plans.data?.length === 0 ? <p class="muted">No plans yet: load YAML files from the configuration directory or POST them to /api/v1/plans.</p> : null}
      {open ? <PlanView id={open} onTested={() => plans.reload()} /> : null}
    </div>
  );
}

function PlanView({ id, onTested }: { id: string; onTested: () => void }) {
  const plan = useAsync((signal) => api.get<PlanDetail>(`/api/v1/plans/${encodeURIComponent(id)}`, { signal }), [id]);
  const [form, setForm] = useState({ title: '', severity: 'high', services: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [report, setReport] = useState<DryRunReport | null>(null);
  if (plan.state === 'error') return <ProblemNotice problem={plan.error.problem} />;
  if (!plan.data) return <p class="muted">Loading…</p>;
  const dryRun = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const services = form.services.split(',').map((s) => s.trim()).filter(Boolean);
    const next: FieldErrors = {};
    if (form.title.length > 500) next.title = 'At most 500 characters.';
    if (services.some((s) => !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(s))) next.services = 'Service ids, comma-separated (lower-case, digits, dot, dash, underscore).';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      setReport(
        await api.post<DryRunReport>(`/api/v1/plans/${encodeURIComponent(id)}/test`, {
          incident: { severity: form.severity, ...(form.title.trim() ? { title: form.title.trim() } : {}), ...(services.length ? { services } : {}) },
        }),
      );
      onTested();
    } catch (error) {
      const split = problemToErrors(error, ['title', 'severity', 'services']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  return (
    <section class="panel plan-view" aria-labelledby="plan-view-title">
      <h3 id="plan-view-title">
        {plan.data.name} <span class="muted">v{plan.data.version}</span>
      </h3>
      {plan.data.description ? <p>{plan.data.description}</p> : null}
      <details open>
        <summary>Definition (YAML)</summary>
        <pre class="yaml" data-testid="plan-yaml" tabIndex={0}>
          {stringify(plan.data.definition)}
        </pre>
      </details>
      <form onSubmit={dryRun} noValidate class="card-form">
        <h4>Dry run against a synthetic incident</h4>
        <div class="form-grid">
          <Field id="dry-title" label="Incident title (optional)" error={errors.title}>
            <input id="dry-title" value={form.title} onInput={(e) => setForm({ ...form, title: e.currentTarget.value })} />
          </Field>
          <Field id="dry-severity" label="Severity" error={errors.severity}>
            <select id="dry-severity" value={form.severity} onChange={(e) => setForm({ ...form, severity: e.currentTarget.value })}>
              {SEVERITIES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
          <Field id="dry-services" label="Services (optional, comma-separated)" error={errors.services}>
            <input id="dry-services" value={form.services} onInput={(e) => setForm({ ...form, services: e.currentTarget.value })} />
          </Field>
        </div>
        <ProblemNotice problem={problem} />
        <button type="submit">Dry run</button>
      </form>
      {report ? (
        <div class="dry-run" data-testid="dry-run-report">
          <p>
            Dry run of v{report.version} at {formatTime(report.tested_at)}: {report.problems.length} problems.
          </p>
          <ol class="step-list">
            {report.steps.map((s) => (
              <li key={`${s.phase}:${s.step_id}`} class="step">
                <strong>{s.step_id}</strong> <span class="muted">{s.type}</span> <span class="badge">{humanise(s.outcome)}</span>
                {s.phase === 'rollback' ? <span class="badge">rollback</span> : null}
                <div class="muted">{s.detail}</div>
              </li>
            ))}
          </ol>
          {report.problems.length ? (
            <ul class="field-error">
              {report.problems.map((p) => (
                <li key={p.field + p.message}>
                  {p.field}: {p.message}
                </li>
              ))}
            </ul>
          ) : null}
          {report.recommendations.length ? (
            <ul>
              {report.recommendations.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
