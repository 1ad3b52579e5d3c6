import { AppError, notFound } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import type { DomainEvents } from '../shared/events.ts';
import { fromJson, isUniqueViolation, toJson, JobLeaseLost, JobQueue, type ClaimedJob, type Database, type Executor } from '../storage/index.ts';
import { isActiveStatus, type IncidentService, type TimelineDraft, type TimelineEntry } from '../incidents/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { CheckRunner } from '../checks/index.ts';
import { assertStepGraph, openDependencies, projectCompletion, type StepStatus } from './graph.ts';
import { objectivesFromServices, type RecoveryObjectives } from './objectives.ts';
import { buildRecoveryReport, type CriterionResult, type DataLoss, type Evaluation, type RecoveryReport, type RollbackRecord } from './report.ts';
import type { KnownUsers } from './owners.ts';
import type { CreatePlanInput, Criterion, DataLossInput, PatchStepInput, PutTemplateInput, Template, TemplateStep } from './schemas.ts';
import type { EvaluationRow, PlanRow, RollbackRow, StepRow } from './schema.ts';
import * as repository from './repository.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    /** The recovery deadline passed without a verified recovery; notification channels subscribe to this. */
    'recovery.rto_breached': {
      incident_id: string;
      rto_minutes: number;
      source_service: string | null;
      due_at: string;
      recorded_at: string;
    };
    'recovery.verified': { incident_id: string; verified_at: string; duration_seconds: number; rto_met: boolean | null };
    'recovery.rolled_back': { incident_id: string; rollback: RollbackRecord };
  }
}

const MINUTE_MS = 60_000;
/** The end of a plan's soak period: a storage job keyed by incident id, due at `soak_due_at`. */
export const SOAK_END_JOB = 'recovery.soak_end';
/** The RTO deadline of a plan: a storage job keyed by incident id, due at `rto_due_at`, cancelled by a verification. */
export const RTO_BREACH_JOB = 'recovery.rto_breach';
const SYSTEM_ACTOR = 'firebreak';

export interface PlanView {
  incident_id: string;
  status: PlanRow['status'];
  tier: number | null;
  objectives: RecoveryObjectives;
  rto: {
    tracked: boolean;
    objective_minutes: number | null;
    source_service: string | null;
    note: string;
    clock_started_at: string;
    due_at: string | null;
    elapsed_seconds: number;
    remaining_seconds: number | null;
    breached: boolean;
    breach_recorded_at: string | null;
  };
  steps: {
    id: string;
    title: string;
    depends_on: string[];
    owner: string | null;
    owner_role: string | null;
    estimate_minutes: number;
    status: StepStatus;
    started_at: string | null;
    completed_at: string | null;
    projected_start_at: string | null;
    projected_finish_at: string | null;
  }[];
  critical_path: string[];
  projected_completion_at: string | null;
  projected_rto_breach: boolean | null;
  verification: {
    criteria: Criterion[];
    soak_minutes: number;
    soak_started_at: string | null;
    soak_due_at: string | null;
    verified_at: string | null;
    consecutive_failures: number;
    epoch: number;
    last_evaluation: Evaluation | null;
  };
  rollback: { after_failed_verifications: number | null; steps: string[]; count: number };
  data_loss: DataLoss | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface RecoveryServiceDeps {
  database: Database;
  incidents: IncidentService;
  catalog: CatalogService;
  checks: CheckRunner;
  users: KnownUsers;
  events: DomainEvents;
  clock: () => Date;
  /** Deadline jobs (soak ends, RTO breaches) are scheduled in the same transaction as the state that makes them due. */
  jobs: JobQueue;
}

/** Recovery plans: objectives from the catalogue, a step graph, real verification, rollbacks and the report. */
export class RecoveryService {
  private readonly db: Database['db'];

  constructor(private readonly deps: RecoveryServiceDeps) {
    this.db = deps.database.db;
  }

  private now(): Date {
    return this.deps.clock();
  }

  // ---- templates -------------------------------------------------------------------------------

  async listTemplates(): Promise<Template[]> {
    const rows = await repository.listTemplates(this.db);
    return rows.map((r) => ({ ...r, steps: fromJson<TemplateStep[]>(r.steps, []) }));
  }

  async getTemplate(tier: number, db: Executor = this.db): Promise<Template> {
    const row = await repository.findTemplate(db, tier);
    if (!row) throw notFound('recovery step template for tier', String(tier));
    return { ...row, steps: fromJson<TemplateStep[]>(row.steps, []) };
  }

  /** Replaces a tier's default step list (creating it for a tier that has none). */
  async putTemplate(tier: number, input: PutTemplateInput, expectedVersion: number | undefined, actor: string): Promise<Template> {
    const steps = input.steps.map((s) => ({ ...s, depends_on: s.depends_on ?? [] }));
    assertStepGraph(steps, 'steps');
    const now = this.now().toISOString();
    const version = expectedVersion ?? input.version;
    await this.db.transaction().execute(async (trx) => {
      const current = await repository.findTemplate(trx, tier);
      if (!current) {
        try {
          await repository.insertTemplate(trx, { tier, steps: toJson(steps), updated_at: now, updated_by: actor, version: 1 });
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('version_conflict', `the tier ${tier} template was created concurrently; reload and retry`);
          throw error;
        }
        return;
      }
      checkVersion('recovery template for tier', String(tier), current.version, version, true);
      const updated = await repository.updateTemplate(trx, tier, current.version, { steps: toJson(steps), updated_at: now, updated_by: actor, version: current.version + 1 });
      if (!updated) throw new AppError('version_conflict', `the tier ${tier} template was changed concurrently; reload and retry`);
    });
    return this.getTemplate(tier);
  }

  // ---- plans -----------------------------------------------------------------------------------

