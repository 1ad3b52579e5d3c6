import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, notFound } from '../shared/errors.ts';
import type { DomainEvents } from '../shared/events.ts';
import { fromJson, toJson, JobQueue, type ClaimedJob, type Database, type Executor } from '../storage/index.ts';
import type { IncidentService, Incident, TimelineDraft, TimelineEntry } from '../incidents/index.ts';
import { advance, failedCondition, failurePolicy, retryDelayMs, ACTIVE_EXECUTION, type ExecutionStatus, type StepStatus } from './domain.ts';
import type { PlanDefinition, PlanStep } from './schemas.ts';
import type { StepView } from './steps.ts';
import * as repository from './repository.ts';
import type { ExecutionRow, StepRunRow } from './schema.ts';
import type { Execution, StepRun } from './api.ts';

export interface EngineDeps {
  database: Database;
  incidents: IncidentService;
  events: DomainEvents;
  clock: () => Date;
  log: Logger;
  /** Runnable steps and timed pauses are jobs of kinds STEP_JOB and PAUSE_JOB. */
  jobs: JobQueue;
  /** Wakes this server's job worker (steps and pauses are its jobs). */
  wakeWorker(): void;
  /** Immutable plan versions, cached by the service. */
  definition(planId: string, seq: number, db?: Executor): Promise<PlanDefinition>;
  /** Facts other capabilities add to the incident templates read (`incident.suspect_change`). */
  facts?(incident: Incident, db?: object): Promise<Record<string, unknown>>;
}

export function planActor(planId: string): string {
  return `plan:${planId}`;
}

function stepRunId(executionId: string, stepId: string): string {
  return `${executionId}:${stepId}`;
}

export function stepRunFromRow(row: StepRunRow): StepRun {
  return {
    step_id: row.step_id,
    phase: row.phase,
    type: row.type,
    status: row.status,
    attempt: Number(row.attempt),
    due_at: row.due_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
    output: fromJson<unknown>(row.output, null),
    error: row.error,
    decision: fromJson<unknown>(row.decision, null),
  };
}

/** What one change to an execution did: timeline entries to append inside the same transaction. */
type Work = (trx: Executor, execution: ExecutionRow) => Promise<TimelineDraft[]>;

/**
 * The durable core. Every change to an execution (a step claimed, finished, approved, decided, timed
 * out; a cancel) happens in one transaction that first locks the execution row, applies the change,
 * then decides what runs next with the pure `advance` rules and writes the timeline. Servers sharing
 * a database therefore never take conflicting decisions about one execution.
 */
export class ExecutionEngine {
  /** The plain handle; inside a change, the change's transaction is used instead. */
  private readonly db: Database['db'];
  constructor(readonly deps: EngineDeps) {
    this.db = deps.database.db;
  }

  /** Call after a commit that made steps runnable, so this server's worker looks at once. */
  onRunnable(): void {
    this.deps.wakeWorker();
  }

  now(): string {
    return this.deps.clock().toISOString();
  }

  /** Runs `work` on a locked execution, advances it and writes the timeline, all in one transaction. */
  async withExecution(executionId: string, work: Work): Promise<ExecutionRow> {
    const { execution, entries } = await this.db.transaction().execute(async (trx) => {
      const locked = await repository.lockExecution(trx, executionId, this.now());
      if (!locked) throw notFound('execution', executionId);
      const drafts = await work(trx, locked);
      drafts.push(...(await this.advanceInTransaction(trx, executionId)));
      await this.scheduleJobs(trx, executionId);
      const actor = planActor(locked.plan_id);
      const written = drafts.length
        ? await this.deps.incidents.appendTimeline(locked.incident_id, drafts, actor, trx)
        : [];
      const current = await this.executionRow(executionId, trx);
      return { execution: current, entries: written };
    });
    this.announce(entries);
    this.onRunnable();
    return execution;
  }

  announce(entries: readonly TimelineEntry[]): void {
    for (const entry of entries) this.deps.events.emit('timeline.appended', { entry });
  }

  /** The stored execution (what workers and templates read); not found is an error. */
  async executionRow(executionId: string, db: Executor = this.db): Promise<ExecutionRow> {
    const row = await repository.findExecution(db, executionId);
    if (!row) throw notFound('execution', executionId);
    return row;
  }

  async steps(executionId: string, db: Executor = this.db): Promise<StepRunRow[]> {
    return repository.stepRunsOfExecution(db, executionId);
  }

