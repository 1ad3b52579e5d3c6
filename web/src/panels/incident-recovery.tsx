import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, eventMentionsIncident, useLiveEvents, useSession } from '../session.ts';
import { RESYNC_EVENT } from '../stream.ts';
import { ProblemDisplay, useAction } from '../components/forms.tsx';
import { SchemaForm, numberOf } from '../components/SchemaForm.tsx';
import { formatDuration, formatTime, humanise } from '../format.ts';
import type { RecoveryEvaluation, RecoveryPlan, RecoveryStep } from '../types.ts';

const planPath = (id: string) => `/api/v1/incidents/${encodeURIComponent(id)}/recovery`;

/** Refetches (once per burst) when the server says something about this incident changed. */
export function useIncidentReload(incidentId: string, reload: () => void, enabled = true): void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  useLiveEvents((name, payload) => {
    if (!enabled) return;
    if (name !== RESYNC_EVENT && !eventMentionsIncident(payload, incidentId)) return;
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(reload, 300);
  });
}

/** Ticks once a second so clocks computed from stored times stay current without asking the server. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const handle = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(handle);
  }, [intervalMs]);
  return now;
}

/** The recovery plan: RTO clock, step graph with start/complete, verification and rollback. */
export function RecoveryPanel({ incident, timelineKinds }: IncidentPanelProps) {
  const { me, lifecycle } = useSession();
  const writable = canWrite(me);
  const planned = timelineKinds?.has('recovery_planned') ?? false;
  const plan = useAsync(
    (signal) => (planned ? api.get<RecoveryPlan>(planPath(incident.id), { signal }) : Promise.resolve(undefined)),
    [incident.id, planned],
  );
  const missing = timelineKinds !== null && !planned && plan.data === undefined;
  useIncidentReload(incident.id, plan.reload, planned);
  const action = useAction();
  const [evaluation, setEvaluation] = useState<RecoveryEvaluation | null>(null);
  const act = (run: () => Promise<unknown>) => void action.run(run);

  if (timelineKinds === null || (planned && plan.data === undefined && plan.state !== 'error')) return null;
  // A resolved incident without a plan needs none: it is over.
  if (missing && !lifecycle.active_statuses.includes(incident.status)) return null;
  return (
    <section class="panel recovery" aria-labelledby="recovery-title" data-panel="recovery">
      <h2 id="recovery-title">Recovery</h2>
      <ProblemDisplay of={plan} />
      <ProblemDisplay problem={action.problem} />
      {missing ? (
        writable ? (
          <CreatePlanForm incidentId={incident.id} onCreated={(p) => plan.set(p)} />
        ) : (
          <p class="muted">No recovery plan yet.</p>
        )
      ) : plan.data ? (
        <>
          <RtoClock plan={plan.data} />
          <p class="muted">
            Plan {humanise(plan.data.status)}
            {plan.data.projected_completion_at ? `, projected done ${formatTime(plan.data.projected_completion_at)}` : ''}
            {plan.data.projected_rto_breach ? ' — projected to miss the RTO' : ''}
          </p>
          <h3>Steps</h3>
          <ol class="step-list" aria-label="Recovery steps">
            {plan.data.steps.map((step) => (
              <StepItem
                key={step.id}
                step={step}
                critical={plan.data!.critical_path.includes(step.id)}
                writable={writable && plan.data!.status !== 'verified'}
                onAction={(verb) =>
                  act(async () => plan.set(await api.post<RecoveryPlan>(`${planPath(incident.id)}/steps/${encodeURIComponent(step.id)}/${verb}`, {})))
                }
              />
            ))}
          </ol>
          <h3>Verification</h3>
          <p class="muted">
            {plan.data.verification.criteria.length} criteria
            {plan.data.verification.soak_minutes ? `, ${plan.data.verification.soak_minutes} min soak` : ''}
            {plan.data.verification.verified_at ? `; verified ${formatTime(plan.data.verification.verified_at)}` : ''}
          </p>
          <CriteriaList
            criteria={plan.data.verification.criteria}
            writable={writable && plan.data.status !== 'verified'}
            onSignOff={(criterion) => act(async () => plan.set(await api.post<RecoveryPlan>(`${planPath(incident.id)}/signoffs`, { criterion })))}
          />
          {writable && plan.data.status !== 'verified' ? (
            <div class="button-row">
              <button
                type="button"
                onClick={() =>
                  act(async () => {
                    setEvaluation(await api.post<RecoveryEvaluation>(`${planPath(incident.id)}/verify`, {}));
                    plan.reload();
                  })
                }
              >
                Verify now
              </button>
            </div>
          ) : null}
          <EvaluationResults evaluation={evaluation ?? (plan.data.verification.last_evaluation as RecoveryEvaluation | null)} />
          {writable ? <RollbackForm incidentId={incident.id} plan={plan.data} onDone={() => plan.reload()} /> : null}
        </>
      ) : null}
    </section>
  );
}