  async createPlan(incidentId: string, input: CreatePlanInput, actor: string): Promise<PlanView> {
    input.criteria?.forEach((criterion, i) => {
      if ('check' in criterion && criterion.check) this.deps.checks.assertReachable(criterion.check, `criteria[${i}].check`);
    });
    const incident = await this.deps.incidents.get(incidentId);
    if (!isActiveStatus(incident.status)) {
      throw new AppError('conflict', `incident ${incidentId} is ${incident.status}; reopen it before planning a recovery`);
    }
    const catalogue = await this.deps.catalog.servicesById(incident.services);
    const services = incident.services.flatMap((id) => {
      const service = catalogue.get(id);
      return service ? [service] : [];
    });
    const objectives = objectivesFromServices(services);

    let steps: { id: string; title: string; depends_on: string[]; owner: string | null; owner_role: string | null; estimate_minutes: number }[];
    if (input.steps) {
      steps = input.steps.map((s) => ({
        id: s.id,
        title: s.title,
        depends_on: s.depends_on ?? [],
        owner: s.owner ?? null,
        owner_role: s.owner_role ?? null,
        estimate_minutes: s.estimate_minutes,
      }));
      assertStepGraph(steps, 'steps');
    } else {
      if (objectives.tier.value === null) {
        throw new AppError('unprocessable', `steps: incident ${incidentId} names no catalogued service, so there is no tier to take default steps from; give steps`, {
          field: 'steps',
        });
      }
      const template = await this.getTemplate(objectives.tier.value);
      steps = template.steps.map((s) => ({ ...s, owner: null, owner_role: s.owner_role }));
    }
    for (const [stepId, owner] of Object.entries(input.owners ?? {})) {
      const step = steps.find((s) => s.id === stepId);
      if (!step) throw new AppError('unprocessable', `owners.${stepId}: there is no step ${stepId} in the plan`, { field: `owners.${stepId}` });
      step.owner = owner;
    }
    const ownerChecks = steps.flatMap((s, i) =>
      s.owner ? [{ owner: s.owner, field: input.owners?.[s.id] !== undefined ? `owners.${s.id}` : `steps[${i}].owner` }] : [],
    );
    const criteria = input.criteria;
    const criterionIds = new Set<string>();
    criteria.forEach((c, i) => {
      if (criterionIds.has(c.id)) throw new AppError('validation_failed', `criteria[${i}].id: criterion ${c.id} is listed twice`, { field: `criteria[${i}].id` });
      criterionIds.add(c.id);
      if ('sign_off' in c && c.sign_off.by) ownerChecks.push({ owner: c.sign_off.by, field: `criteria[${i}].sign_off.by` });
    });
    await this.deps.users.assertKnown(ownerChecks);

    const now = this.now().toISOString();
    const rto = objectives.rto_minutes;
    const rtoDueAt = rto.value === null ? null : new Date(Date.parse(incident.detected_at) + rto.value * MINUTE_MS).toISOString();
    const row: PlanRow = {
      incident_id: incidentId,
      status: 'in_progress',
      tier: objectives.tier.value,
      objectives: toJson(objectives),
      rto_minutes: rto.value,
      rto_source: rto.source_service,
      rto_clock_started_at: incident.detected_at,
      rto_due_at: rtoDueAt,
      rto_breach_recorded_at: null,
      criteria: toJson(criteria),
      soak_minutes: input.soak_minutes ?? 0,
      soak_started_at: null,
      soak_due_at: null,
      soak_claimed_until: null,
      verified_at: null,
      consecutive_failures: 0,
      verification_epoch: 1,
      rollback_after_failures: input.rollback?.after_failed_verifications ?? null,
      rollback_steps: toJson(input.rollback?.steps ?? []),
      data_loss: null,
      created_by: actor,
      created_at: now,
      updated_at: now,
      version: 1,
    };
    const entries = await this.transaction(async (trx) => {
      try {
        await repository.insertPlan(trx, row);
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('conflict', `incident ${incidentId} already has a recovery plan`);
        throw error;
      }
      if (rtoDueAt) await this.deps.jobs.schedule(JobQueue.in(trx), RTO_BREACH_JOB, incidentId, rtoDueAt);
      await repository.insertSteps(
        trx,
        steps.map(
          (s, position): StepRow => ({
            incident_id: incidentId,
            step_id: s.id,
            position,
            title: s.title,
            depends_on: toJson(s.depends_on),
            owner: s.owner,
            owner_role: s.owner_role,
            estimate_minutes: s.estimate_minutes,
            status: 'pending',
            started_at: null,
            completed_at: null,
            started_by: null,
            completed_by: null,
          }),
        ),
      );
      const rtoText = rto.value === null ? `no RTO tracking: ${rto.note}` : `RTO ${rto.value} min from ${rto.source_service}, due ${rtoDueAt}`;
      return this.appendTimeline(trx, incidentId, actor, [
        {
          kind: 'recovery_planned',
          summary: `recovery plan with ${steps.length} steps and ${criteria.length} verification criteria; ${rtoText}`,
          data: { steps: steps.map((s) => s.id), criteria: criteria.map((c) => c.id), rto_minutes: rto.value, rto_due_at: rtoDueAt },
        },
      ]);
    });
    this.announce(entries);
    return this.getPlan(incidentId);
  }

  async getPlan(incidentId: string): Promise<PlanView> {
    const plan = await this.planRow(incidentId);
    const [steps, lastEvaluation, rollbackCount] = await Promise.all([
      this.stepRows(incidentId),
      repository.lastEvaluation(this.db, incidentId),
      repository.countRollbacks(this.db, incidentId),
    ]);
    return this.view(plan, steps, lastEvaluation ? evaluationFromRow(lastEvaluation) : null, rollbackCount);
  }

