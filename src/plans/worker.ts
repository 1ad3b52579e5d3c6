import type { Logger } from 'pino';
import { renderTemplate } from '../shared/templates.ts';
import { redactSecrets } from '../shared/crypto.ts';
import { isIdempotent, parseDuration, stepTimeoutMs } from './domain.ts';
import { findStep, planActor, PAUSE_JOB, STEP_JOB, type ExecutionEngine } from './engine.ts';
import type { ClaimedJob, JobWorker } from '../storage/index.ts';
import { performStep, redactDeep, withTimeout, type StepEffects, type StepOutcome } from './steps.ts';
import type { PlanDefinition } from './schemas.ts';

export interface WorkerSettings {
  /** How long a claimed step is ours without renewal; another server takes it over after that. */
  leaseMs: number;
  /** Steps this server runs at once. */
  concurrency: number;
}

/** Tunables for tests and operators: FIREBREAK_PLAN_LEASE_MS, FIREBREAK_PLAN_CONCURRENCY (the poll is the worker's: FIREBREAK_WORKER_POLL_MS). */
export function workerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const int = (name: string, fallback: number, min: number) => {
    const value = Number(env[name] ?? fallback);
    return Number.isInteger(value) && value >= min ? value : fallback;
  };
  return {
    leaseMs: int('FIREBREAK_PLAN_LEASE_MS', 30_000, 500),
    concurrency: int('FIREBREAK_PLAN_CONCURRENCY', 16, 1),
  };
}

export interface WorkerDeps {
  engine: ExecutionEngine;
  effects: StepEffects;
  /** Decrypted values of the secrets a plan references (for http steps), and every value to redact. */
  secretsFor(plan: PlanDefinition): Promise<Map<string, string>>;
  log: Logger;
  settings: WorkerSettings;
}

/**
 * Plan steps and timed pauses as jobs of the server's one worker. Several servers may share a database:
 * a step's job is claimed by one of them, results are recorded only by the claim that still holds it,
 * and a crashed server's steps are taken over once its lease expires (retried if idempotent, otherwise
 * left for a person to decide).
 */
export function registerPlanJobs(worker: JobWorker, deps: WorkerDeps): void {
  const { engine, settings } = deps;
  worker.handle(STEP_JOB, {
    leaseMs: settings.leaseMs,
    concurrency: settings.concurrency,
    adopt: () => engine.adoptStoredWork(),
    run: (job) => runStep(deps, worker.owner, job),
  });
  worker.handle(PAUSE_JOB, {
    leaseMs: settings.leaseMs,
    concurrency: settings.concurrency,
    run: (job) =>
      engine.finishPause(job, (plan, stepId) => {
        const step = findStep(plan, stepId);
        return step.type === 'approval' ? (step.with.default ?? 'reject') : 'reject';
      }),
  });
}

async function runStep(deps: WorkerDeps, owner: string, job: ClaimedJob): Promise<void> {
  const { engine, log } = deps;
  const row = await engine.start(job, owner, (plan, stepId) => isIdempotent(findStep(plan, stepId)));
  if (!row) return;
  let secretValues: string[] = [];
  try {
    const execution = await engine.executionRow(row.execution_id);
    const plan = await engine.deps.definition(execution.plan_id, Number(execution.plan_seq));
    const step = findStep(plan, row.step_id);
    const view = await engine.view(execution, plan);
    if (step.type === 'approval') {
      const prompt = renderTemplate(step.with.prompt, view as unknown as Record<string, unknown>);
      const role = step.with.role ?? 'responder';
      const dueAt = step.with.timeout ? new Date(engine.deps.clock().getTime() + parseDuration(step.with.timeout)).toISOString() : null;
      await engine.complete(row, job, {
        kind: 'pause',
        dueAt,
        output: { prompt, role, requested_at: engine.now(), timeout_at: dueAt, default: step.with.default ?? (dueAt ? 'reject' : null) },
        summary: `step ${row.step_id} waits for ${role} approval: ${prompt}${dueAt ? ` (until ${dueAt}, then ${step.with.default ?? 'reject'})` : ''}`,
        entryKind: 'plan_approval_requested',
      });
      return;
    }
    if (step.type === 'wait') {
      const dueAt = new Date(engine.deps.clock().getTime() + parseDuration(step.with.duration)).toISOString();
      await engine.complete(row, job, { kind: 'pause', dueAt, output: { until: dueAt }, summary: `step ${row.step_id} waits ${step.with.duration}`, entryKind: 'plan_step_waiting' });
      return;
    }
    let outcome: StepOutcome;
    try {
      if (step.type === 'http') {
        const secrets = await deps.secretsFor(plan);
        secretValues = [...secrets.values()];
        view.secrets = Object.fromEntries(secrets);
      }
      const timeoutMs = stepTimeoutMs(step);
      outcome = await withTimeout(
        performStep(step, view, deps.effects, {
          executionId: execution.id,
          planId: execution.plan_id,
          planVersion: execution.plan_version,
          actor: planActor(execution.plan_id),
          timeoutMs,
        }),
        timeoutMs,
        `step ${step.id}`,
      );
    } catch (error) {
      const message = (error as Error).message;
      outcome = { status: 'failed', output: {}, summary: message, error: message };
    }
    await engine.complete(row, job, {
      kind: 'done',
      status: outcome.status,
      output: redactDeep(outcome.output, secretValues),
      summary: redactSecrets(outcome.summary, secretValues),
      ...(outcome.error ? { error: redactSecrets(outcome.error, secretValues) } : {}),
    });
  } catch (error) {
    // Recording failed (database gone?): the job is claimed again, and its claimer finds the step still
    // running and applies the idempotency rule.
    log.error({ err: redactDeep({ message: (error as Error).message }, secretValues), step: row.step_id, execution: row.execution_id }, 'plan step could not be recorded');
    throw error;
  }
}