function RtoClock({ plan }: { plan: RecoveryPlan }) {
  const now = useNow();
  const rto = plan.rto;
  const stoppedAt = plan.verification.verified_at ? Date.parse(plan.verification.verified_at) : null;
  const elapsed = Math.max(0, ((stoppedAt ?? now) - Date.parse(rto.clock_started_at)) / 1000);
  if (!rto.tracked || rto.objective_minutes === null) {
    return (
      <div class="rto-clock" data-testid="rto-clock" role="timer" aria-live="off">
        <strong>{formatDuration(elapsed)}</strong> since detection. <span class="muted">{rto.note}</span>
      </div>
    );
  }
  const objective = rto.objective_minutes * 60;
  const remaining = objective - elapsed;
  const breached = remaining < 0;
  const share = Math.min(1, elapsed / objective);
  return (
    <div class={`rto-clock${breached ? ' breached' : ''}`} data-testid="rto-clock" data-breached={breached ? 'true' : 'false'}>
      <div role="timer" aria-live="off">
        <strong>{formatDuration(elapsed)}</strong> of {rto.objective_minutes} min RTO
        {rto.source_service ? <span class="muted"> (from {rto.source_service})</span> : null}
        {' — '}
        {breached ? <strong>RTO breached by {formatDuration(-remaining)}</strong> : <span>{formatDuration(remaining)} left</span>}
        {stoppedAt ? <span class="muted"> (stopped at verification)</span> : null}
      </div>
      <progress max={1} value={share} aria-label={`RTO used: ${Math.round(share * 100)}%`} />
    </div>
  );
}

function StepItem(props: { step: RecoveryStep; critical: boolean; writable: boolean; onAction: (verb: 'start' | 'complete') => void }) {
  const { step, critical, writable, onAction } = props;
  return (
    <li class={`step status-${step.status}`} data-step={step.id} data-status={step.status}>
      <div>
        <strong>{step.title}</strong> <span class="badge">{humanise(step.status)}</span>
        {critical ? <span class="badge critical-path">critical path</span> : null}
      </div>
      <div class="muted">
        {step.id} · {step.owner ?? (step.owner_role ? `role: ${step.owner_role}` : 'no owner')} · {step.estimate_minutes} min
        {step.depends_on.length ? ` · after ${step.depends_on.join(', ')}` : ''}
        {step.completed_at ? ` · done ${formatTime(step.completed_at)}` : step.started_at ? ` · started ${formatTime(step.started_at)}` : ''}
      </div>
      {writable && step.status !== 'done' ? (
        <div class="button-row">
          {step.status === 'pending' ? (
            <button type="button" onClick={() => onAction('start')} aria-label={`Start step ${step.title}`}>
              Start
            </button>
          ) : null}
          <button type="button" onClick={() => onAction('complete')} aria-label={`Complete step ${step.title}`}>
            Complete
          </button>
        </div>
      ) : null}
    </li>
  );
}

interface CriterionView {
  id: string;
  description?: string;
  check?: { kind: string };
  sign_off?: { by?: string; question: string };
}

