import type { Insertable, Updateable } from 'kysely';
import { viewAs, type Executor } from '../storage/index.ts';
import type { ActionItemRow, EvaluationRow, PlanRow, PostmortemRow, RecoveryTables, RollbackRow, SignoffRow, StepRow, TemplateRow } from './schema.ts';

const tables = (executor: Executor) => viewAs<RecoveryTables>(executor);

/** Action items still to do; the others are done or dropped. */
export const OPEN_ACTION_ITEM_STATUSES = ['open', 'in_progress'];

// ---- step templates per tier ---------------------------------------------------------------------

export async function listTemplates(executor: Executor): Promise<TemplateRow[]> {
  return tables(executor).selectFrom('recovery_tier_templates').selectAll().orderBy('tier').execute();
}

export async function findTemplate(executor: Executor, tier: number): Promise<TemplateRow | undefined> {
  return tables(executor).selectFrom('recovery_tier_templates').selectAll().where('tier', '=', tier).executeTakeFirst();
}

export async function insertTemplate(executor: Executor, template: TemplateRow): Promise<void> {
  await tables(executor).insertInto('recovery_tier_templates').values(template).execute();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateTemplate(executor: Executor, tier: number, expectedVersion: number, changes: Updateable<TemplateRow>): Promise<boolean> {
  const result = await tables(executor).updateTable('recovery_tier_templates').set(changes).where('tier', '=', tier).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// ---- plans ---------------------------------------------------------------------------------------

export async function insertPlan(executor: Executor, plan: PlanRow): Promise<void> {
  await tables(executor).insertInto('recovery_plans').values(plan).execute();
}

export async function findPlan(executor: Executor, incidentId: string): Promise<PlanRow | undefined> {
  return tables(executor).selectFrom('recovery_plans').selectAll().where('incident_id', '=', incidentId).executeTakeFirst();
}

export async function planExists(executor: Executor, incidentId: string): Promise<boolean> {
  return (await tables(executor).selectFrom('recovery_plans').select('incident_id').where('incident_id', '=', incidentId).executeTakeFirst()) !== undefined;
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updatePlan(executor: Executor, incidentId: string, expectedVersion: number, changes: Updateable<PlanRow>): Promise<boolean> {
  const result = await tables(executor)
    .updateTable('recovery_plans')
    .set(changes)
    .where('incident_id', '=', incidentId)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The deadline and verification time of each of these incidents' plans (incidents without a plan are absent). */
export async function planDeadlines(executor: Executor, incidentIds: readonly string[]): Promise<Pick<PlanRow, 'incident_id' | 'rto_due_at' | 'verified_at'>[]> {
  if (incidentIds.length === 0) return [];
  return tables(executor).selectFrom('recovery_plans').select(['incident_id', 'rto_due_at', 'verified_at']).where('incident_id', 'in', incidentIds).execute();
}

/** Plans with an RTO deadline whose breach is not on record and that were not verified in time. */
export async function openRtoDeadlines(executor: Executor): Promise<{ incident_id: string; rto_due_at: string }[]> {
  const rows = await tables(executor)
    .selectFrom('recovery_plans')
    .select(['incident_id', 'rto_due_at'])
    .where('rto_due_at', 'is not', null)
    .where('rto_breach_recorded_at', 'is', null)
    .where((eb) => eb.or([eb('verified_at', 'is', null), eb('verified_at', '>', eb.ref('rto_due_at'))]))
    .execute();
  return rows.map((r) => ({ incident_id: r.incident_id, rto_due_at: r.rto_due_at! }));
}

/** Puts the breach on record unless it already is: true only for the one caller that flipped the null column. */
export async function claimRtoBreach(executor: Executor, incidentId: string, nowIso: string): Promise<boolean> {
  const result = await tables(executor)
    .updateTable('recovery_plans')
    .set({ rto_breach_recorded_at: nowIso })
    .where('incident_id', '=', incidentId)
    .where('rto_breach_recorded_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Every soaking plan with the end of its soak. */
export async function soakingPlans(executor: Executor): Promise<{ incident_id: string; soak_due_at: string }[]> {
  const rows = await tables(executor).selectFrom('recovery_plans').select(['incident_id', 'soak_due_at']).where('status', '=', 'soaking').where('soak_due_at', 'is not', null).execute();
  return rows.map((r) => ({ incident_id: r.incident_id, soak_due_at: r.soak_due_at! }));
}

// ---- steps ---------------------------------------------------------------------------------------

export async function insertSteps(executor: Executor, steps: readonly StepRow[]): Promise<void> {
  if (steps.length === 0) return;
  await tables(executor).insertInto('recovery_steps').values([...steps]).execute();
}

/** In plan order. */
export async function stepsOfPlan(executor: Executor, incidentId: string): Promise<StepRow[]> {
  return tables(executor).selectFrom('recovery_steps').selectAll().where('incident_id', '=', incidentId).orderBy('position').execute();
}

export async function findStep(executor: Executor, incidentId: string, stepId: string): Promise<StepRow | undefined> {
  return tables(executor).selectFrom('recovery_steps').selectAll().where('incident_id', '=', incidentId).where('step_id', '=', stepId).executeTakeFirst();
}

/** Changes a step; with `expectedStatus`, only while it still has that status (false when it had not). */
export async function updateStep(executor: Executor, incidentId: string, stepId: string, changes: Updateable<StepRow>, expectedStatus?: StepRow['status']): Promise<boolean> {
  let query = tables(executor).updateTable('recovery_steps').set(changes).where('incident_id', '=', incidentId).where('step_id', '=', stepId);
  if (expectedStatus !== undefined) query = query.where('status', '=', expectedStatus);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Every started or finished step of the plan back to pending, its times and people cleared. */
export async function resetStartedSteps(executor: Executor, incidentId: string): Promise<void> {
  await tables(executor)
    .updateTable('recovery_steps')
    .set({ status: 'pending', started_at: null, completed_at: null, started_by: null, completed_by: null })
    .where('incident_id', '=', incidentId)
    .where('status', '!=', 'pending')
    .execute();
}

// ---- sign-offs, verifications and rollbacks ------------------------------------------------------

export async function insertSignoff(executor: Executor, signoff: Insertable<RecoveryTables['recovery_signoffs']>): Promise<void> {
  await tables(executor).insertInto('recovery_signoffs').values(signoff).execute();
}

/** The sign-offs given since the plan's last rollback (its verification epoch), newest first. */
export async function signoffsOfEpoch(executor: Executor, incidentId: string, epoch: number): Promise<SignoffRow[]> {
  return tables(executor)
    .selectFrom('recovery_signoffs')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .where('epoch', '=', epoch)
    .orderBy('id', 'desc')
    .execute();
}

export async function insertEvaluation(executor: Executor, evaluation: Insertable<RecoveryTables['recovery_verifications']>): Promise<EvaluationRow> {
  return tables(executor).insertInto('recovery_verifications').values(evaluation).returningAll().executeTakeFirstOrThrow();
}

/** Oldest first. */
export async function evaluationsOfPlan(executor: Executor, incidentId: string): Promise<EvaluationRow[]> {
  return tables(executor).selectFrom('recovery_verifications').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute();
}

export async function lastEvaluation(executor: Executor, incidentId: string): Promise<EvaluationRow | undefined> {
  return tables(executor).selectFrom('recovery_verifications').selectAll().where('incident_id', '=', incidentId).orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function insertRollback(executor: Executor, rollback: Insertable<RecoveryTables['recovery_rollbacks']>): Promise<RollbackRow> {
  return tables(executor).insertInto('recovery_rollbacks').values(rollback).returningAll().executeTakeFirstOrThrow();
}

/** Oldest first. */
export async function rollbacksOfPlan(executor: Executor, incidentId: string): Promise<RollbackRow[]> {
  return tables(executor).selectFrom('recovery_rollbacks').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute();
}

export async function countRollbacks(executor: Executor, incidentId: string): Promise<number> {
  const row = await tables(executor)
    .selectFrom('recovery_rollbacks')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

// ---- postmortems ---------------------------------------------------------------------------------

export async function findPostmortem(executor: Executor, incidentId: string): Promise<PostmortemRow | undefined> {
  return tables(executor).selectFrom('postmortems').selectAll().where('incident_id', '=', incidentId).executeTakeFirst();
}

export async function insertPostmortem(executor: Executor, postmortem: PostmortemRow): Promise<void> {
  await tables(executor).insertInto('postmortems').values(postmortem).execute();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updatePostmortem(executor: Executor, incidentId: string, expectedVersion: number, changes: Updateable<PostmortemRow>): Promise<boolean> {
  const result = await tables(executor)
    .updateTable('postmortems')
    .set(changes)
    .where('incident_id', '=', incidentId)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// ---- action items --------------------------------------------------------------------------------

export async function insertActionItem(executor: Executor, item: Insertable<RecoveryTables['action_items']>): Promise<ActionItemRow> {
  return tables(executor).insertInto('action_items').values(item).returningAll().executeTakeFirstOrThrow();
}

export async function findActionItem(executor: Executor, id: number): Promise<ActionItemRow | undefined> {
  return tables(executor).selectFrom('action_items').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateActionItem(executor: Executor, id: number, expectedVersion: number, changes: Updateable<RecoveryTables['action_items']>): Promise<boolean> {
  const result = await tables(executor).updateTable('action_items').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface ActionItemFilter {
  status?: readonly string[];
  owner?: string;
  incident?: string;
  /** Only items overdue (open and due before `today`), or only items that are not. */
  overdue?: { overdue: boolean; today: string };
}

/** By due date, then id. */
export async function listActionItems(executor: Executor, filter: ActionItemFilter): Promise<ActionItemRow[]> {
  let query = tables(executor).selectFrom('action_items').selectAll();
  if (filter.status?.length) query = query.where('status', 'in', filter.status);
  if (filter.owner) query = query.where('owner', '=', filter.owner);
  if (filter.incident) query = query.where('incident_id', '=', filter.incident);
  if (filter.overdue) {
    const { today } = filter.overdue;
    query = filter.overdue.overdue
      ? query.where('status', 'in', OPEN_ACTION_ITEM_STATUSES).where('due_date', '<', today)
      : query.where((eb) => eb.or([eb('status', 'not in', OPEN_ACTION_ITEM_STATUSES), eb('due_date', '>=', today)]));
  }
  return query.orderBy('due_date').orderBy('id').execute();
}

/** The status of every action item of these incidents. */
export async function actionItemStatuses(executor: Executor, incidentIds: readonly string[]): Promise<Pick<ActionItemRow, 'incident_id' | 'status'>[]> {
  if (incidentIds.length === 0) return [];
  return tables(executor).selectFrom('action_items').select(['incident_id', 'status']).where('incident_id', 'in', incidentIds).execute();
}

/** Open items not yet notified as overdue. */
export async function unnotifiedOpenActionItems(executor: Executor): Promise<Pick<ActionItemRow, 'id' | 'due_date'>[]> {
  return tables(executor)
    .selectFrom('action_items')
    .select(['id', 'due_date'])
    .where('status', 'in', OPEN_ACTION_ITEM_STATUSES)
    .where('overdue_notified_at', 'is', null)
    .execute();
}

/** Marks an item notified as overdue for its due date `dueDate`: true only for the one caller that did. */
export async function claimOverdueNotice(executor: Executor, id: number, dueDate: string, nowIso: string): Promise<boolean> {
  const result = await tables(executor)
    .updateTable('action_items')
    .set({ overdue_notified_at: nowIso })
    .where('id', '=', id)
    .where('overdue_notified_at', 'is', null)
    .where('due_date', '=', dueDate)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