  /** What templates and `when` conditions read: the incident as it is now and every step's stored result. */
  async view(execution: ExecutionRow, plan: PlanDefinition, db: Executor = this.db, incident?: Incident): Promise<StepView> {
    const rows = await this.steps(execution.id, db);
    const current = incident ?? (await this.deps.incidents.get(execution.incident_id, db));
    return {
      incident: { ...current, ...(await this.deps.facts?.(current, db)) },
      plan: { id: execution.plan_id, name: plan.name, version: execution.plan_version },
      execution: { id: execution.id, started_at: execution.started_at, dry_run: false },
      steps: Object.fromEntries(rows.map((r) => [r.step_id, { status: r.status, output: fromJson<unknown>(r.output, null), error: r.error }])),
    };
  }

  private async advanceInTransaction(trx: Executor, executionId: string): Promise<TimelineDraft[]> {
    const execution = await this.executionRow(executionId, trx);
    if (!ACTIVE_EXECUTION.has(execution.status)) return [];
    const plan = await this.deps.definition(execution.plan_id, Number(execution.plan_seq), trx);
    const rows = await this.steps(executionId, trx);
    let view: StepView | undefined;
    const needsView = [...plan.steps, ...(plan.rollback ?? [])].some((s) => s.when?.length);
    if (needsView) view = await this.view(execution, plan, trx);
    const decision = advance(
      plan,
      execution.status,
      rows.map((r) => ({ step_id: r.step_id, phase: r.phase, status: r.status })),
      (step: PlanStep) => (view ? failedCondition(step.when, view) : null),
    );
    const now = this.now();
    const drafts: TimelineDraft[] = [];
    const byStep = new Map(rows.map((r) => [r.step_id, r]));
    for (const change of decision.steps) {
      const row = byStep.get(change.step_id)!;
      await repository.updateStepRun(trx, row.id, {
        status: change.status,
        updated_at: now,
        ...(change.status === 'ready' ? { due_at: now } : { finished_at: now, due_at: null, decision: toJson({ reason: change.reason ?? null }) }),
      });
      if (change.status === 'skipped') {
        drafts.push(stepEntry('plan_step_skipped', execution, row, `step ${row.step_id} skipped: ${change.reason}`));
      } else if (change.status === 'cancelled' && row.status !== 'pending') {
        drafts.push(stepEntry('plan_step_cancelled', execution, row, `step ${row.step_id} cancelled: ${change.reason}`));
      }
    }
    if (decision.execution) {
      const next = decision.execution.status;
      const finished = !ACTIVE_EXECUTION.has(next);
      await repository.updateExecution(trx, executionId, { status: next, reason: decision.execution.reason, updated_at: now, ...(finished ? { finished_at: now } : {}) });
      drafts.push({
        kind: next === 'rolling_back' ? 'plan_rolling_back' : 'plan_finished',
        summary: `plan ${execution.plan_id} v${execution.plan_version} ${next.replace('_', ' ')}: ${decision.execution.reason}`,
        data: { execution_id: executionId, plan_id: execution.plan_id, plan_version: execution.plan_version, status: next },
      });
    }
    return drafts;
  }

  /** Creates an execution with a row per step, makes its first steps runnable and records the start. */
  async create(
    trx: Executor,
    input: { planId: string; seq: number; version: string; plan: PlanDefinition; incidentId: string; trigger: string; actor: string },
  ): Promise<{ execution: ExecutionRow; drafts: TimelineDraft[] }> {
    const now = this.now();
    const execution: ExecutionRow = {
      id: randomUUID(),
      plan_id: input.planId,
      plan_seq: input.seq,
      plan_version: input.version,
      incident_id: input.incidentId,
      status: 'running',
      trigger: input.trigger,
      started_by: input.actor,
      started_at: now,
      updated_at: now,
      finished_at: null,
      reason: null,
    };
    await repository.insertExecution(trx, execution);
    const rows: StepRunRow[] = [
      ...input.plan.steps.map((s, i) => ({ s, i, phase: 'main' as const })),
      ...(input.plan.rollback ?? []).map((s, i) => ({ s, i, phase: 'rollback' as const })),
    ].map(({ s, i, phase }) => ({
      id: stepRunId(execution.id, s.id),
      execution_id: execution.id,
      step_id: s.id,
      phase,
      position: i,
      type: s.type,
      status: 'pending',
      attempt: 0,
      due_at: null,
      lease_owner: null,
      lease_expires_at: null,
      started_at: null,
      finished_at: null,
      output: null,
      error: null,
      decision: null,
      updated_at: now,
    }));
    await repository.insertStepRuns(trx, rows);
    const drafts: TimelineDraft[] = [
      {
        kind: 'plan_started',
        summary: `plan ${input.planId} v${input.version} started (${input.trigger}) by ${input.actor}`,
        data: { execution_id: execution.id, plan_id: input.planId, plan_version: input.version, trigger: input.trigger },
        actor: input.actor,
      },
    ];
    drafts.push(...(await this.advanceInTransaction(trx, execution.id)));
    await this.scheduleJobs(trx, execution.id);
    return { execution, drafts };
  }

