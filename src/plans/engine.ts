import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AppError, notFound } from '../shared/errors.ts';
import type { DomainEvents } from '../shared/events.ts';
import { fromJson, toJson, viewAs, type Database } from '../storage/index.ts';
import type { IncidentService, IncidentTables, Incident, TimelineDraft, TimelineEntry } from '../incidents/index.ts';
import { advance, failedCondition, failurePolicy, retryDelayMs, ACTIVE_EXECUTION, type ExecutionStatus, type StepStatus } from './domain.ts';
import type { PlanDefinition, PlanStep } from './schemas.ts';
import type { StepView } from './steps.ts';
import type { ExecutionRow, PlanExecutor, PlanTables, StepRunRow } from './store.ts';
import type { Execution, StepRun } from './api.ts';

export interface EngineDeps {
  database: Database;
  incidents: IncidentService;
  events: DomainEvents;
  clock: () => Date;
  log: Logger;
  /** Immutable plan versions, cached by the service. */
  definition(planId: string, seq: number, db?: PlanExecutor): Promise<PlanDefinition>;
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
type Work = (trx: PlanExecutor, execution: ExecutionRow) => Promise<TimelineDraft[]>;

/**
 * The durable core. Every change to an execution (a step claimed, finished, approved, decided, timed
 * out; a cancel) happens in one transaction that first locks the execution row, applies the change,
 * then decides what runs next with the pure `advance` rules and writes the timeline. Servers sharing
 * a database therefore never take conflicting decisions about one execution.
 */
export class ExecutionEngine {
  readonly db: Kysely<PlanTables>;
  /** Called after a commit that made steps runnable, so this server's worker looks at once. */
  onRunnable: () => void = () => undefined;

  constructor(readonly deps: EngineDeps) {
    this.db = deps.database.db.withTables<PlanTables>();
  }

  now(): string {
    return this.deps.clock().toISOString();
  }

  /** Runs `work` on a locked execution, advances it and writes the timeline, all in one transaction. */
  async withExecution(executionId: string, work: Work): Promise<ExecutionRow> {
    const { execution, entries } = await this.db.transaction().execute(async (trx) => {
      const locked = await trx
        .updateTable('plan_executions')
        .set({ updated_at: this.now() })
        .where('id', '=', executionId)
        .returningAll()
        .executeTakeFirst();
      if (!locked) throw notFound('execution', executionId);
      const drafts = await work(trx, locked);
      drafts.push(...(await this.advanceInTransaction(trx, executionId)));
      const actor = planActor(locked.plan_id);
      const written = drafts.length
        ? await this.deps.incidents.appendTimeline(locked.incident_id, drafts, actor, viewAs<IncidentTables>(trx))
        : [];
      const current = await trx.selectFrom('plan_executions').selectAll().where('id', '=', executionId).executeTakeFirstOrThrow();
      return { execution: current, entries: written };
    });
    this.announce(entries);
    this.onRunnable();
    return execution;
  }

  announce(entries: readonly TimelineEntry[]): void {
    for (const entry of entries) this.deps.events.emit('timeline.appended', { entry });
  }

  async steps(executionId: string, db: PlanExecutor = this.db): Promise<StepRunRow[]> {
    return db.selectFrom('plan_step_runs').selectAll().where('execution_id', '=', executionId).orderBy('phase').orderBy('position').execute();
  }

  /** What templates and `when` conditions read: the incident as it is now and every step's stored result. */
  async view(execution: ExecutionRow, plan: PlanDefinition, db: PlanExecutor = this.db, incident?: Incident): Promise<StepView> {
    const rows = await this.steps(execution.id, db);
    const current = incident ?? (await this.deps.incidents.get(execution.incident_id, viewAs<IncidentTables>(db)));
    return {
      incident: { ...current, ...(await this.deps.facts?.(current, db)) },
      plan: { id: execution.plan_id, name: plan.name, version: execution.plan_version },
      execution: { id: execution.id, started_at: execution.started_at, dry_run: false },
      steps: Object.fromEntries(rows.map((r) => [r.step_id, { status: r.status, output: fromJson<unknown>(r.output, null), error: r.error }])),
    };
  }

