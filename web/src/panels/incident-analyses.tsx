import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemNotice, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { humanise } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import type { Analysis } from '../types.ts';
import { useIncidentReload } from './incident-recovery.tsx';

interface WhyTemplate {
  id: string;
  title: string;
  questions: string[];
}

const analysesPath = (id: string) => `/api/v1/incidents/${encodeURIComponent(id)}/analyses`;

/** Root-cause analyses of the incident (5 whys, fishbone) and a form to start one. */
export function AnalysesPanel({ incident }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const analyses = useAsync((signal) => api.get<Analysis[]>(analysesPath(incident.id), { signal }), [incident.id]);
  useIncidentReload(incident.id, analyses.reload);
  if (analyses.state === 'error' && analyses.error.status === 404) return null;
  return (
    <section class="panel analyses" aria-labelledby="analyses-title" data-panel="analyses">
      <h2 id="analyses-title">Root cause analyses</h2>
      {analyses.state === 'error' ? <ProblemNotice problem={analyses.error.problem} /> : null}
      {analyses.data?.length ? (
        <ul class="analysis-list">
          {analyses.data.map((analysis) => (
            <li key={analysis.id} data-analysis-id={analysis.id}>
              <Link href={`/analyses/${encodeURIComponent(analysis.id)}`}>{analysis.title}</Link>{' '}
              <span class="badge">{analysis.kind === 'five_whys' ? '5 whys' : 'fishbone'}</span> <span class="badge">{humanise(analysis.status)}</span>
              {analysis.accepted ? <span class="badge accepted">accepted</span> : null}
              {analysis.root_cause ? <div class="muted">Root cause: {analysis.root_cause}</div> : null}
            </li>
          ))}
        </ul>
      ) : analyses.data ? (
        <p class="muted">No analyses yet.</p>
      ) : null}
      {writable ? <CreateAnalysisForm incidentId={incident.id} /> : null}
    </section>
  );
}

function CreateAnalysisForm({ incidentId }: { incidentId: string }) {
  const templates = useAsync((signal) => api.get<WhyTemplate[]>('/api/v1/rca/templates', { signal }), []);
  const [form, setForm] = useState({ kind: 'five_whys', title: '', problem: '', template: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const next: FieldErrors = {};
    if (form.title.length > 300) next.title = 'At most 300 characters.';
    if (form.problem.length > 4000) next.problem = 'At most 4,000 characters.';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      const created = await api.post<Analysis>(analysesPath(incidentId), {
        kind: form.kind,
        ...(form.title.trim() ? { title: form.title.trim() } : {}),
        ...(form.problem.trim() ? { problem: form.problem.trim() } : {}),
        ...(form.kind === 'five_whys' && form.template ? { template: form.template } : {}),
      });
      navigate(`/analyses/${encodeURIComponent(created.id)}`);
    } catch (error) {
      const split = problemToErrors(error, ['kind', 'title', 'problem', 'template']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  return (
    <details>
      <summary>Start an analysis</summary>
      <form onSubmit={submit} noValidate>
        <Field id="analysis-kind" label="Method" error={errors.kind}>
          <select id="analysis-kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}>
            <option value="five_whys">5 whys</option>
            <option value="fishbone">Fishbone</option>
          </select>
        </Field>
        <Field id="analysis-title" label="Title (optional)" error={errors.title}>
          <input id="analysis-title" value={form.title} onInput={(e) => setForm({ ...form, title: e.currentTarget.value })} {...describedBy('analysis-title', errors.title)} />
        </Field>
        <Field id="analysis-problem" label="Problem statement (optional)" error={errors.problem}>
          <textarea id="analysis-problem" rows={2} value={form.problem} onInput={(e) => setForm({ ...form, problem: e.currentTarget.value })} {...describedBy('analysis-problem', errors.problem)} />
        </Field>
        {form.kind === 'five_whys' ? (
          <Field id="analysis-template" label="Starter questions" error={errors.template}>
            <select id="analysis-template" value={form.template} onChange={(e) => setForm({ ...form, template: e.currentTarget.value })}>
              <option value="">none: start with one empty why</option>
              {(templates.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.title}
                </option>
              ))}
            </select>
          </Field>
        ) : null}
        <ProblemNotice problem={problem} />
        <button type="submit">Create analysis</button>
      </form>
    </details>
  );
}
