import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { SchemaForm, listOf, optional } from '../components/SchemaForm.tsx';
import { formatTime, humanise } from '../format.ts';
import type { DryRunReport, PlanDetail, PlanSummary } from '../types.ts';

/** Response plans: the list, one plan's definition as YAML (the file format), and a dry run with its result. */
export function PlansSettings() {
  const plans = useAsync((signal) => api.get<PlanSummary[]>('/api/v1/plans', { signal }), []);
  const [open, setOpen] = useState<string | null>(null);
  if (plans.state === 'error' && plans.error.status === 404) return <p class="muted">Response plans are not installed.</p>;
  return (
    <div>
      <h2>Response plans</h2>
      <ProblemDisplay of={plans} />
      <DataTable
        testId="plans-table"
        rows={plans.data}
        rowKey={(p) => p.id}
        empty="No plans yet: load YAML files from the configuration directory or POST them to /api/v1/plans."
        columns={[
          {
            header: 'plan',
            rowHeader: true,
            cell: (p) => (
              <>
                {p.name} <small class="muted">({p.id})</small>
                {p.problems.length ? <div class="field-error">{p.problems.map((x) => `${x.field}: ${x.message}`).join('; ')}</div> : null}
              </>
            ),
          },
          {
            header: 'version',
            cell: (p) => (
              <>
                {p.version} <small class="muted">({p.version_count})</small>
              </>
            ),
          },
          { header: 'steps', cell: (p) => p.step_count },
          { header: 'state', cell: (p) => (p.enabled ? 'enabled' : 'disabled') },
          { header: 'last dry run', cell: (p) => (p.last_tested_at ? `${formatTime(p.last_tested_at)}, ${p.last_test?.problem_count ?? 0} problems` : 'never') },
          {
            header: '',
            cell: (p) => (
              <button type="button" aria-expanded={open === p.id} onClick={() => setOpen(open === p.id ? null : p.id)} aria-label={`Open plan ${p.name}`}>
                {open === p.id ? 'Close' : 'Open'}
              </button>
            ),
          },
        ]}
      />
      {open ? <PlanView id={open} onTested={() => plans.reload()} /> : null}
    </div>
  );
}

function PlanView({ id, onTested }: { id: string; onTested: () => void }) {
  const plan = useAsync((signal) => api.get<PlanDetail>(`/api/v1/plans/${encodeURIComponent(id)}`, { signal }), [id]);
  // The YAML library is a quarter of the console's code: it loads only when a plan is opened.
  const yaml = useAsync(async () => (plan.data ? (await import('yaml')).stringify(plan.data.definition) : ''), [plan.data]);
  const [report, setReport] = useState<DryRunReport | null>(null);
  if (plan.state === 'error') return <ProblemDisplay of={plan} />;
  if (!plan.data) return <p class="muted">Loading…</p>;
  return (
    <section class="panel plan-view" aria-labelledby="plan-view-title">
      <h3 id="plan-view-title">
        {plan.data.name} <span class="muted">v{plan.data.version}</span>
      </h3>
      {plan.data.description ? <p>{plan.data.description}</p> : null}
      <details open>
        <summary>Definition (YAML)</summary>
        <pre class="yaml" data-testid="plan-yaml" tabIndex={0}>
          {yaml.state === 'ready' ? yaml.data : 'Loading…'}
        </pre>
      </details>
      <SchemaForm
        id="dry"
        title="Dry run against a synthetic incident"
        operation={{ method: 'post', path: '/api/v1/plans/{id}/test' }}
        fields={[
          { name: 'title', bodyField: 'incident.title', label: 'Incident title (optional)' },
          { name: 'severity', bodyField: 'incident.severity', label: 'Severity', kind: 'select' },
          { name: 'services', bodyField: 'incident.services', label: 'Services (optional, comma-separated)' },
        ]}
        initial={{ title: '', severity: 'high', services: '' }}
        keepValues
        toBody={(v) => {
          const services = listOf(v.services);
          return { incident: { severity: v.severity, ...optional('title', v.title), ...(services.length ? { services } : {}) } };
        }}
        send={(body) => api.post<DryRunReport>(`/api/v1/plans/${encodeURIComponent(id)}/test`, body)}
        onDone={(result) => {
          setReport(result);
          onTested();
        }}
        submitLabel="Dry run"
      />
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