  private async advanceInTransaction(trx: PlanExecutor, executionId: string): Promise<TimelineDraft[]> {
    const execution = await trx.selectFrom('plan_executions').selectAll().where('id', '=', executionId).executeTakeFirstOrThrow();
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
      await trx
        .updateTable('plan_step_runs')
        .set({
          status: change.status,
          updated_at: now,
          ...(change.status === 'ready' ? { due_at: now } : { finished_at: now, due_at: null, decision: toJson({ reason: change.reason ?? null }) }),
        })
        .where('id', '=', row.id)
        .execute();
      if (change.status === 'skipped') {
        drafts.push(stepEntry('plan_step_skipped', execution, row, `step ${row.step_id} skipped: ${change.reason}`));
      } else if (change.status === 'cancelled' && row.status !== 'pending') {
        drafts.push(stepEntry('plan_step_cancelled', execution, row, `step ${row.step_id} cancelled: ${change.reason}`));
      }
    }
    if (decision.execution) {
      const next = decision.execution.status;
      const finished = !ACTIVE_EXECUTION.has(next);
      await trx
        .updateTable('plan_executions')
        .set({ status: next, reason: decision.execution.reason, updated_at: now, ...(finished ? { finished_at: now } : {}) })
        .where('id', '=', executionId)
        .execute();
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
    trx: PlanExecutor,
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
    await trx.insertInto('plan_executions').values(execution).execute();
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
    await trx.insertInto('plan_step_runs').values(rows).execute();
    const drafts: TimelineDraft[] = [
      {
        kind: 'plan_started',
        summary: `plan ${input.planId} v${input.version} started (${input.trigger}) by ${input.actor}`,
        data: { execution_id: execution.id, plan_id: input.planId, plan_version: input.version, trigger: input.trigger },
        actor: input.actor,
      },
    ];
    drafts.push(...(await this.advanceInTransaction(trx, execution.id)));
    return { execution, drafts };
  }

  async execution(executionId: string): Promise<Execution> {
    const row = await this.db.selectFrom('plan_executions').selectAll().where('id', '=', executionId).executeTakeFirst();
    if (!row) throw notFound('execution', executionId);
    return this.present(row, await this.steps(executionId));
  }