  async execution(executionId: string): Promise<Execution> {
    const row = await this.executionRow(executionId);
    return this.present(row, await this.steps(executionId));
  }

  async executionsForIncident(incidentId: string): Promise<Execution[]> {
    await this.deps.incidents.get(incidentId);
    const rows = await repository.executionsOfIncident(this.db, incidentId);
    const steps = await repository.stepRunsOfExecutions(this.db, rows.map((r) => r.id));
    return rows.map((r) => this.present(r, steps.filter((s) => s.execution_id === r.id)));
  }

  present(row: ExecutionRow, steps: StepRunRow[]): Execution {
    const runs = steps.map(stepRunFromRow);
    return {
      id: row.id,
      plan_id: row.plan_id,
      plan_version: row.plan_version,
      incident_id: row.incident_id,
      status: row.status,
      trigger: row.trigger,
      started_by: row.started_by,
      started_at: row.started_at,
      updated_at: row.updated_at,
      finished_at: row.finished_at,
      reason: row.reason,
      waiting_for: runs.flatMap((s): Execution['waiting_for'] => {
        if (s.status === 'waiting' && s.type === 'approval') {
          const output = (s.output ?? {}) as { prompt?: string; role?: string };
          return [{ step_id: s.step_id, kind: 'approval', detail: `${output.role ?? 'responder'} approval: ${output.prompt ?? ''}` }];
        }
        if (s.status === 'needs_decision') return [{ step_id: s.step_id, kind: 'decision', detail: s.error ?? 'interrupted mid-flight' }];
        return [];
      }),
      steps: runs,
    };
  }

  // ---- changes made by people ------------------------------------------------------------------

  async decideApproval(
    executionId: string,
    stepId: string,
    approver: { name: string; role: string; allowed: (required: 'responder' | 'admin') => boolean },
    approve: boolean,
    comment: string | undefined,
  ): Promise<Execution> {
    await this.withExecution(executionId, async (trx, execution) => {
      const row = await this.requireStep(trx, executionId, stepId);
      if (row.type !== 'approval') throw new AppError('conflict', `step ${stepId} is a ${row.type} step, not an approval`, { field: 'step' });
      if (row.status !== 'waiting') throw new AppError('conflict', `step ${stepId} is ${row.status}, not waiting for approval`);
      const plan = await this.deps.definition(execution.plan_id, Number(execution.plan_seq), trx);
      const step = findStep(plan, stepId);
      const required = step.type === 'approval' ? (step.with.role ?? 'responder') : 'responder';
      if (!approver.allowed(required)) {
        throw new AppError('forbidden', `approving step ${stepId} needs the ${required} role; ${approver.name} has ${approver.role}`);
      }
      const now = this.now();
      const decision = { decision: approve ? 'approved' : 'rejected', by: approver.name, at: now, ...(comment ? { comment } : {}) };
      await repository.updateStepRun(
        trx,
        row.id,
        {
          status: approve ? 'succeeded' : 'failed',
          decision: toJson(decision),
          finished_at: now,
          updated_at: now,
          due_at: null,
          ...(approve ? {} : { error: `rejected by ${approver.name}${comment ? `: ${comment}` : ''}` }),
        },
        'waiting',
      );
      return [
        stepEntry(
          approve ? 'plan_approval_granted' : 'plan_approval_rejected',
          execution,
          row,
          `step ${stepId} ${approve ? 'approved' : 'rejected'} by ${approver.name}${comment ? `: ${comment}` : ''}${approve ? '' : `; on_failure: ${failurePolicy(step)}`}`,
          approver.name,
        ),
      ];
    });
    return this.execution(executionId);
  }