  private view(plan: PlanRow, steps: StepRow[], lastEvaluation: Evaluation | null, rollbackCount: number): PlanView {
    const now = this.now();
    const objectives = fromJson<RecoveryObjectives>(plan.objectives, {} as RecoveryObjectives);
    const nodes = steps.map((s) => ({
      id: s.step_id,
      depends_on: fromJson<string[]>(s.depends_on, []),
      estimate_minutes: s.estimate_minutes,
      status: s.status,
      started_at: s.started_at,
      completed_at: s.completed_at,
    }));
    // Once verified the plan is over: project nothing forward of the verification time.
    const projection = projectCompletion(nodes, plan.verified_at ? new Date(plan.verified_at) : now);
    const projected = new Map(projection.steps.map((p) => [p.id, p]));
    const end = plan.verified_at ?? now.toISOString();
    const elapsed = (Date.parse(end) - Date.parse(plan.rto_clock_started_at)) / 1000;
    const remaining = plan.rto_due_at ? (Date.parse(plan.rto_due_at) - Date.parse(end)) / 1000 : null;
    return {
      incident_id: plan.incident_id,
      status: plan.status,
      tier: plan.tier,
      objectives,
      rto: {
        tracked: plan.rto_minutes !== null,
        objective_minutes: plan.rto_minutes,
        source_service: plan.rto_source,
        note: objectives.rto_minutes?.note ?? '',
        clock_started_at: plan.rto_clock_started_at,
        due_at: plan.rto_due_at,
        elapsed_seconds: elapsed,
        remaining_seconds: remaining,
        breached: plan.rto_due_at !== null && end > plan.rto_due_at,
        breach_recorded_at: plan.rto_breach_recorded_at,
      },
      steps: steps.map((s) => ({
        id: s.step_id,
        title: s.title,
        depends_on: fromJson<string[]>(s.depends_on, []),
        owner: s.owner,
        owner_role: s.owner_role,
        estimate_minutes: s.estimate_minutes,
        status: s.status,
        started_at: s.started_at,
        completed_at: s.completed_at,
        projected_start_at: projected.get(s.step_id)?.projected_start_at ?? null,
        projected_finish_at: projected.get(s.step_id)?.projected_finish_at ?? null,
      })),
      critical_path: projection.critical_path,
      projected_completion_at: projection.projected_completion_at,
      projected_rto_breach:
        plan.rto_due_at && projection.projected_completion_at && !plan.verified_at ? projection.projected_completion_at > plan.rto_due_at : null,
      verification: {
        criteria: fromJson<Criterion[]>(plan.criteria, []),
        soak_minutes: plan.soak_minutes,
        soak_started_at: plan.soak_started_at,
        soak_due_at: plan.soak_due_at,
        verified_at: plan.verified_at,
        consecutive_failures: plan.consecutive_failures,
        epoch: plan.verification_epoch,
        last_evaluation: lastEvaluation,
      },
      rollback: { after_failed_verifications: plan.rollback_after_failures, steps: fromJson<string[]>(plan.rollback_steps, []), count: rollbackCount },
      data_loss: fromJson<DataLoss | null>(plan.data_loss, null),
      created_by: plan.created_by,
      created_at: plan.created_at,
      updated_at: plan.updated_at,
      version: plan.version,
    };
  }

  async hasPlan(incidentId: string): Promise<boolean> {
    return repository.planExists(this.db, incidentId);
  }

  // ---- steps -----------------------------------------------------------------------------------

  async patchStep(incidentId: string, stepId: string, patch: PatchStepInput, actor: string): Promise<PlanView> {
    if (patch.owner) await this.deps.users.assertKnown([{ owner: patch.owner, field: 'owner' }]);
    const entries = await this.transaction(async (trx) => {
      const plan = await this.planRow(incidentId, trx);
      const step = await this.stepRow(trx, incidentId, stepId);
      const set: Partial<StepRow> = {};
      const changes: string[] = [];
      if (patch.owner !== undefined && patch.owner !== step.owner) {
        set.owner = patch.owner;
        changes.push(`owner ${step.owner ?? '(none)'} → ${patch.owner ?? '(none)'}`);
      }
      if (patch.estimate_minutes !== undefined && patch.estimate_minutes !== step.estimate_minutes) {
        set.estimate_minutes = patch.estimate_minutes;
        changes.push(`estimate ${step.estimate_minutes} → ${patch.estimate_minutes} min`);
      }
      if (changes.length === 0) return [];
      await repository.updateStep(trx, incidentId, stepId, set);
      await this.bumpPlan(trx, plan);
      return this.appendTimeline(trx, incidentId, actor, [
        { kind: 'recovery_step_updated', summary: `recovery step ${stepId}: ${changes.join(', ')}`, data: { step: stepId, ...patch } },
      ]);
    });
    this.announce(entries);
    return this.getPlan(incidentId);
  }

  async startStep(incidentId: string, stepId: string, actor: string, note?: string): Promise<PlanView> {
    return this.moveStep(incidentId, stepId, 'in_progress', actor, note);
  }

  async completeStep(incidentId: string, stepId: string, actor: string, note?: string): Promise<PlanView> {
    return this.moveStep(incidentId, stepId, 'done', actor, note);
  }

