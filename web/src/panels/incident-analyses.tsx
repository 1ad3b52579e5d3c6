import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { SchemaForm, optional } from '../components/SchemaForm.tsx';
import { humanise } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import type { Analysis } from '../types.ts';
import { useIncidentReload } from './incident-recovery.tsx';

interface WhyTemplate {
  id: string;
  title: string;
  questions: string[];
}

const KIND_LABELS: Record<string, string> = { five_whys: '5 whys', fishbone: 'Fishbone' };

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
      <ProblemDisplay of={analyses} />
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
  return (
    <details>
      <summary>Start an analysis</summary>
      <SchemaForm
        id="analysis"
        class="inline-form"
        grid={false}
        operation={{ method: 'post', path: '/api/v1/incidents/{id}/analyses' }}
        fields={[
          { name: 'kind', label: 'Method', kind: 'select', choiceLabel: (k) => KIND_LABELS[k] ?? humanise(k) },
          { name: 'title', label: 'Title (optional)' },
          { name: 'problem', label: 'Problem statement (optional)', kind: 'textarea', rows: 2 },
          {
            name: 'template',
            label: 'Starter questions (5 whys)',
            kind: 'select',
            placeholder: 'none: start with one empty why',
            choices: (templates.data ?? []).map((t) => ({ value: t.id, label: t.title })),
          },
        ]}
        initial={{ kind: 'five_whys', title: '', problem: '', template: '' }}
        toBody={(v) => ({ kind: v.kind, ...optional('title', v.title), ...optional('problem', v.problem), ...(v.kind === 'five_whys' ? optional('template', v.template) : {}) })}
        send={(body) => api.post<Analysis>(analysesPath(incidentId), body)}
        onDone={(created) => navigate(`/analyses/${encodeURIComponent(created.id)}`)}
        submitLabel="Create analysis"
      />
    </details>
  );
}