  async decide(executionId: string, stepId: string, action: 'retry' | 'skip' | 'fail', actor: string, comment: string | undefined): Promise<Execution> {
    await this.withExecution(executionId, async (trx, execution) => {
      const row = await this.requireStep(trx, executionId, stepId);
      if (row.status !== 'needs_decision') throw new AppError('conflict', `step ${stepId} is ${row.status}; only steps interrupted mid-flight need a decision`);
      const now = this.now();
      const status: StepStatus = action === 'retry' ? 'ready' : action === 'skip' ? 'skipped' : 'failed';
      await repository.updateStepRun(
        trx,
        row.id,
        {
          status,
          decision: toJson({ decision: action, by: actor, at: now, ...(comment ? { comment } : {}) }),
          updated_at: now,
          due_at: action === 'retry' ? now : null,
          ...(action === 'retry' ? {} : { finished_at: now }),
          ...(action === 'fail' ? { error: `failed by ${actor} after it was interrupted${comment ? `: ${comment}` : ''}` } : {}),
        },
        'needs_decision',
      );
      const verb = { retry: 'will be retried', skip: 'skipped', fail: 'marked failed' }[action];
      return [stepEntry('plan_step_decided', execution, row, `step ${stepId} ${verb} by ${actor}${comment ? `: ${comment}` : ''}`, actor)];
    });
    return this.execution(executionId);
  }

  async cancel(executionId: string, actor: string): Promise<Execution> {
    await this.withExecution(executionId, async (trx, execution) => {
      if (!ACTIVE_EXECUTION.has(execution.status)) throw new AppError('conflict', `execution ${executionId} is already ${execution.status}`);
      const now = this.now();
      await repository.updateStepRunsOfExecution(trx, executionId, ['pending', 'ready', 'waiting', 'needs_decision'], {
        status: 'cancelled',
        finished_at: now,
        updated_at: now,
        due_at: null,
        decision: toJson({ reason: `execution cancelled by ${actor}` }),
      });
      await repository.updateExecution(trx, executionId, { status: 'cancelled', finished_at: now, updated_at: now, reason: `cancelled by ${actor}` });
      return [
        {
          kind: 'plan_cancelled',
          summary: `plan ${execution.plan_id} v${execution.plan_version} cancelled by ${actor}`,
          data: { execution_id: executionId, plan_id: execution.plan_id },
          actor,
        },
      ];
    });
    return this.execution(executionId);
  }

  private async requireStep(trx: Executor, executionId: string, stepId: string): Promise<StepRunRow> {
    const row = await repository.findStepRun(trx, stepRunId(executionId, stepId));
    if (!row) throw notFound('step', `${stepId} of execution ${executionId}`);
    return row;
  }

  /** The step run a claimed job stands for, read inside its execution's change (the row cannot vanish there). */
  private async stepRun(trx: Executor, id: string): Promise<StepRunRow> {
    const row = await repository.findStepRun(trx, id);
    if (!row) throw new AppError('internal', `step run ${id} vanished while its execution was locked`);
    return row;
  }

  // ---- changes made by workers ------------------------------------------------------------------

  /** Makes sure every runnable step and every timed pause of an execution has its job (inside the change's transaction). */
  private async scheduleJobs(trx: Executor, executionId: string): Promise<void> {
    const rows = await repository.schedulableStepRuns(trx, executionId);
    const jobs = JobQueue.in(trx);
    const steps = rows.filter((r) => r.status === 'ready');
    const pauses = rows.filter((r) => r.status === 'waiting');
    if (steps.length) await this.deps.jobs.adopt(jobs, STEP_JOB, steps.map((r) => ({ key: r.id, runAt: r.due_at ?? this.now() })));
    if (pauses.length) await this.deps.jobs.adopt(jobs, PAUSE_JOB, pauses.map((r) => ({ key: r.id, runAt: r.due_at! })));
  }

  /**
   * Steps stored before plan steps were jobs (or by a server that stopped between the two writes):
   * runnable ones, ones in flight (taken over as interrupted), and timed pauses.
   */
  async adoptStoredWork(): Promise<void> {
    const rows = await repository.unfinishedStepRuns(this.db);
    const now = this.now();
    await this.deps.jobs.adopt(
      this.deps.jobs.db,
      STEP_JOB,
      rows.filter((r) => r.status !== 'waiting').map((r) => ({ key: r.id, runAt: r.due_at ?? now, interruptedOwner: r.status === 'running' ? (r.lease_owner ?? 'unknown') : null })),
    );
    await this.deps.jobs.adopt(this.deps.jobs.db, PAUSE_JOB, rows.filter((r) => r.status === 'waiting').map((r) => ({ key: r.id, runAt: r.due_at! })));
  }

