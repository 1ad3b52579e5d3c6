import { useEffect, useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemDisplay, problemToErrors } from '../components/forms.tsx';
import { formatTime, humanise } from '../format.ts';
import type { Execution, PlanSummary } from '../types.ts';
import { useIncidentReload } from './incident-recovery.tsx';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'rolled_back', 'rollback_failed']);
/** While something runs, a slow poll backs up the pushed events (a step's timer can fire on another server). */
const POLL_MS = 5000;

/** Response-plan executions on the incident: step progress, and approve/reject for waiting approvals. */
export function ExecutionsPanel({ incident }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const path = `/api/v1/incidents/${encodeURIComponent(incident.id)}/executions`;
  const executions = useAsync((signal) => api.get<Execution[]>(path, { signal }), [incident.id]);
  useIncidentReload(incident.id, executions.reload);
  const running = (executions.data ?? []).some((e) => !FINISHED.has(e.status));
  useEffect(() => {
    if (!running) return;
    const handle = setInterval(() => executions.reload(), POLL_MS);
    return () => clearInterval(handle);
  }, [running]);
  const [problem, setProblem] = useState<Problem | null>(null);
  if (executions.state === 'error' && executions.error.status === 404) return null;
  if (!executions.data && executions.state === 'loading') return null;

  const decide = async (execution: Execution, stepId: string, verb: 'approve' | 'reject', comment: string) => {
    setProblem(null);
    try {
      const updated = await api.post<Execution>(`/api/v1/executions/${encodeURIComponent(execution.id)}/steps/${encodeURIComponent(stepId)}/${verb}`, comment ? { comment } : {});
      executions.set((list) => (list ?? []).map((e) => (e.id === updated.id ? updated : e)));
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
  return (
    <section class="panel executions" aria-labelledby="executions-title" data-panel="plan-executions">
      <h2 id="executions-title">Response plans</h2>
      <ProblemDisplay of={executions} />
      <ProblemDisplay problem={problem} />
      {executions.data?.length ? (
        executions.data.map((execution) => <ExecutionView key={execution.id} execution={execution} writable={writable} onDecide={decide} />)
      ) : (
        <p class="muted">No plan has run on this incident.</p>
      )}
      {writable ? <RunPlan incidentId={incident.id} onStarted={() => executions.reload()} /> : null}
    </section>
  );
}

function ExecutionView(props: { execution: Execution; writable: boolean; onDecide: (e: Execution, step: string, verb: 'approve' | 'reject', comment: string) => Promise<void> }) {
  const { execution, writable, onDecide } = props;
  const [comment, setComment] = useState('');
  const main = execution.steps.filter((s) => s.phase === 'main');
  const done = main.filter((s) => ['succeeded', 'skipped'].includes(s.status)).length;
  const waiting = new Map(execution.waiting_for.map((w) => [w.step_id, w]));
  return (
    <div class="execution" data-execution={execution.id} data-status={execution.status}>
      <h3>
        {execution.plan_id} <span class="muted">v{execution.plan_version}</span> <span class="badge">{humanise(execution.status)}</span>
      </h3>
      <p class="muted">
        {humanise(execution.trigger)} by {execution.started_by}, {formatTime(execution.started_at)}
        {execution.reason ? ` — ${execution.reason}` : ''}
      </p>
      <progress max={Math.max(1, main.length)} value={done} aria-label={`${done} of ${main.length} steps finished`} />{' '}
      <span class="muted">
        {done}/{main.length} steps
      </span>
      <ol class="step-list">
        {execution.steps.map((step) => {
          const wait = waiting.get(step.step_id);
          return (
            <li key={`${step.phase}:${step.step_id}`} class={`step status-${step.status}`} data-step={step.step_id} data-status={step.status}>
              <div>
                <strong>{step.step_id}</strong> <span class="muted">{step.type}</span> <span class="badge">{humanise(step.status)}</span>
                {step.phase === 'rollback' ? <span class="badge">rollback</span> : null}
              </div>
              {step.error ? <div class="field-error">{step.error}</div> : null}
              {wait ? <div class="muted">{wait.detail}</div> : null}
              {wait?.kind === 'approval' && writable ? (
                <div class="approval">
                  <Field id={`approve-${execution.id}-${step.step_id}`} label="Comment (optional)">
                    <input id={`approve-${execution.id}-${step.step_id}`} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
                  </Field>
                  <div class="button-row">
                    <button type="button" class="primary" onClick={() => void onDecide(execution, step.step_id, 'approve', comment.trim())} aria-label={`Approve step ${step.step_id}`}>
                      Approve
                    </button>
                    <button type="button" onClick={() => void onDecide(execution, step.step_id, 'reject', comment.trim())} aria-label={`Reject step ${step.step_id}`}>
                      Reject
                    </button>
                  </div>
                </div>
              ) : null}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function RunPlan({ incidentId, onStarted }: { incidentId: string; onStarted: () => void }) {
  const plans = useAsync((signal) => api.get<PlanSummary[]>('/api/v1/plans', { signal }), []);
  const [plan, setPlan] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [problem, setProblem] = useState<Problem | null>(null);
  if (!plans.data?.length) return null;
  const run = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    if (!plan) return setError('Choose a plan.');
    setError(undefined);
    try {
      await api.post(`/api/v1/plans/${encodeURIComponent(plan)}/run`, { incident_id: incidentId });
      onStarted();
    } catch (failure) {
      const split = problemToErrors(failure, ['incident_id', 'version']);
      setError(Object.values(split.fields)[0]);
      setProblem(split.form);
    }
  };
  return (
    <form onSubmit={run} noValidate class="run-plan">
      <Field id="run-plan" label="Run a plan" error={error}>
        <select id="run-plan" value={plan} onChange={(e) => setPlan(e.currentTarget.value)}>
          <option value="">choose…</option>
          {plans.data
            .filter((p) => p.enabled)
            .map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
        </select>
      </Field>
      <ProblemDisplay problem={problem} />
      <button type="submit">Run plan</button>
    </form>
  );
}