  private async moveStep(incidentId: string, stepId: string, to: 'in_progress' | 'done', actor: string, note?: string): Promise<PlanView> {
    const entries = await this.transaction(async (trx) => {
      const plan = await this.planRow(incidentId, trx);
      if (plan.status === 'verified') {
        throw new AppError('conflict', `the recovery of ${incidentId} is verified; roll it back before changing steps`);
      }
      const steps = await this.stepRows(incidentId, trx);
      const step = steps.find((s) => s.step_id === stepId);
      if (!step) throw notFound('recovery step', stepId);
      if (step.status === 'done' || step.status === to) {
        throw new AppError('conflict', `step ${stepId} is already ${step.status}`, { field: 'step' });
      }
      const open = openDependencies(
        { depends_on: fromJson<string[]>(step.depends_on, []) },
        steps.map((s) => ({ id: s.step_id, status: s.status })),
      );
      if (open.length > 0) {
        const verb = to === 'done' ? 'complete' : 'start';
        throw new AppError('conflict', `cannot ${verb} step ${stepId}: its dependencies ${open.join(', ')} are not done`, {
          field: 'step',
          open_dependencies: open,
        });
      }
      const now = this.now().toISOString();
      const set: Partial<StepRow> =
        to === 'in_progress'
          ? { status: 'in_progress', started_at: now, started_by: actor }
          : { status: 'done', completed_at: now, completed_by: actor, ...(step.started_at ? {} : { started_at: now, started_by: actor }) };
      if (!(await repository.updateStep(trx, incidentId, stepId, set, step.status))) throw new AppError('version_conflict', `step ${stepId} was changed concurrently; reload and retry`);
      await this.bumpPlan(trx, plan);
      const elapsed = to === 'done' ? ` after ${Math.round((Date.parse(now) - Date.parse(step.started_at ?? now)) / 1000)} s` : '';
      return this.appendTimeline(trx, incidentId, actor, [
        {
          kind: to === 'done' ? 'recovery_step_completed' : 'recovery_step_started',
          summary: `recovery step ${stepId} ${to === 'done' ? 'completed' : 'started'}${elapsed}: ${step.title}${note ? ` (${note})` : ''}`,
          data: { step: stepId, ...(note ? { note } : {}) },
        },
      ]);
    });
    this.announce(entries);
    return this.getPlan(incidentId);
  }

  // ---- verification ----------------------------------------------------------------------------

  async signOff(incidentId: string, criterionId: string, actor: string, note?: string): Promise<PlanView> {
    const entries = await this.transaction(async (trx) => {
      const plan = await this.planRow(incidentId, trx);
      const criterion = fromJson<Criterion[]>(plan.criteria, []).find((c) => c.id === criterionId);
      if (!criterion) throw new AppError('unprocessable', `criterion: the plan has no criterion ${criterionId}`, { field: 'criterion' });
      if (!('sign_off' in criterion)) throw new AppError('unprocessable', `criterion: ${criterionId} is a ${criterion.check.kind} check, not a sign-off`, { field: 'criterion' });
      if (criterion.sign_off.by && criterion.sign_off.by !== actor) {
        throw new AppError('forbidden', `criterion ${criterionId} must be signed off by ${criterion.sign_off.by}, not ${actor}`);
      }
      const now = this.now().toISOString();
      await repository.insertSignoff(trx, { incident_id: incidentId, criterion_id: criterionId, epoch: plan.verification_epoch, signed_by: actor, signed_at: now, note: note ?? null });
      await this.bumpPlan(trx, plan);
      return this.appendTimeline(trx, incidentId, actor, [
        {
          kind: 'recovery_signed_off',
          summary: `${actor} signed off "${criterion.sign_off.question}"${note ? `: ${note}` : ''}`,
          data: { criterion: criterionId, ...(note ? { note } : {}) },
        },
      ]);
    });
    this.announce(entries);
    return this.getPlan(incidentId);
  }

  /** Runs every criterion now (real checks, recorded sign-offs) and records what each observed. */
  async verify(incidentId: string, actor: string): Promise<Evaluation> {
    const plan = await this.planRow(incidentId);
    if (plan.status === 'verified') throw new AppError('conflict', `the recovery of ${incidentId} is already verified at ${plan.verified_at}`);
    return this.evaluateAndRecord(plan, actor, plan.status === 'soaking' ? 'soak' : 'verification');
  }

