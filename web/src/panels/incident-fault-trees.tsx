import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { ProblemDisplay, problemToErrors } from '../components/forms.tsx';
import { formatCount, formatDateTimeZone } from '../format.ts';
import { useIncidentReload } from './incident-recovery.tsx';
import type { FaultTreeAnalysis } from '../types.ts';

interface IncidentFaultTree {
  id: string;
  name: string;
  created_by: string;
  created_at: string;
  version: number;
}

/** A probability as a responder reads it: 3 significant digits, scientific when tiny. */
export function formatProbability(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  if (p === 0) return '0';
  return p < 0.001 ? p.toExponential(2).replace(/\.?0+e/, 'e') : String(Number(p.toPrecision(3)));
}

/** The fault trees drawn for this incident, each analysed on demand: top-event probability and the likeliest cut sets. */
export function FaultTreesPanel({ incident }: IncidentPanelProps) {
  const trees = useAsync((signal) => api.get<IncidentFaultTree[]>(`/api/v1/incidents/${encodeURIComponent(incident.id)}/fault-trees`, { signal }), [incident.id]);
  useIncidentReload(incident.id, trees.reload);
  const [analyses, setAnalyses] = useState<Record<string, FaultTreeAnalysis>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  if (!trees.data?.length && trees.state !== 'error') return null;
  const analyse = async (tree: IncidentFaultTree) => {
    setProblem(null);
    try {
      const result = await api.post<FaultTreeAnalysis>(`/api/v1/fault-trees/${encodeURIComponent(tree.id)}/analyze`, {});
      setAnalyses((a) => ({ ...a, [tree.id]: result }));
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
  return (
    <section class="panel fault-trees-panel" aria-labelledby="incident-fault-trees-title" data-panel="fault-trees">
      <h2 id="incident-fault-trees-title">Fault trees</h2>
      <ProblemDisplay of={trees} />
      <ProblemDisplay problem={problem} />
      <ul class="plain">
        {(trees.data ?? []).map((tree) => {
          const a = analyses[tree.id];
          return (
            <li key={tree.id} data-tree={tree.id}>
              <strong>{tree.name}</strong> <span class="muted">by {tree.created_by}, {formatDateTimeZone(tree.created_at)}</span>{' '}
              <button type="button" onClick={() => void analyse(tree)}>
                {a ? 'Analyse again' : 'Analyse'}
              </button>
              {a ? (
                <div class="tree-analysis" data-testid={`tree-analysis-${tree.id}`}>
                  <p>
                    Top event <strong>{a.top}</strong>: probability{' '}
                    <strong>{formatProbability(a.probability.exact ?? a.probability.rareEvent)}</strong>
                    {a.probability.exact === null ? ' (rare-event approximation)' : ''}; {formatCount(a.gates)} gates, {formatCount(a.basicEvents)} basic events,{' '}
                    {a.minimalCutSetCount} minimal cut sets.
                  </p>
                  <ol>
                    {a.cutSets.slice(0, 5).map((cut) => (
                      <li key={cut.events.join()}>
                        {cut.events.join(' · ')} <span class="muted">({formatProbability(cut.probability)})</span>
                      </li>
                    ))}
                  </ol>
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