  /**
   * Starts the step a claimed job stands for. Returns null when there is nothing to run: the step moved
   * on (cancelled, decided), is not due yet, or was in flight on a server that stopped, in which case
   * it is retried if idempotent and otherwise left for a person to decide.
   */
  async start(job: ClaimedJob, owner: string, isIdempotent: (plan: PlanDefinition, stepId: string) => boolean): Promise<StepRunRow | null> {
    const executionId = await repository.executionIdOfStepRun(this.db, job.key);
    if (executionId === undefined) {
      await this.deps.jobs.complete(this.deps.jobs.db, job);
      return null;
    }
    let started: StepRunRow | null = null;
    await this.withExecution(executionId, async (trx, execution) => {
      const jobs = JobQueue.in(trx);
      const row = await this.stepRun(trx, job.key);
      const now = this.now();
      if (row.status === 'running') {
        // The attempt before this claim never recorded its end: its server stopped (or lost the database).
        if (!(await this.deps.jobs.complete(jobs, job))) return [];
        const plan = await this.deps.definition(execution.plan_id, Number(execution.plan_seq), trx);
        const retry = isIdempotent(plan, row.step_id) && ACTIVE_EXECUTION.has(execution.status);
        await repository.updateStepRun(
          trx,
          row.id,
          {
            status: retry ? 'ready' : 'needs_decision',
            due_at: retry ? now : null,
            lease_owner: null,
            lease_expires_at: null,
            updated_at: now,
            error: `interrupted: the server running attempt ${row.attempt} stopped (${job.interruptedOwner ?? row.lease_owner ?? owner})`,
          },
          'running',
        );
        return [
          retry
            ? stepEntry('plan_step_interrupted', execution, row, `step ${row.step_id} was interrupted when its server stopped; retrying it because it is idempotent`)
            : stepEntry(
                'plan_step_needs_decision',
                execution,
                row,
                `step ${row.step_id} was in flight when its server stopped and is not idempotent, so it may or may not have taken effect: decide retry, skip or fail`,
              ),
        ];
      }
      if (row.status !== 'ready') {
        await this.deps.jobs.complete(jobs, job);
        return [];
      }
      if (row.due_at && row.due_at > now) {
        await this.deps.jobs.complete(jobs, job, { runAt: row.due_at });
        return [];
      }
      if (!(await this.deps.jobs.holds(jobs, job))) return [];
      const updated = await repository.startStepRun(trx, row.id, owner, now);
      started = updated;
      return [
        withData(stepEntry('plan_step_started', execution, updated, `step ${updated.step_id} (${updated.type}) started${Number(updated.attempt) > 1 ? `, attempt ${updated.attempt}` : ''}`), {
          attempt: Number(updated.attempt),
          worker: owner,
        }),
      ];
    });
    return started;
  }

  /**
   * Records the result of an attempt. Only the claim that still holds the step's job may: if another
   * server took the step over (our lease expired), the result is dropped and logged rather than overwriting theirs.
   */
  async complete(
    row: StepRunRow,
    job: ClaimedJob,
    result:
      | { kind: 'done'; status: 'succeeded' | 'failed'; output: unknown; summary: string; error?: string }
      | { kind: 'pause'; dueAt: string | null; output: unknown; summary: string; entryKind: string },
  ): Promise<void> {
    let lost = false;
    await this.withExecution(row.execution_id, async (trx, execution) => {
      if (!(await this.deps.jobs.complete(JobQueue.in(trx), job))) {
        lost = true;
        return [];
      }
      const plan = await this.deps.definition(execution.plan_id, Number(execution.plan_seq), trx);
      const step = findStep(plan, row.step_id);
      const now = this.now();
      const attempt = Number(row.attempt);
      const base = { lease_owner: null, lease_expires_at: null, updated_at: now, output: toJson(result.output) };
      let set: Partial<StepRunRow>;
      let entry: TimelineDraft;
      if (result.kind === 'pause') {
        set = { ...base, status: 'waiting', due_at: result.dueAt };
        entry = stepEntry(result.entryKind, execution, row, result.summary);
      } else if (result.status === 'succeeded') {
        set = { ...base, status: 'succeeded', finished_at: now, error: null, due_at: null };
        entry = stepEntry('plan_step_succeeded', execution, row, `step ${row.step_id} succeeded: ${result.summary}`);
      } else if (attempt <= (step.retries ?? 0) && ACTIVE_EXECUTION.has(execution.status)) {
        const delay = retryDelayMs(step, attempt);
        set = { ...base, status: 'ready', due_at: new Date(this.deps.clock().getTime() + delay).toISOString(), error: result.error ?? result.summary };
        entry = stepEntry(
          'plan_step_failed',
          execution,
          row,
          `step ${row.step_id} failed (attempt ${attempt} of ${(step.retries ?? 0) + 1}): ${result.error ?? result.summary}; retrying in ${delay} ms`,
        );
      } else {
        set = { ...base, status: 'failed', finished_at: now, due_at: null, error: result.error ?? result.summary };
        entry = stepEntry(
          'plan_step_failed',
          execution,
          row,
          `step ${row.step_id} failed: ${result.error ?? result.summary}; on_failure: ${row.phase === 'rollback' ? 'continue rollback' : failurePolicy(step)}`,
        );
      }
      if (!(await repository.updateStepRun(trx, row.id, set, 'running'))) {
        lost = true;
        return [];
      }
      return [{ ...entry, data: { ...entry.data, attempt, ...(result.kind === 'done' ? { status: result.status } : {}) } }];
    });
    if (lost) this.deps.log.warn({ execution: row.execution_id, step: row.step_id }, 'plan step result dropped: its lease was taken over by another server');
  }