  /** With `job` (the soak-end job), the evaluation is recorded only while that claim still holds the job, in one transaction with its completion. */
  private async evaluateAndRecord(plan: PlanRow, actor: string, phase: string, job?: ClaimedJob): Promise<Evaluation> {
    const criteria = fromJson<Criterion[]>(plan.criteria, []);
    const signoffs = await repository.signoffsOfEpoch(this.db, plan.incident_id, plan.verification_epoch);
    const results: CriterionResult[] = await Promise.all(
      criteria.map(async (criterion): Promise<CriterionResult> => {
        if ('check' in criterion) {
          const result = await this.deps.checks.evaluate(criterion.check);
          return { criterion: criterion.id, ...result };
        }
        const by = criterion.sign_off.by;
        const signed = signoffs.find((s) => s.criterion_id === criterion.id && (!by || s.signed_by === by));
        return {
          criterion: criterion.id,
          kind: 'sign_off',
          passed: signed !== undefined,
          observed: signed ? { signed_by: signed.signed_by, signed_at: signed.signed_at, note: signed.note } : {},
          expected: `${by ?? 'a responder'} confirms: ${criterion.sign_off.question}`,
          detail: signed ? `signed off by ${signed.signed_by} at ${signed.signed_at}` : 'not signed off since the last rollback',
          at: this.now().toISOString(),
          duration_ms: 0,
        };
      }),
    );
    const passed = results.every((r) => r.passed);
    let autoRollback = false;
    const outcome = await this.transaction(async (trx) => {
      const current = await this.planRow(plan.incident_id, trx);
      if (current.verification_epoch !== plan.verification_epoch || current.status === 'verified') {
        throw new AppError('conflict', `the recovery of ${plan.incident_id} changed while its criteria were evaluated (rolled back or verified); evaluate again`);
      }
      const now = this.now();
      const nowIso = now.toISOString();
      const set: Partial<PlanRow> = {};
      let verdict: string;
      const drafts: TimelineDraft[] = [];
      if (passed) {
        set.consecutive_failures = 0;
        if (current.status === 'soaking' && current.soak_due_at && nowIso >= current.soak_due_at) verdict = 'verified';
        else if (current.status === 'soaking') verdict = 'still_passing';
        else if (current.soak_minutes > 0) verdict = 'soak_started';
        else verdict = 'verified';
        if (verdict === 'soak_started') {
          set.status = 'soaking';
          set.soak_started_at = nowIso;
          set.soak_due_at = new Date(now.getTime() + current.soak_minutes * MINUTE_MS).toISOString();
        }
        if (verdict === 'verified') {
          set.status = 'verified';
          set.verified_at = nowIso;
        }
      } else {
        verdict = current.status === 'soaking' ? 'soak_broken' : 'failed';
        set.consecutive_failures = current.consecutive_failures + 1;
        set.status = 'in_progress';
        set.soak_started_at = null;
        set.soak_due_at = null;
        if (current.rollback_after_failures !== null && set.consecutive_failures >= current.rollback_after_failures) autoRollback = true;
      }
      const inserted = await repository.insertEvaluation(trx, {
        incident_id: plan.incident_id,
        epoch: current.verification_epoch,
        phase,
        evaluated_at: nowIso,
        passed: passed ? 1 : 0,
        results: toJson(results),
        actor,
        outcome: verdict,
      });
      if (!(await repository.updatePlan(trx, plan.incident_id, current.version, { ...set, updated_at: nowIso, version: current.version + 1 }))) {
        throw new AppError('conflict', `the recovery of ${plan.incident_id} changed while its criteria were evaluated; evaluate again`);
      }
      await this.followSoak(trx, current, verdict, set.soak_due_at ?? current.soak_due_at, job);
      const failing = results.filter((r) => !r.passed);
      drafts.push({
        kind: 'recovery_verification',
        summary: passed
          ? `verification passed: all ${results.length} criteria held (${verdict.replace('_', ' ')})`
          : `verification failed: ${failing.map((r) => `${r.criterion} (${r.detail})`).join('; ')}`,
        data: { evaluation_id: Number(inserted.id), passed, outcome: verdict, failures: set.consecutive_failures ?? 0 },
      });
      let breach: PlanRow | null = null;
      if (verdict === 'verified') {
        const duration = (now.getTime() - Date.parse(current.rto_clock_started_at)) / 1000;
        const rtoMet = current.rto_due_at ? nowIso <= current.rto_due_at : null;
        drafts.push({
          kind: 'recovery_verified',
          summary: `recovery verified ${Math.round(duration)} s after detection${rtoMet === null ? ' (no RTO tracked)' : rtoMet ? ', within the RTO' : ', after the RTO'}`,
          data: { verified_at: nowIso, duration_seconds: duration, rto_met: rtoMet },
        });
        // Verified late before the worker noticed the deadline: the breach still goes on record, once.
        if (current.rto_due_at && nowIso > current.rto_due_at && current.rto_breach_recorded_at === null) {
          breach = (await repository.claimRtoBreach(trx, current.incident_id, nowIso)) ? current : null;
        }
        // Recovered: in time the deadline no longer applies, late the breach is on record (here or by the job).
        if (current.rto_due_at) await this.deps.jobs.cancel(JobQueue.in(trx), RTO_BREACH_JOB, current.incident_id);
      }
      const entries = await this.appendTimeline(trx, plan.incident_id, actor, drafts);
      const breachEntries = breach ? await this.appendTimeline(trx, plan.incident_id, SYSTEM_ACTOR, [breachDraft(breach)]) : [];
      return { evaluation: evaluationFromRow(inserted), entries: [...entries, ...breachEntries], verdict, breach, nowIso, current };
    });
    this.announce(outcome.entries);
    if (outcome.breach) this.emitBreach(outcome.breach, outcome.nowIso);
    if (outcome.verdict === 'verified') {
      const duration = (Date.parse(outcome.nowIso) - Date.parse(outcome.current.rto_clock_started_at)) / 1000;
      this.deps.events.emit('recovery.verified', {
        incident_id: plan.incident_id,
        verified_at: outcome.nowIso,
        duration_seconds: duration,
        rto_met: outcome.current.rto_due_at ? outcome.nowIso <= outcome.current.rto_due_at : null,
      });
    }
    if (autoRollback) {
      await this.rollback(
        plan.incident_id,
        `verification failed ${outcome.current.consecutive_failures + 1} times in a row (limit ${outcome.current.rollback_after_failures})`,
        SYSTEM_ACTOR,
        'verification_failed',
      );
    }
    return outcome.evaluation;
  }

  async evaluations(incidentId: string): Promise<Evaluation[]> {
    await this.planRow(incidentId);
    const rows = await repository.evaluationsOfPlan(this.db, incidentId);
    return rows.map(evaluationFromRow);
  }

  // ---- rollback --------------------------------------------------------------------------------

