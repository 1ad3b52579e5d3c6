import type { DialectMigration, MigrationSet } from '../storage/index.ts';
import type { ExecutionStatus, StepStatus } from './domain.ts';

export type PlanTables = {
  plans: {
    id: string;
    name: string;
    /** Sequence number of the newest version (1 → "1.0"). */
    current_seq: number;
    enabled: number;
    /** `file:<path>` or `api`: where the newest version came from. */
    source: string;
    created_at: string;
    updated_at: string;
    last_tested_at: string | null;
    /** JSON: the summary of the last dry run. */
    last_test: string | null;
  };
  plan_versions: {
    plan_id: string;
    seq: number;
    version: string;
    /** JSON of the definition as written; versions are never updated. */
    definition: string;
    created_at: string;
    created_by: string;
  };
  /** One row per (plan, incident) that a trigger started: the unique key makes it once, across servers. */
  plan_trigger_claims: { plan_id: string; incident_id: string; execution_id: string; claimed_at: string };
  plan_executions: {
    id: string;
    plan_id: string;
    plan_seq: number;
    plan_version: string;
    incident_id: string;
    status: ExecutionStatus;
    trigger: string;
    started_by: string;
    started_at: string;
    updated_at: string;
    finished_at: string | null;
    reason: string | null;
  };
  plan_step_runs: {
    id: string;
    execution_id: string;
    step_id: string;
    phase: 'main' | 'rollback';
    position: number;
    type: string;
    status: StepStatus;
    /** Attempts started so far. */
    attempt: number;
    /** ready: not before; waiting: the deadline (approval timeout, end of a wait). */
    due_at: string | null;
    lease_owner: string | null;
    lease_expires_at: string | null;
    started_at: string | null;
    finished_at: string | null;
    /** JSON, secrets redacted. */
    output: string | null;
    error: string | null;
    /** JSON: approval decisions, human decisions on interrupted steps, skip reasons. */
    decision: string | null;
    updated_at: string;
  };
};

export type PlanRow = PlanTables['plans'];
export type PlanVersionRow = PlanTables['plan_versions'];
export type ExecutionRow = PlanTables['plan_executions'];
export type StepRunRow = PlanTables['plan_step_runs'];

const createPlanTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('plans')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('current_seq', 'integer', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('last_tested_at', 'text')
      .addColumn('last_test', 'text')
      .execute();
    await db.schema
      .createTable('plan_versions')
      .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('plan_versions_pk', ['plan_id', 'seq'])
      .addUniqueConstraint('plan_versions_version_uq', ['plan_id', 'version'])
      .execute();
    await db.schema
      .createTable('plan_executions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('plan_id', 'text', (c) => c.notNull())
      .addColumn('plan_seq', 'integer', (c) => c.notNull())
      .addColumn('plan_version', 'text', (c) => c.notNull())
      .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('started_by', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('reason', 'text')
      .execute();
    await db.schema.createIndex('plan_executions_incident_idx').on('plan_executions').columns(['incident_id', 'started_at']).execute();
    await db.schema.createIndex('plan_executions_plan_idx').on('plan_executions').columns(['plan_id', 'started_at']).execute();
    await db.schema
      .createTable('plan_trigger_claims')
      .addColumn('plan_id', 'text', (c) => c.notNull())
      .addColumn('incident_id', 'text', (c) => c.notNull())
      .addColumn('execution_id', 'text', (c) => c.notNull())
      .addColumn('claimed_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('plan_trigger_claims_pk', ['plan_id', 'incident_id'])
      .execute();
    await db.schema
      .createTable('plan_step_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('execution_id', 'text', (c) => c.notNull().references('plan_executions.id').onDelete('cascade'))
      .addColumn('step_id', 'text', (c) => c.notNull())
      .addColumn('phase', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('due_at', 'text')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'text')
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('output', 'text')
      .addColumn('error', 'text')
      .addColumn('decision', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('plan_step_runs_step_uq', ['execution_id', 'step_id'])
      .execute();
    await db.schema.createIndex('plan_step_runs_due_idx').on('plan_step_runs').columns(['status', 'due_at']).execute();
    await db.schema.createIndex('plan_step_runs_lease_idx').on('plan_step_runs').columns(['status', 'lease_expires_at']).execute();
  },
});

export const planMigrations: MigrationSet = { '031_plans_core': createPlanTables };
