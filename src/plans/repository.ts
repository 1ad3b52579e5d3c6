import type { Updateable } from 'kysely';
import { PreparedQuery, viewAs, type Executor } from '../storage/index.ts';
import type { StepStatus } from './domain.ts';
import type { ExecutionRow, PlanRow, PlanTables, PlanVersionRow, StepRunRow } from './schema.ts';

const tables = (executor: Executor) => viewAs<PlanTables>(executor);

// ---- plans and their versions --------------------------------------------------------------------

export async function findPlan(executor: Executor, id: string): Promise<PlanRow | undefined> {
  return tables(executor).selectFrom('plans').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listPlans(executor: Executor): Promise<PlanRow[]> {
  return tables(executor).selectFrom('plans').selectAll().orderBy('id').execute();
}

/** The sequence number of the plan's newest version; undefined when there is no such plan. */
export async function currentSeqOfPlan(executor: Executor, id: string): Promise<number | undefined> {
  const row = await tables(executor).selectFrom('plans').select('current_seq').where('id', '=', id).executeTakeFirst();
  return row ? Number(row.current_seq) : undefined;
}

// Runs after every incident creation and update (triggers), so it is built and compiled once.
const enabledPlansQuery = new PreparedQuery<never, { id: string; current_seq: number }>((_slot, executor) =>
  tables(executor).selectFrom('plans').select(['id', 'current_seq']).where('enabled', '=', 1),
);

export async function enabledPlans(executor: Executor): Promise<{ id: string; current_seq: number }[]> {
  return enabledPlansQuery.execute(executor, {});
}

export async function insertPlan(executor: Executor, plan: PlanRow): Promise<void> {
  await tables(executor).insertInto('plans').values(plan).execute();
}

/** Moves a plan read at `expectedSeq` to its next version. */
export async function advancePlan(executor: Executor, id: string, expectedSeq: number, changes: Updateable<PlanRow>): Promise<void> {
  await tables(executor).updateTable('plans').set(changes).where('id', '=', id).where('current_seq', '=', expectedSeq).execute();
}

export async function recordPlanTest(executor: Executor, id: string, testedAt: string, lastTest: string): Promise<void> {
  await tables(executor).updateTable('plans').set({ last_tested_at: testedAt, last_test: lastTest }).where('id', '=', id).execute();
}

/** Versions are never updated: a (plan, seq) or (plan, version) already stored is a unique violation. */
export async function insertPlanVersion(executor: Executor, version: PlanVersionRow): Promise<void> {
  await tables(executor).insertInto('plan_versions').values(version).execute();
}

/** The JSON definition of one version. */
export async function versionDefinition(executor: Executor, planId: string, seq: number): Promise<string | undefined> {
  const row = await tables(executor).selectFrom('plan_versions').select('definition').where('plan_id', '=', planId).where('seq', '=', seq).executeTakeFirst();
  return row?.definition;
}

export async function versionsOfPlan(executor: Executor, planId: string): Promise<PlanVersionRow[]> {
  return tables(executor).selectFrom('plan_versions').selectAll().where('plan_id', '=', planId).orderBy('seq').execute();
}

/** The sequence number of a version by its label ("1.0"). */
export async function seqOfVersion(executor: Executor, planId: string, version: string): Promise<number | undefined> {
  const row = await tables(executor).selectFrom('plan_versions').select('seq').where('plan_id', '=', planId).where('version', '=', version).executeTakeFirst();
  return row ? Number(row.seq) : undefined;
}

// ---- trigger claims ------------------------------------------------------------------------------

export async function triggerClaimExists(executor: Executor, planId: string, incidentId: string): Promise<boolean> {
  return !!(await tables(executor).selectFrom('plan_trigger_claims').select('execution_id').where('plan_id', '=', planId).where('incident_id', '=', incidentId).executeTakeFirst());
}

/** Claims (plan, incident) for an execution; a second claim is a unique violation. */
export async function insertTriggerClaim(executor: Executor, claim: PlanTables['plan_trigger_claims']): Promise<void> {
  await tables(executor).insertInto('plan_trigger_claims').values(claim).execute();
}

// ---- executions ----------------------------------------------------------------------------------

export async function insertExecution(executor: Executor, execution: ExecutionRow): Promise<void> {
  await tables(executor).insertInto('plan_executions').values(execution).execute();
}

export async function findExecution(executor: Executor, id: string): Promise<ExecutionRow | undefined> {
  return tables(executor).selectFrom('plan_executions').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Locks an execution row for the rest of the transaction by writing it (the same on both databases:
 * a row lock on PostgreSQL, the write lock on SQLite); undefined when there is no such execution.
 */
export async function lockExecution(executor: Executor, id: string, now: string): Promise<ExecutionRow | undefined> {
  return tables(executor).updateTable('plan_executions').set({ updated_at: now }).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function updateExecution(executor: Executor, id: string, changes: Updateable<ExecutionRow>): Promise<void> {
  await tables(executor).updateTable('plan_executions').set(changes).where('id', '=', id).execute();
}

export async function executionsOfIncident(executor: Executor, incidentId: string): Promise<ExecutionRow[]> {
  return tables(executor).selectFrom('plan_executions').selectAll().where('incident_id', '=', incidentId).orderBy('started_at').orderBy('id').execute();
}

// ---- step runs -----------------------------------------------------------------------------------

export async function insertStepRuns(executor: Executor, rows: readonly StepRunRow[]): Promise<void> {
  await tables(executor).insertInto('plan_step_runs').values([...rows]).execute();
}

export async function findStepRun(executor: Executor, id: string): Promise<StepRunRow | undefined> {
  return tables(executor).selectFrom('plan_step_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function executionIdOfStepRun(executor: Executor, id: string): Promise<string | undefined> {
  const row = await tables(executor).selectFrom('plan_step_runs').select('execution_id').where('id', '=', id).executeTakeFirst();
  return row?.execution_id;
}

/** An execution's step runs, main phase before rollback, in plan order. */
export async function stepRunsOfExecution(executor: Executor, executionId: string): Promise<StepRunRow[]> {
  return tables(executor).selectFrom('plan_step_runs').selectAll().where('execution_id', '=', executionId).orderBy('phase').orderBy('position').execute();
}

/** The step runs of several executions, in the order of stepRunsOfExecution within each. */
export async function stepRunsOfExecutions(executor: Executor, executionIds: readonly string[]): Promise<StepRunRow[]> {
  if (executionIds.length === 0) return [];
  return tables(executor).selectFrom('plan_step_runs').selectAll().where('execution_id', 'in', [...executionIds]).orderBy('phase').orderBy('position').execute();
}

/** Changes a step run; with `whileStatus`, only while it still has that status. True when the row changed. */
export async function updateStepRun(executor: Executor, id: string, changes: Updateable<StepRunRow>, whileStatus?: StepStatus): Promise<boolean> {
  let query = tables(executor).updateTable('plan_step_runs').set(changes).where('id', '=', id);
  if (whileStatus) query = query.where('status', '=', whileStatus);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Changes every step run of an execution that has one of `statuses`. */
export async function updateStepRunsOfExecution(executor: Executor, executionId: string, statuses: readonly StepStatus[], changes: Updateable<StepRunRow>): Promise<void> {
  await tables(executor).updateTable('plan_step_runs').set(changes).where('execution_id', '=', executionId).where('status', 'in', [...statuses]).execute();
}

/** Starts an attempt of a ready step run: running, owned by `owner`, attempt counted. */
export async function startStepRun(executor: Executor, id: string, owner: string, now: string): Promise<StepRunRow> {
  return tables(executor)
    .updateTable('plan_step_runs')
    .set((eb) => ({ status: 'running', lease_owner: owner, lease_expires_at: null, attempt: eb('attempt', '+', 1), started_at: now, updated_at: now }))
    .where('id', '=', id)
    .where('status', '=', 'ready')
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The step runs of one execution that need a job: runnable ones, and pauses that end at a time. */
export async function schedulableStepRuns(executor: Executor, executionId: string): Promise<Pick<StepRunRow, 'id' | 'status' | 'due_at'>[]> {
  return tables(executor)
    .selectFrom('plan_step_runs')
    .select(['id', 'status', 'due_at'])
    .where('execution_id', '=', executionId)
    .where((eb) => eb.or([eb('status', '=', 'ready'), eb.and([eb('status', '=', 'waiting'), eb('due_at', 'is not', null)])]))
    .execute();
}

/** Every step run, of any execution, that is runnable, in flight, or a pause that ends at a time. */
export async function unfinishedStepRuns(executor: Executor): Promise<Pick<StepRunRow, 'id' | 'status' | 'due_at' | 'lease_owner'>[]> {
  return tables(executor)
    .selectFrom('plan_step_runs')
    .select(['id', 'status', 'due_at', 'lease_owner'])
    .where((eb) => eb.or([eb('status', 'in', ['ready', 'running']), eb.and([eb('status', '=', 'waiting'), eb('due_at', 'is not', null)])]))
    .execute();
}