  /**
   * Rolls the recovery back: every started or finished step returns to pending (their times are kept in
   * the rollback record), verification starts over (sign-offs and failures reset), and an incident that
   * is `recovering` moves back to `containing`.
   */
  async rollback(incidentId: string, reason: string, actor: string, trigger: 'decision' | 'verification_failed'): Promise<RollbackRecord> {
    await this.planRow(incidentId);
    const incident = await this.deps.incidents.get(incidentId);
    let movedTo: string | null = null;
    if (incident.status === 'recovering') {
      await this.deps.incidents.transition(incidentId, 'containing', actor, { note: `recovery rolled back: ${reason}` });
      movedTo = 'containing';
    }
    const outcome = await this.transaction(async (trx) => {
      const plan = await this.planRow(incidentId, trx);
      const steps = await this.stepRows(incidentId, trx);
      const reverted = steps
        .filter((s) => s.status !== 'pending')
        .map((s) => ({ id: s.step_id, status: s.status, started_at: s.started_at, completed_at: s.completed_at }));
      const nowIso = this.now().toISOString();
      if (reverted.length > 0) await repository.resetStartedSteps(trx, incidentId);
      const reset = await repository.updatePlan(trx, incidentId, plan.version, {
        status: 'in_progress',
        verified_at: null,
        soak_started_at: null,
        soak_due_at: null,
        consecutive_failures: 0,
        verification_epoch: plan.verification_epoch + 1,
        updated_at: nowIso,
        version: plan.version + 1,
      });
      if (!reset) throw new AppError('version_conflict', `the recovery plan of ${incidentId} was changed concurrently; retry`);
      if (plan.status === 'soaking') await this.deps.jobs.cancel(JobQueue.in(trx), SOAK_END_JOB, incidentId);
      // The RTO clock runs on for a recovery verified in time and rolled back; a job still pending stays as it is.
      if (plan.rto_due_at && plan.rto_breach_recorded_at === null) {
        await this.deps.jobs.adopt(JobQueue.in(trx), RTO_BREACH_JOB, [{ key: incidentId, runAt: plan.rto_due_at }]);
      }
      const procedure = fromJson<string[]>(plan.rollback_steps, []);
      const row = await repository.insertRollback(trx, {
        incident_id: incidentId,
        started_at: nowIso,
        trigger,
        reason,
        actor,
        procedure_steps: toJson(procedure),
        reverted_steps: toJson(reverted),
        incident_status_before: incident.status,
        incident_moved_to: movedTo,
      });
      const entries = await this.appendTimeline(trx, incidentId, actor, [
        {
          kind: 'recovery_rolled_back',
          summary:
            `recovery rolled back (${trigger === 'decision' ? 'decision' : 'verification kept failing'}): ${reason}; ` +
            `${reverted.length} steps back to pending, verification reset${procedure.length ? `; procedure: ${procedure.join(' → ')}` : ''}`,
          data: { rollback_id: Number(row.id), trigger, reverted_steps: reverted.map((s) => s.id), incident_moved_to: movedTo },
        },
      ]);
      return { record: rollbackFromRow(row), entries };
    });
    this.announce(outcome.entries);
    this.deps.events.emit('recovery.rolled_back', { incident_id: incidentId, rollback: outcome.record });
    return outcome.record;
  }

  // ---- data loss and report --------------------------------------------------------------------

  async recordDataLoss(incidentId: string, input: DataLossInput, actor: string): Promise<PlanView> {
    const incident = await this.deps.incidents.get(incidentId);
    const nowIso = this.now().toISOString();
    let loss: DataLoss;
    const given = ['data_loss_minutes', 'measure_with_prometheus', 'last_good_data_at'].filter((k) => input[k as keyof DataLossInput] !== undefined);
    if (given.length > 1 && given.includes('measure_with_prometheus')) {
      throw new AppError('validation_failed', `measure_with_prometheus: give either a measurement query or ${given.filter((k) => k !== 'measure_with_prometheus').join(', ')}, not both`, {
        field: 'measure_with_prometheus',
      });
    }
    if (input.measure_with_prometheus) {
      const measure = input.measure_with_prometheus;
      if (measure.url) this.deps.checks.assertReachable({ kind: 'prometheus', query: measure.query, op: '>=', threshold: 0, url: measure.url }, 'measure_with_prometheus');
      const result = await this.deps.checks.evaluate({
        kind: 'prometheus',
        query: measure.query,
        op: '>=',
        threshold: 0,
        ...(measure.url ? { url: measure.url } : {}),
      });
      const samples = (result.observed.samples as { labels: Record<string, string>; value: number }[] | undefined) ?? [];
      const values = samples.map((sample) => sample.value).filter((v) => Number.isFinite(v));
      if (values.length === 0) {
        throw new AppError('upstream_failed', `measure_with_prometheus: the query gave no value to measure the data-loss window with: ${result.detail}`, {
          field: 'measure_with_prometheus',
        });
      }
      const worst = Math.max(...values);
      if (worst < 0) throw new AppError('unprocessable', `measure_with_prometheus: the query measured a negative window (${worst})`, { field: 'measure_with_prometheus' });
      loss = {
        window_minutes: measure.unit === 'seconds' ? worst / 60 : worst,
        basis: 'prometheus',
        last_good_data_at: null,
        lost_until: null,
        source: input.source ?? `prometheus: ${measure.query}`,
        note: input.note ?? null,
        recorded_by: actor,
        recorded_at: nowIso,
        evidence: { samples, unit: measure.unit, at: result.at },
      };
    } else if (input.data_loss_minutes !== undefined) {
      loss = {
        window_minutes: input.data_loss_minutes,
        basis: 'measured',
        last_good_data_at: input.last_good_data_at ? new Date(input.last_good_data_at).toISOString() : null,
        lost_until: input.lost_until ? new Date(input.lost_until).toISOString() : null,
        source: input.source ?? actor,
        note: input.note ?? null,
        recorded_by: actor,
        recorded_at: nowIso,
      };
    } else {
      if (!input.last_good_data_at) {
        throw new AppError('validation_failed', 'last_good_data_at: give the newest intact data time, or data_loss_minutes when measured', {
          field: 'last_good_data_at',
        });
      }
      const lastGood = new Date(input.last_good_data_at).toISOString();
      const lostUntil = input.lost_until ? new Date(input.lost_until).toISOString() : incident.detected_at;
      if (lastGood > nowIso) throw new AppError('validation_failed', 'last_good_data_at: is in the future', { field: 'last_good_data_at' });
      if (lastGood > lostUntil) {
        throw new AppError('validation_failed', `last_good_data_at: is after ${input.lost_until ? 'lost_until' : 'the incident was detected'} (${lostUntil})`, {
          field: 'last_good_data_at',
        });
      }
      loss = {
        window_minutes: (Date.parse(lostUntil) - Date.parse(lastGood)) / MINUTE_MS,
        basis: 'last_good_data',
        last_good_data_at: lastGood,
        lost_until: lostUntil,
        source: input.source ?? actor,
        note: input.note ?? null,
        recorded_by: actor,
        recorded_at: nowIso,
      };
    }
    const entries = await this.transaction(async (trx) => {
      const plan = await this.planRow(incidentId, trx);
      const updated = await repository.updatePlan(trx, incidentId, plan.version, { data_loss: toJson(loss), updated_at: nowIso, version: plan.version + 1 });
      if (!updated) throw new AppError('version_conflict', `the recovery plan of ${incidentId} was changed concurrently; retry`);
      const rpo = plan.objectives ? fromJson<RecoveryObjectives>(plan.objectives, {} as RecoveryObjectives).rpo_minutes : null;
      const verdict =
        rpo && rpo.value !== null ? (loss.window_minutes <= rpo.value ? `within the RPO of ${rpo.value} min` : `beyond the RPO of ${rpo.value} min`) : 'no RPO tracked';
      return this.appendTimeline(trx, incidentId, actor, [
        {
          kind: 'recovery_data_loss_recorded',
          summary: `data-loss window recorded: ${round2(loss.window_minutes)} min (${loss.basis === 'last_good_data' ? `from last good data at ${loss.last_good_data_at}` : `measured by ${loss.source}`}), ${verdict}`,
          data: { ...loss },
        },
      ]);
    });
    this.announce(entries);
    return this.getPlan(incidentId);
  }