/** What verification checks; human sign-offs get a button (the server records who signed). */
function CriteriaList({ criteria, writable, onSignOff }: { criteria: unknown[]; writable: boolean; onSignOff: (criterion: string) => void }) {
  const list = criteria as CriterionView[];
  return (
    <ul class="criteria">
      {list.map((c) => (
        <li key={c.id} data-criterion={c.id}>
          <strong>{c.id}</strong>: {c.sign_off ? `sign-off${c.sign_off.by ? ` by ${c.sign_off.by}` : ''} — ${c.sign_off.question}` : `${c.check?.kind ?? 'check'} check`}
          {c.description ? <span class="muted"> ({c.description})</span> : null}
          {c.sign_off && writable ? (
            <button type="button" class="link-button" onClick={() => onSignOff(c.id)} aria-label={`Sign off ${c.id}`}>
              sign off
            </button>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function EvaluationResults({ evaluation }: { evaluation: RecoveryEvaluation | null | undefined }) {
  if (!evaluation || !Array.isArray(evaluation.results)) return null;
  return (
    <div class="evaluation" data-testid="verification-results">
      <p>
        {evaluation.passed ? 'Passed' : 'Failed'} at {formatTime(evaluation.evaluated_at)} ({humanise(evaluation.outcome)})
      </p>
      <ul>
        {evaluation.results.map((result) => (
          <li key={result.criterion} data-passed={result.passed ? 'true' : 'false'}>
            <span aria-hidden="true">{result.passed ? '✔' : '✘'}</span> <strong>{result.criterion}</strong>: {result.passed ? 'passed' : 'failed'} — {result.detail}
          </li>
        ))}
      </ul>
    </div>
  );
}

function RollbackForm({ incidentId, plan, onDone }: { incidentId: string; plan: RecoveryPlan; onDone: () => void }) {
  return (
    <details class="rollback">
      <summary>Roll back ({plan.rollback.count} so far)</summary>
      {plan.rollback.steps.length ? (
        <ol>
          {plan.rollback.steps.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ol>
      ) : null}
      <SchemaForm
        id="rollback"
        class="inline-form"
        grid={false}
        operation={{ method: 'post', path: '/api/v1/incidents/{id}/recovery/rollback' }}
        fields={[{ name: 'reason', label: 'Reason', hint: 'why the recovery is being rolled back' }]}
        initial={{ reason: '' }}
        toBody={(v) => ({ reason: v.reason?.trim() })}
        send={(body) => api.post(`${planPath(incidentId)}/rollback`, body)}
        onDone={onDone}
        submitLabel="Roll back"
      />
    </details>
  );
}

/** Creates a plan with the tier's default steps; verification is an HTTP check and/or a human sign-off. */
function CreatePlanForm({ incidentId, onCreated }: { incidentId: string; onCreated: (plan: RecoveryPlan) => void }) {
  return (
    <SchemaForm
      id="recovery"
      grid={false}
      operation={{ method: 'post', path: '/api/v1/incidents/{id}/recovery' }}
      fields={[
        { name: 'url', bodyField: 'criteria', label: 'Health check URL (optional)', kind: 'url', hint: 'give this, a sign-off question, or both: recovery needs something to verify' },
        { name: 'question', label: 'Sign-off question (optional)' },
        { name: 'soak', bodyField: 'soak_minutes', label: 'Soak minutes', inputMode: 'numeric' },
      ]}
      initial={{ url: '', question: '', soak: '0' }}
      toBody={(v) => ({
        criteria: [
          ...(v.url?.trim() ? [{ id: 'health', check: { kind: 'http', url: v.url.trim() } }] : []),
          ...(v.question?.trim() ? [{ id: 'sign-off', sign_off: { question: v.question.trim() } }] : []),
        ],
        soak_minutes: numberOf(v.soak ?? ''),
      })}
      send={(body) => api.post<RecoveryPlan>(planPath(incidentId), body)}
      onDone={onCreated}
      submitLabel="Create recovery plan"
    >
      <p class="muted">No recovery plan yet. Steps come from the most critical affected service tier.</p>
    </SchemaForm>
  );
}
