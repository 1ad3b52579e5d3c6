import { Type, type Static } from 'typebox';
import { EXECUTION_STATUSES, STEP_STATUSES } from './domain.ts';

/** Response shapes of the plans API. Definitions are described by GET /api/v1/plans/schema.json. */

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const DefinitionSchema = Type.Record(Type.String(), Type.Unknown(), { description: 'the plan as written; see /api/v1/plans/schema.json' });
const Problem = Type.Object({ field: Type.String(), message: Type.String(), code: Type.Optional(Type.String({ description: 'egress_denied when the egress policy refuses the URL' })) });

export const PlanSummarySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  version: Type.String({ description: 'the newest version' }),
  version_count: Type.Integer(),
  enabled: Type.Boolean(),
  source: Type.String({ description: 'api, or file:<path> for plans loaded from the configuration directory' }),
  step_count: Type.Integer(),
  trigger_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  last_tested_at: Nullable(Type.String({ format: 'date-time' })),
  last_test: Nullable(Type.Object({ version: Type.String(), problem_count: Type.Integer(), recommendations: Type.Array(Type.String()) })),
  /** Problems that depend on the environment (missing secrets), found when the plan was loaded or read. */
  problems: Type.Array(Problem),
});
export type PlanSummary = Static<typeof PlanSummarySchema>;

export const PlanDetailSchema = Type.Object({ ...PlanSummarySchema.properties, definition: DefinitionSchema });
export type PlanDetail = Static<typeof PlanDetailSchema>;

export const PlanVersionSchema = Type.Object({
  plan_id: Type.String(),
  version: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
  definition: DefinitionSchema,
});
export type PlanVersion = Static<typeof PlanVersionSchema>;

export const ValidationReportSchema = Type.Object({ valid: Type.Boolean(), problems: Type.Array(Problem) });

export const StepRunSchema = Type.Object({
  step_id: Type.String(),
  phase: Type.Enum(['main', 'rollback']),
  type: Type.String(),
  status: Type.Enum(STEP_STATUSES),
  attempt: Type.Integer(),
  due_at: Nullable(Type.String()),
  started_at: Nullable(Type.String()),
  finished_at: Nullable(Type.String()),
  output: Type.Unknown({ description: 'what the step observed or sent (secrets redacted)' }),
  error: Nullable(Type.String()),
  decision: Type.Unknown({ description: 'approval decision, human decision, or why it was skipped/cancelled' }),
});
export type StepRun = Static<typeof StepRunSchema>;

export const ExecutionSchema = Type.Object({
  id: Type.String(),
  plan_id: Type.String(),
  plan_version: Type.String(),
  incident_id: Type.String(),
  status: Type.Enum(EXECUTION_STATUSES),
  trigger: Type.String({ description: 'manual, incident.created or incident.updated' }),
  started_by: Type.String(),
  started_at: Type.String(),
  updated_at: Type.String(),
  finished_at: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  waiting_for: Type.Array(
    Type.Object({ step_id: Type.String(), kind: Type.Enum(['approval', 'decision']), detail: Type.String() }),
    { description: 'approvals and human decisions this execution is waiting on' },
  ),
  steps: Type.Array(StepRunSchema),
});
export type Execution = Static<typeof ExecutionSchema>;

export const DryRunReportSchema = Type.Object({
  plan_id: Type.String(),
  version: Type.String(),
  tested_at: Type.String(),
  incident: Type.Record(Type.String(), Type.Unknown(), { description: 'the synthetic incident the plan ran against' }),
  steps: Type.Array(
    Type.Object({
      step_id: Type.String(),
      phase: Type.Enum(['main', 'rollback']),
      type: Type.String(),
      outcome: Type.Enum(['would_run', 'would_skip', 'would_fail', 'would_wait']),
      detail: Type.String(),
      preview: Type.Unknown({ description: 'exactly what would be sent (secrets redacted)' }),
    }),
  ),
  problems: Type.Array(Problem),
  recommendations: Type.Array(Type.String()),
});
export type DryRunReport = Static<typeof DryRunReportSchema>;

export const RunPlanSchema = Type.Object(
  {
    incident_id: Type.String({ minLength: 1, maxLength: 64 }),
    version: Type.Optional(Type.String({ pattern: '^1\\.[0-9]+$', description: 'default: the newest version' })),
  },
  { additionalProperties: false },
);
export const ApprovalDecisionSchema = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 4000 })) }, { additionalProperties: false });
export const DecideSchema = Type.Object(
  { action: Type.Enum(['retry', 'skip', 'fail'], { description: 'what to do with a step interrupted mid-flight' }), comment: Type.Optional(Type.String({ maxLength: 4000 })) },
  { additionalProperties: false },
);
export const DryRunRequestSchema = Type.Object(
  {
    version: Type.Optional(Type.String({ pattern: '^1\\.[0-9]+$' })),
    incident: Type.Optional(
      Type.Object(
        {
          title: Type.Optional(Type.String({ maxLength: 500 })),
          severity: Type.Optional(Type.Enum(['low', 'medium', 'high', 'critical'])),
          services: Type.Optional(Type.Array(Type.String(), { maxItems: 50 })),
          labels: Type.Optional(Type.Record(Type.String(), Type.String())),
        },
        { additionalProperties: false, description: 'overrides for the synthetic incident' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DryRunRequest = Static<typeof DryRunRequestSchema>;