  async report(incidentId: string): Promise<RecoveryReport> {
    const plan = await this.planRow(incidentId);
    const [steps, evaluations, rollbacks] = await Promise.all([
      this.stepRows(incidentId),
      repository.evaluationsOfPlan(this.db, incidentId),
      repository.rollbacksOfPlan(this.db, incidentId),
    ]);
    return buildRecoveryReport(
      {
        incident_id: incidentId,
        objectives: fromJson<RecoveryObjectives>(plan.objectives, {} as RecoveryObjectives),
        rto_clock_started_at: plan.rto_clock_started_at,
        rto_due_at: plan.rto_due_at,
        rto_breach_recorded_at: plan.rto_breach_recorded_at,
        plan_created_at: plan.created_at,
        verified_at: plan.verified_at,
        data_loss: fromJson<DataLoss | null>(plan.data_loss, null),
        evaluations: evaluations.map(evaluationFromRow),
        rollbacks: rollbacks.map(rollbackFromRow),
        steps: steps.map((s) => ({
          id: s.step_id,
          title: s.title,
          status: s.status,
          started_at: s.started_at,
          completed_at: s.completed_at,
          estimate_minutes: s.estimate_minutes,
        })),
      },
      this.now(),
    );
  }

  async rollbacks(incidentId: string): Promise<RollbackRecord[]> {
    await this.planRow(incidentId);
    const rows = await repository.rollbacksOfPlan(this.db, incidentId);
    return rows.map(rollbackFromRow);
  }

  // ---- background work (called by the worker) --------------------------------------------------

  /** Plans whose RTO deadline is still open since before it was a job (a database made by earlier code). */
  async adoptStoredRtoDeadlines(): Promise<void> {
    const rows = await repository.openRtoDeadlines(this.db);
    await this.deps.jobs.adopt(this.deps.jobs.db, RTO_BREACH_JOB, rows.map((r) => ({ key: r.incident_id, runAt: r.rto_due_at })));
  }

  /**
   * Runs the claimed RTO-breach job: puts the breach on record if the deadline passed without a
   * verified recovery, in one transaction with the job's completion (exactly once, whichever server
   * claims it). Returns whether a breach was recorded.
   */
  async recordBreach(job: ClaimedJob): Promise<boolean> {
    let breach: { plan: PlanRow; entries: TimelineEntry[]; nowIso: string } | null;
    try {
      breach = await this.transaction(async (trx) => {
        const jobs = JobQueue.in(trx);
        const nowIso = this.now().toISOString();
        const plan = await repository.findPlan(trx, job.key);
        const open = plan && plan.rto_due_at !== null && plan.rto_breach_recorded_at === null && (plan.verified_at === null || plan.verified_at > plan.rto_due_at);
        if (!open) {
          await this.deps.jobs.complete(jobs, job);
          return null;
        }
        if (plan.rto_due_at! > nowIso) {
          await this.deps.jobs.complete(jobs, job, { runAt: plan.rto_due_at! });
          return null;
        }
        if (!(await repository.claimRtoBreach(trx, plan.incident_id, nowIso))) {
          await this.deps.jobs.complete(jobs, job);
          return null;
        }
        await this.deps.jobs.completeWithEffect(jobs, job);
        return { plan, entries: await this.appendTimeline(trx, plan.incident_id, SYSTEM_ACTOR, [breachDraft(plan)]), nowIso };
      });
    } catch (error) {
      if (error instanceof JobLeaseLost) return false;
      throw error;
    }
    if (!breach) return false;
    this.announce(breach.entries);
    this.emitBreach(breach.plan, breach.nowIso);
    return true;
  }

