import type { Generated, Selectable } from 'kysely';
import { toJson, withAutoIncrementId, type DialectMigration, type MigrationSet } from '../storage/index.ts';
import type { TemplateStep } from './schemas.ts';

export type RecoveryTables = {
  recovery_tier_templates: { tier: number; steps: string; updated_at: string; updated_by: string; version: number };
  recovery_plans: {
    incident_id: string;
    status: 'in_progress' | 'soaking' | 'verified';
    tier: number | null;
    objectives: string;
    rto_minutes: number | null;
    rto_source: string | null;
    rto_clock_started_at: string;
    rto_due_at: string | null;
    rto_breach_recorded_at: string | null;
    criteria: string;
    soak_minutes: number;
    soak_started_at: string | null;
    soak_due_at: string | null;
    /**
     * Unused since the soak end became a storage job (`recovery.soak_end`, whose lease replaced this
     * hand-written one). Left in place: nothing reads it, so no migration is needed to stop using it;
     * new plans store null.
     */
    soak_claimed_until: string | null;
    verified_at: string | null;
    consecutive_failures: number;
    verification_epoch: number;
    rollback_after_failures: number | null;
    rollback_steps: string;
    data_loss: string | null;
    created_by: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
  recovery_steps: {
    incident_id: string;
    step_id: string;
    position: number;
    title: string;
    depends_on: string;
    owner: string | null;
    owner_role: string | null;
    estimate_minutes: number;
    status: 'pending' | 'in_progress' | 'done';
    started_at: string | null;
    completed_at: string | null;
    started_by: string | null;
    completed_by: string | null;
  };
  recovery_signoffs: {
    id: Generated<number>;
    incident_id: string;
    criterion_id: string;
    epoch: number;
    signed_by: string;
    signed_at: string;
    note: string | null;
  };
  recovery_verifications: {
    id: Generated<number>;
    incident_id: string;
    epoch: number;
    phase: string;
    evaluated_at: string;
    passed: number;
    results: string;
    actor: string;
    outcome: string;
  };
  recovery_rollbacks: {
    id: Generated<number>;
    incident_id: string;
    started_at: string;
    trigger: string;
    reason: string;
    actor: string;
    procedure_steps: string;
    reverted_steps: string;
    incident_status_before: string;
    incident_moved_to: string | null;
  };
  postmortems: {
    incident_id: string;
    status: 'draft' | 'in_review' | 'published';
    summary: string | null;
    what_went_well: string | null;
    what_went_badly: string | null;
    publish_reason: string | null;
    document: string | null;
    created_by: string;
    created_at: string;
    updated_at: string;
    review_requested_at: string | null;
    published_at: string | null;
    published_by: string | null;
    version: number;
  };
  action_items: {
    id: Generated<number>;
    incident_id: string;
    title: string;
    owner: string;
    priority: string;
    due_date: string;
    status: string;
    link: string | null;
    created_by: string;
    created_at: string;
    updated_at: string;
    completed_at: string | null;
    overdue_notified_at: string | null;
    version: number;
  };
};

export type PlanRow = RecoveryTables['recovery_plans'];
export type StepRow = RecoveryTables['recovery_steps'];
export type EvaluationRow = Selectable<RecoveryTables['recovery_verifications']>;
export type SignoffRow = Selectable<RecoveryTables['recovery_signoffs']>;
export type RollbackRow = Selectable<RecoveryTables['recovery_rollbacks']>;
export type ActionItemRow = Selectable<RecoveryTables['action_items']>;
export type TemplateRow = RecoveryTables['recovery_tier_templates'];
export type PostmortemRow = RecoveryTables['postmortems'];

/**
 * The step lists a plan starts from, per service tier. Seeded once; admins edit them through
 * `PUT /api/v1/recovery/templates/{tier}`. Estimates are starting points teams are expected to tune.
 */
export const SEED_TEMPLATES: Record<number, TemplateStep[]> = {
  1: [
    { id: 'assess', title: 'Confirm the failure mode and blast radius', depends_on: [], owner_role: 'incident_commander', estimate_minutes: 5 },
    { id: 'restore', title: 'Restore service (fail over, roll back or scale out)', depends_on: ['assess'], owner_role: 'service_owner', estimate_minutes: 15 },
    { id: 'data-integrity', title: 'Check data integrity and replay lost writes', depends_on: ['restore'], owner_role: 'service_owner', estimate_minutes: 15 },
    { id: 'verify', title: 'Verify health checks and SLO are back', depends_on: ['restore'], owner_role: 'incident_commander', estimate_minutes: 10 },
    { id: 'communicate', title: 'Tell stakeholders service is restored', depends_on: ['verify', 'data-integrity'], owner_role: 'communications', estimate_minutes: 5 },
  ],
  2: [
    { id: 'assess', title: 'Confirm the failure mode and blast radius', depends_on: [], owner_role: 'incident_commander', estimate_minutes: 10 },
    { id: 'restore', title: 'Restore service (fail over, roll back or scale out)', depends_on: ['assess'], owner_role: 'service_owner', estimate_minutes: 30 },
    { id: 'data-integrity', title: 'Check data integrity', depends_on: ['restore'], owner_role: 'service_owner', estimate_minutes: 20 },
    { id: 'verify', title: 'Verify health checks and SLO are back', depends_on: ['restore'], owner_role: 'incident_commander', estimate_minutes: 15 },
    { id: 'communicate', title: 'Tell stakeholders service is restored', depends_on: ['verify', 'data-integrity'], owner_role: 'communications', estimate_minutes: 10 },
  ],
  3: [
    { id: 'restore', title: 'Restore service', depends_on: [], owner_role: 'service_owner', estimate_minutes: 60 },
    { id: 'verify', title: 'Verify health checks are back', depends_on: ['restore'], owner_role: 'service_owner', estimate_minutes: 15 },
    { id: 'communicate', title: 'Tell users service is restored', depends_on: ['verify'], owner_role: 'service_owner', estimate_minutes: 10 },
  ],
  4: [
    { id: 'restore', title: 'Restore service', depends_on: [], owner_role: 'service_owner', estimate_minutes: 240 },
    { id: 'verify', title: 'Verify it works', depends_on: ['restore'], owner_role: 'service_owner', estimate_minutes: 30 },
  ],
};

const createRecoveryTables: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('recovery_tier_templates')
      .addColumn('tier', 'integer', (c) => c.primaryKey())
      .addColumn('steps', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    const seededAt = new Date().toISOString();
    await db
      .insertInto('recovery_tier_templates')
      .values(Object.entries(SEED_TEMPLATES).map(([tier, steps]) => ({ tier: Number(tier), steps: toJson(steps), updated_at: seededAt, updated_by: 'firebreak', version: 1 })))
      .execute();

    await db.schema
      .createTable('recovery_plans')
      .addColumn('incident_id', 'text', (c) => c.primaryKey().references('incidents.id'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('tier', 'integer')
      .addColumn('objectives', 'text', (c) => c.notNull())
      .addColumn('rto_minutes', 'integer')
      .addColumn('rto_source', 'text')
      .addColumn('rto_clock_started_at', 'text', (c) => c.notNull())
      .addColumn('rto_due_at', 'text')
      .addColumn('rto_breach_recorded_at', 'text')
      .addColumn('criteria', 'text', (c) => c.notNull())
      .addColumn('soak_minutes', 'integer', (c) => c.notNull())
      .addColumn('soak_started_at', 'text')
      .addColumn('soak_due_at', 'text')
      .addColumn('soak_claimed_until', 'text')
      .addColumn('verified_at', 'text')
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
      .addColumn('verification_epoch', 'integer', (c) => c.notNull())
      .addColumn('rollback_after_failures', 'integer')
      .addColumn('rollback_steps', 'text', (c) => c.notNull())
      .addColumn('data_loss', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recovery_plans_rto_due_idx').on('recovery_plans').columns(['rto_due_at']).execute();
    await db.schema.createIndex('recovery_plans_soak_due_idx').on('recovery_plans').columns(['soak_due_at']).execute();

    await db.schema
      .createTable('recovery_steps')
      .addColumn('incident_id', 'text', (c) => c.notNull().references('recovery_plans.incident_id'))
      .addColumn('step_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('depends_on', 'text', (c) => c.notNull())
      .addColumn('owner', 'text')
      .addColumn('owner_role', 'text')
      .addColumn('estimate_minutes', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('completed_at', 'text')
      .addColumn('started_by', 'text')
      .addColumn('completed_by', 'text')
      .addPrimaryKeyConstraint('recovery_steps_pk', ['incident_id', 'step_id'])
      .execute();

    await withAutoIncrementId(db.schema.createTable('recovery_signoffs'), dialect)
      .addColumn('incident_id', 'text', (c) => c.notNull().references('recovery_plans.incident_id'))
      .addColumn('criterion_id', 'text', (c) => c.notNull())
      .addColumn('epoch', 'integer', (c) => c.notNull())
      .addColumn('signed_by', 'text', (c) => c.notNull())
      .addColumn('signed_at', 'text', (c) => c.notNull())
      .addColumn('note', 'text')
      .execute();
    await db.schema.createIndex('recovery_signoffs_plan_idx').on('recovery_signoffs').columns(['incident_id', 'epoch']).execute();

    await withAutoIncrementId(db.schema.createTable('recovery_verifications'), dialect)
      .addColumn('incident_id', 'text', (c) => c.notNull().references('recovery_plans.incident_id'))
      .addColumn('epoch', 'integer', (c) => c.notNull())
      .addColumn('phase', 'text', (c) => c.notNull())
      .addColumn('evaluated_at', 'text', (c) => c.notNull())
      .addColumn('passed', 'integer', (c) => c.notNull())
      .addColumn('results', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recovery_verifications_plan_idx').on('recovery_verifications').columns(['incident_id', 'id']).execute();

    await withAutoIncrementId(db.schema.createTable('recovery_rollbacks'), dialect)
      .addColumn('incident_id', 'text', (c) => c.notNull().references('recovery_plans.incident_id'))
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('procedure_steps', 'text', (c) => c.notNull())
      .addColumn('reverted_steps', 'text', (c) => c.notNull())
      .addColumn('incident_status_before', 'text', (c) => c.notNull())
      .addColumn('incident_moved_to', 'text')
      .execute();
    await db.schema.createIndex('recovery_rollbacks_plan_idx').on('recovery_rollbacks').columns(['incident_id', 'id']).execute();
  },
});

const createPostmortemTables: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('postmortems')
      .addColumn('incident_id', 'text', (c) => c.primaryKey().references('incidents.id'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('summary', 'text')
      .addColumn('what_went_well', 'text')
      .addColumn('what_went_badly', 'text')
      .addColumn('publish_reason', 'text')
      .addColumn('document', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('review_requested_at', 'text')
      .addColumn('published_at', 'text')
      .addColumn('published_by', 'text')
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await withAutoIncrementId(db.schema.createTable('action_items'), dialect)
      .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('due_date', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('link', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('completed_at', 'text')
      .addColumn('overdue_notified_at', 'text')
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('action_items_incident_idx').on('action_items').columns(['incident_id']).execute();
    await db.schema.createIndex('action_items_status_due_idx').on('action_items').columns(['status', 'due_date']).execute();
    await db.schema.createIndex('action_items_owner_idx').on('action_items').columns(['owner']).execute();
  },
});

export const recoveryMigrations: MigrationSet = {
  '050_recovery_plans': createRecoveryTables,
  '051_recovery_postmortems': createPostmortemTables,
};