  async executionsForIncident(incidentId: string): Promise<Execution[]> {
    await this.deps.incidents.get(incidentId);
    const rows = await this.db.selectFrom('plan_executions').selectAll().where('incident_id', '=', incidentId).orderBy('started_at').orderBy('id').execute();
    const steps = rows.length
      ? await this.db.selectFrom('plan_step_runs').selectAll().where('execution_id', 'in', rows.map((r) => r.id)).orderBy('phase').orderBy('position').execute()
      : [];
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
      await trx
        .updateTable('plan_step_runs')
        .set({
          status: approve ? 'succeeded' : 'failed',
          decision: toJson(decision),
          finished_at: now,
          updated_at: now,
          due_at: null,
          ...(approve ? {} : { error: `rejected by ${approver.name}${comment ? `: ${comment}` : ''}` }),
        })
        .where('id', '=', row.id)
        .where('status', '=', 'waiting')
        .execute();
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
      await trx
        .updateTable('plan_step_runs')
        .set({
          status,
          decision: toJson({ decision: action, by: actor, at: now, ...(comment ? { comment } : {}) }),
          updated_at: now,
          due_at: action === 'retry' ? now : null,
          ...(action === 'retry' ? {} : { finished_at: now }),
          ...(action === 'fail' ? { error: `failed by ${actor} after it was interrupted${comment ? `: ${comment}` : ''}` } : {}),
        })
        .where('id', '=', row.id)
        .where('status', '=', 'needs_decision')
        .execute();
      const verb = { retry: 'will be retried', skip: 'skipped', fail: 'marked failed' }[action];
      return [stepEntry('plan_step_decided', execution, row, `step ${stepId} ${verb} by ${actor}${comment ? `: ${comment}` : ''}`, actor)];
    });
    return this.execution(executionId);
  }

  async cancel(executionId: string, actor: string): Promise<Execution> {
    await this.withExecution(executionId, async (trx, execution) => {
      if (!ACTIVE_EXECUTION.has(execution.status)) throw new AppError('conflict', `execution ${executionId} is already ${execution.status}`);
      const now = this.now();
      await trx
        .updateTable('plan_step_runs')
        .set({ status: 'cancelled', finished_at: now, updated_at: now, due_at: null, decision: toJson({ reason: `execution cancelled by ${actor}` }) })
        .where('execution_id', '=', executionId)
        .where('status', 'in', ['pending', 'ready', 'waiting', 'needs_decision'])
        .execute();
      await trx
        .updateTable('plan_executions')
        .set({ status: 'cancelled', finished_at: now, updated_at: now, reason: `cancelled by ${actor}` })
        .where('id', '=', executionId)
        .execute();
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

  private async requireStep(trx: PlanExecutor, executionId: string, stepId: string): Promise<StepRunRow> {
    const row = await trx.selectFrom('plan_step_runs').selectAll().where('id', '=', stepRunId(executionId, stepId)).executeTakeFirst();
    if (!row) throw notFound('step', `${stepId} of execution ${executionId}`);
    return row;
  }

  // ---- changes made by workers ------------------------------------------------------------------

  /** Claims up to `limit` runnable steps with a lease; on PostgreSQL rows locked by another server are skipped. */
  async claim(owner: string, limit: number, leaseMs: number): Promise<StepRunRow[]> {
    const now = this.deps.clock();
    const nowIso = now.toISOString();
    const postgres = this.deps.database.dialect === 'postgres';
    // A plain read first: an idle server polling must not take SQLite's write lock (or a PostgreSQL transaction) for nothing.
    const any = await this.db.selectFrom('plan_step_runs').select('id').where('status', '=', 'ready').where('due_at', '<=', nowIso).limit(1).executeTakeFirst();
    if (!any) return [];
    const { claimed, entries } = await this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable('plan_step_runs')
        .set((eb) => ({
          status: 'running',
          lease_owner: owner,
          lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(),
          attempt: eb('attempt', '+', 1),
          started_at: nowIso,
          updated_at: nowIso,
        }))
        .where('id', 'in', (eb) => {
          const candidates = eb
            .selectFrom('plan_step_runs')
            .select('id')
            .where('status', '=', 'ready')
            .where('due_at', '<=', nowIso)
            .orderBy('due_at')
            .limit(limit);
          return postgres ? candidates.forUpdate().skipLocked() : candidates;
        })
        .where('status', '=', 'ready')
        .returningAll()
        .execute();
      if (rows.length === 0) return { claimed: rows, entries: [] as TimelineEntry[] };
      const executions = await trx.selectFrom('plan_executions').selectAll().where('id', 'in', [...new Set(rows.map((r) => r.execution_id))]).execute();
      const written: TimelineEntry[] = [];
      for (const execution of executions) {
        const drafts = rows
          .filter((r) => r.execution_id === execution.id)
          .map((r) =>
            withData(stepEntry('plan_step_started', execution, r, `step ${r.step_id} (${r.type}) started${Number(r.attempt) > 1 ? `, attempt ${r.attempt}` : ''}`), {
              attempt: Number(r.attempt),
              worker: owner,
            }),
          );
        written.push(...(await this.deps.incidents.appendTimeline(execution.incident_id, drafts, planActor(execution.plan_id), viewAs<IncidentTables>(trx))));
      }
      return { claimed: rows, entries: written };
    });
    this.announce(entries);
    return claimed;
  }

  async renewLease(row: StepRunRow, owner: string, leaseMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('plan_step_runs')
      .set({ lease_expires_at: new Date(this.deps.clock().getTime() + leaseMs).toISOString() })
      .where('id', '=', row.id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records the result of an attempt. Only the lease holder may: if another server took the step over
   * (our lease expired), the result is dropped and logged rather than overwriting theirs.
   */
  async complete(
    row: StepRunRow,
    owner: string,
    result:
      | { kind: 'done'; status: 'succeeded' | 'failed'; output: unknown; summary: string; error?: string }
      | { kind: 'pause'; dueAt: string | null; output: unknown; summary: string; entryKind: string },
  ): Promise<void> {
    let lost = false;
    await this.withExecution(row.execution_id, async (trx, execution) => {
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
      const updated = await trx
        .updateTable('plan_step_runs')
        .set(set)
        .where('id', '=', row.id)
        .where('status', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) {
        lost = true;
        return [];
      }
      return [{ ...entry, data: { ...entry.data, attempt, ...(result.kind === 'done' ? { status: result.status } : {}) } }];
    });
    if (lost) this.deps.log.warn({ execution: row.execution_id, step: row.step_id }, 'plan step result dropped: its lease was taken over by another server');
  }

  /** Steps whose server stopped mid-attempt: retried if idempotent, otherwise left for a person to decide. */
  async recoverExpiredLeases(isIdempotent: (plan: PlanDefinition, stepId: string) => boolean): Promise<number> {
    const nowIso = this.now();
    const expired = await this.db
      .selectFrom('plan_step_runs')
      .selectAll()
      .where('status', '=', 'running')
      .where('lease_expires_at', '<', nowIso)
      .limit(50)
      .execute();
    for (const row of expired) {
      await this.withExecution(row.execution_id, async (trx, execution) => {
        const plan = await this.deps.definition(execution.plan_id, Number(execution.plan_seq), trx);
        const retry = isIdempotent(plan, row.step_id) && ACTIVE_EXECUTION.has(execution.status);
        const now = this.now();
        const updated = await trx
          .updateTable('plan_step_runs')
          .set({
            status: retry ? 'ready' : 'needs_decision',
            due_at: retry ? now : null,
            lease_owner: null,
            lease_expires_at: null,
            updated_at: now,
            error: `interrupted: the server running attempt ${row.attempt} stopped (${row.lease_owner})`,
          })
          .where('id', '=', row.id)
          .where('status', '=', 'running')
          .where('lease_expires_at', '=', row.lease_expires_at)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return [];
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
      });
    }
    return expired.length;
  }

  /** Waits that ended and approvals whose timeout passed. */
  async completeDuePauses(defaultOutcome: (plan: PlanDefinition, stepId: string) => 'approve' | 'reject'): Promise<number> {
    const nowIso = this.now();
    const due = await this.db
      .selectFrom('plan_step_runs')
      .selectAll()
      .where('status', '=', 'waiting')
      .where('due_at', 'is not', null)
      .where('due_at', '<=', nowIso)
      .limit(100)
      .execute();
    for (const row of due) {
      await this.withExecution(row.execution_id, async (trx, execution) => {
        const plan = await this.deps.definition(execution.plan_id, Number(execution.plan_seq), trx);
        const now = this.now();
        let succeeded = true;
        let summary = `step ${row.step_id} finished waiting`;
        let decision: Record<string, unknown> | null = null;
        if (row.type === 'approval') {
          succeeded = defaultOutcome(plan, row.step_id) === 'approve';
          decision = { decision: succeeded ? 'approved' : 'rejected', by: 'timeout', at: now };
          summary = `step ${row.step_id} ${succeeded ? 'approved' : 'rejected'} by default: nobody decided before the timeout`;
        }
        const updated = await trx
          .updateTable('plan_step_runs')
          .set({
            status: succeeded ? 'succeeded' : 'failed',
            finished_at: now,
            updated_at: now,
            due_at: null,
            ...(decision ? { decision: toJson(decision) } : {}),
            ...(succeeded ? {} : { error: 'approval timed out; default outcome is reject' }),
          })
          .where('id', '=', row.id)
          .where('status', '=', 'waiting')
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return [];
        return [stepEntry(row.type === 'approval' ? 'plan_approval_timed_out' : 'plan_step_succeeded', execution, row, summary)];
      });
    }
    return due.length;
  }
}

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