  private emitBreach(plan: PlanRow, nowIso: string): void {
    this.deps.events.emit('recovery.rto_breached', {
      incident_id: plan.incident_id,
      rto_minutes: plan.rto_minutes!,
      source_service: plan.rto_source,
      due_at: plan.rto_due_at!,
      recorded_at: nowIso,
    });
  }

  /** Plans soaking since before the soak end was a job (a database made by earlier code). */
  async adoptStoredSoaks(): Promise<void> {
    const rows = await repository.soakingPlans(this.db);
    await this.deps.jobs.adopt(this.deps.jobs.db, SOAK_END_JOB, rows.map((r) => ({ key: r.incident_id, runAt: r.soak_due_at })));
  }

  /**
   * Runs the claimed soak-end job: re-evaluates the plan if it is still soaking and its soak is over.
   * The evaluation commits together with the job's completion, so a retried or taken-over job records
   * nothing twice. Returns whether an evaluation was recorded.
   */
  async finishSoak(job: ClaimedJob): Promise<boolean> {
    const plan = await repository.findPlan(this.db, job.key);
    const nowIso = this.now().toISOString();
    if (!plan || plan.status !== 'soaking' || plan.soak_due_at === null) {
      await this.deps.jobs.complete(this.deps.jobs.db, job);
      return false;
    }
    if (plan.soak_due_at > nowIso) {
      await this.deps.jobs.complete(this.deps.jobs.db, job, { runAt: plan.soak_due_at });
      return false;
    }
    try {
      await this.evaluateAndRecord(plan, SYSTEM_ACTOR, 'soak_end', job);
      return true;
    } catch (error) {
      if (error instanceof JobLeaseLost) return false;
      // Rolled back, verified or changed while the checks ran: look again now (a rollback or verification
      // has already cancelled the job, so this finds nothing to do).
      if (error instanceof AppError && error.code === 'conflict') {
        await this.deps.jobs.complete(this.deps.jobs.db, job, { runAt: this.now() });
        return false;
      }
      throw error;
    }
  }

  /**
   * Keeps the soak-end job in step with an evaluation's verdict, in its transaction: scheduled when a
   * soak starts, gone when the plan stops soaking, and (for the job's own evaluation) completed only
   * while its claim holds.
   */
  private async followSoak(trx: Executor, before: PlanRow, verdict: string, soakDueAt: string | null, job: ClaimedJob | undefined): Promise<void> {
    const jobs = JobQueue.in(trx);
    if (job) await this.deps.jobs.completeWithEffect(jobs, job);
    if (verdict === 'soak_started' || (job && verdict === 'still_passing')) {
      await this.deps.jobs.schedule(jobs, SOAK_END_JOB, before.incident_id, soakDueAt!);
    } else if (before.status === 'soaking' && verdict !== 'still_passing') {
      await this.deps.jobs.cancel(jobs, SOAK_END_JOB, before.incident_id);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private transaction<T>(work: (trx: Executor) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  private async planRow(incidentId: string, db: Executor = this.db): Promise<PlanRow> {
    const row = await repository.findPlan(db, incidentId);
    if (!row) {
      await this.deps.incidents.get(incidentId, db);
      throw new AppError('not_found', `incident ${incidentId} has no recovery plan; create one with POST /api/v1/incidents/${incidentId}/recovery`);
    }
    return row;
  }

  private async stepRows(incidentId: string, db: Executor = this.db): Promise<StepRow[]> {
    return repository.stepsOfPlan(db, incidentId);
  }

  private async stepRow(db: Executor, incidentId: string, stepId: string): Promise<StepRow> {
    const row = await repository.findStep(db, incidentId, stepId);
    if (!row) throw notFound('recovery step', stepId);
    return row;
  }

  private async bumpPlan(trx: Executor, plan: PlanRow): Promise<void> {
    const bumped = await repository.updatePlan(trx, plan.incident_id, plan.version, { updated_at: this.now().toISOString(), version: plan.version + 1 });
    if (!bumped) throw new AppError('version_conflict', `the recovery plan of ${plan.incident_id} was changed concurrently; retry`);
  }

  private appendTimeline(trx: Executor, incidentId: string, actor: string, drafts: TimelineDraft[]): Promise<TimelineEntry[]> {
    return this.deps.incidents.appendTimeline(incidentId, drafts, actor, trx);
  }

  /** Timeline entries written inside our transactions are announced only after the commit. */
  private announce(entries: readonly TimelineEntry[]): void {
    for (const entry of entries) this.deps.events.emit('timeline.appended', { entry });
  }
}

function breachDraft(plan: PlanRow): TimelineDraft {
  return {
    kind: 'recovery_rto_breached',
    summary: `RTO breached: not recovered within ${plan.rto_minutes} min of detection (RTO from ${plan.rto_source}, due ${plan.rto_due_at})`,
    data: { rto_minutes: plan.rto_minutes, source_service: plan.rto_source, due_at: plan.rto_due_at },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function evaluationFromRow(row: EvaluationRow): Evaluation {
  return {
    id: Number(row.id),
    incident_id: row.incident_id,
    epoch: row.epoch,
    phase: row.phase,
    evaluated_at: row.evaluated_at,
    passed: Boolean(row.passed),
    results: fromJson<CriterionResult[]>(row.results, []),
    actor: row.actor,
    outcome: row.outcome,
  };
}

export function rollbackFromRow(row: RollbackRow): RollbackRecord {
  return {
    id: Number(row.id),
    incident_id: row.incident_id,
    started_at: row.started_at,
    trigger: row.trigger,
    reason: row.reason,
    actor: row.actor,
    procedure_steps: fromJson<string[]>(row.procedure_steps, []),
    reverted_steps: fromJson<RollbackRecord['reverted_steps']>(row.reverted_steps, []),
    incident_status_before: row.incident_status_before,
    incident_moved_to: row.incident_moved_to,
  };
}