  /** A wait that ended or an approval whose timeout passed (the job of a timed pause). */
  async finishPause(job: ClaimedJob, defaultOutcome: (plan: PlanDefinition, stepId: string) => 'approve' | 'reject'): Promise<void> {
    const executionId = await repository.executionIdOfStepRun(this.db, job.key);
    if (executionId === undefined) {
      await this.deps.jobs.complete(this.deps.jobs.db, job);
      return;
    }
    await this.withExecution(executionId, async (trx, execution) => {
      const jobs = JobQueue.in(trx);
      const row = await this.stepRun(trx, job.key);
      const now = this.now();
      // Decided by a person meanwhile: nothing left to time out.
      if (row.status !== 'waiting' || row.due_at === null) {
        await this.deps.jobs.complete(jobs, job);
        return [];
      }
      if (row.due_at > now) {
        await this.deps.jobs.complete(jobs, job, { runAt: row.due_at });
        return [];
      }
      if (!(await this.deps.jobs.complete(jobs, job))) return [];
      const plan = await this.deps.definition(execution.plan_id, Number(execution.plan_seq), trx);
      let succeeded = true;
      let summary = `step ${row.step_id} finished waiting`;
      let decision: Record<string, unknown> | null = null;
      if (row.type === 'approval') {
        succeeded = defaultOutcome(plan, row.step_id) === 'approve';
        decision = { decision: succeeded ? 'approved' : 'rejected', by: 'timeout', at: now };
        summary = `step ${row.step_id} ${succeeded ? 'approved' : 'rejected'} by default: nobody decided before the timeout`;
      }
      await repository.updateStepRun(
        trx,
        row.id,
        {
          status: succeeded ? 'succeeded' : 'failed',
          finished_at: now,
          updated_at: now,
          due_at: null,
          ...(decision ? { decision: toJson(decision) } : {}),
          ...(succeeded ? {} : { error: 'approval timed out; default outcome is reject' }),
        },
        'waiting',
      );
      return [stepEntry(row.type === 'approval' ? 'plan_approval_timed_out' : 'plan_step_succeeded', execution, row, summary)];
    });
  }
}

/** Job kinds: a runnable step, and a pause (wait, approval timeout) that ends at a time. */
export const STEP_JOB = 'plans.step';
export const PAUSE_JOB = 'plans.pause';

export function findStep(plan: PlanDefinition, stepId: string): PlanStep {
  const step = [...plan.steps, ...(plan.rollback ?? [])].find((s) => s.id === stepId) as PlanStep | undefined;
  if (!step) throw new AppError('internal', `step ${stepId} is not in the plan version it was created from`);
  return step;
}

function stepEntry(kind: string, execution: Pick<ExecutionRow, 'id' | 'plan_id' | 'plan_version'>, row: Pick<StepRunRow, 'step_id' | 'type' | 'phase'>, summary: string, actor?: string): TimelineDraft {
  return {
    kind,
    summary: `[${execution.plan_id}] ${summary}`,
    data: { execution_id: execution.id, plan_id: execution.plan_id, plan_version: execution.plan_version, step_id: row.step_id, step_type: row.type, phase: row.phase },
    ...(actor ? { actor } : {}),
  };
}

function withData(draft: TimelineDraft, data: Record<string, unknown>): TimelineDraft {
  return { ...draft, data: { ...draft.data, ...data } };
}

export type { ExecutionStatus };
