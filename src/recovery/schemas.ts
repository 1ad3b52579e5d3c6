import { Type, type Static } from 'typebox';
import { CheckSpecSchema } from '../checks/index.ts';

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case identifier' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Instant = Type.String({ format: 'date-time' });
const Owner = Type.String({ minLength: 1, maxLength: 200, description: 'a team member in the catalogue or an API token name' });

/**
 * The shared check schema carries `default`s inside its union, which strict ajv refuses to compile
 * ("default is ignored"); the check runner applies the same defaults itself, so the body schema
 * drops them. The static type is unchanged.
 */
function withoutDefaults<T>(schema: T): T {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'default').map(([key, v]) => [key, strip(v)]));
  };
  return strip(schema) as T;
}
const CheckSpecBodySchema = withoutDefaults(CheckSpecSchema);

// ---- step templates per tier -------------------------------------------------------------------

export const TemplateStepSchema = Type.Object(
  {
    id: Slug,
    title: Type.String({ minLength: 1, maxLength: 500 }),
    depends_on: Type.Array(Slug, { maxItems: 100, uniqueItems: true, default: [] }),
    owner_role: Type.String({ minLength: 1, maxLength: 100, description: 'who usually does it, e.g. incident_commander' }),
    estimate_minutes: Type.Integer({ minimum: 1, maximum: 10_080 }),
  },
  { additionalProperties: false },
);
export type TemplateStep = Static<typeof TemplateStepSchema>;

export const PutTemplateSchema = Type.Object(
  {
    steps: Type.Array(TemplateStepSchema, { minItems: 1, maxItems: 200 }),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'the version you read; alternative to If-Match' })),
  },
  { additionalProperties: false },
);
export type PutTemplateInput = Static<typeof PutTemplateSchema>;

export const TemplateSchema = Type.Object({
  tier: Type.Integer(),
  steps: Type.Array(
    Type.Object({ id: Type.String(), title: Type.String(), depends_on: Type.Array(Type.String()), owner_role: Type.String(), estimate_minutes: Type.Integer() }),
  ),
  updated_at: Instant,
  updated_by: Type.String(),
  version: Type.Integer(),
});
export type Template = Static<typeof TemplateSchema>;

// ---- recovery plans ------------------------------------------------------------------------------

export const PlanStepInputSchema = Type.Object(
  {
    id: Slug,
    title: Type.String({ minLength: 1, maxLength: 500 }),
    depends_on: Type.Optional(Type.Array(Slug, { maxItems: 100, uniqueItems: true })),
    owner: Type.Optional(Owner),
    owner_role: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    estimate_minutes: Type.Integer({ minimum: 1, maximum: 10_080 }),
  },
  { additionalProperties: false },
);

export const CheckCriterionSchema = Type.Object(
  { id: Slug, description: Type.Optional(Type.String({ maxLength: 500 })), check: CheckSpecBodySchema },
  { additionalProperties: false },
);
export const SignOffCriterionSchema = Type.Object(
  {
    id: Slug,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    sign_off: Type.Object(
      { by: Type.Optional(Owner), question: Type.String({ minLength: 1, maxLength: 500, description: 'what the person confirms' }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export const CriterionSchema = Type.Union([CheckCriterionSchema, SignOffCriterionSchema], {
  description: 'a real check (http, prometheus, no_firing_alerts, llm_stat) or a human sign-off',
});
export type Criterion = Static<typeof CriterionSchema>;

export const CreatePlanSchema = Type.Object(
  {
    steps: Type.Optional(
      Type.Array(PlanStepInputSchema, { minItems: 1, maxItems: 200, description: 'defaults to the step list of the most critical affected tier' }),
    ),
    owners: Type.Optional(Type.Record(Type.String(), Owner, { description: 'step id → owner, for the default steps' })),
    criteria: Type.Array(CriterionSchema, { minItems: 1, maxItems: 50, description: 'all must pass in one evaluation' }),
    soak_minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080, default: 0, description: 'criteria must still pass this long after' })),
    rollback: Type.Optional(
      Type.Object(
        {
          after_failed_verifications: Type.Optional(
            Nullable(Type.Integer({ minimum: 1, maximum: 100, description: 'roll back automatically after this many failed evaluations in a row' })),
          ),
          steps: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 50, description: 'the rollback procedure' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreatePlanInput = Static<typeof CreatePlanSchema>;

export const StepActionSchema = Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
export const PatchStepSchema = Type.Object(
  {
    owner: Type.Optional(Nullable(Owner)),
    estimate_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_080 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchStepInput = Static<typeof PatchStepSchema>;

export const SignOffSchema = Type.Object(
  { criterion: Slug, note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

export const RollbackSchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000, description: 'why recovery is being rolled back' }) },
  { additionalProperties: false },
);

export const DataLossSchema = Type.Object(
  {
    last_good_data_at: Type.Optional(Type.String({ format: 'date-time', description: 'newest data known to be intact' })),
    lost_until: Type.Optional(Type.String({ format: 'date-time', description: 'when data stopped being written safely; defaults to detection' })),
    data_loss_minutes: Type.Optional(Type.Number({ minimum: 0, description: 'a measured loss window, when measured directly' })),
    measure_with_prometheus: Type.Optional(
      Type.Object(
        {
          query: Type.String({ minLength: 1, maxLength: 4000, description: 'PromQL giving the loss window, e.g. time() - last_replicated_write_timestamp_seconds' }),
          unit: Type.Enum(['seconds', 'minutes'], { description: 'unit of the query result' }),
          url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'defaults to FIREBREAK_PROMETHEUS_URL' })),
        },
        { additionalProperties: false, description: 'let a check measure the window: the largest series value is taken' },
      ),
    ),
    source: Type.Optional(Type.String({ maxLength: 200, description: 'who or what measured it (a check, a restore log); defaults to you' })),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type DataLossInput = Static<typeof DataLossSchema>;

const StepViewSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  depends_on: Type.Array(Type.String()),
  owner: Nullable(Type.String()),
  owner_role: Nullable(Type.String()),
  estimate_minutes: Type.Integer(),
  status: Type.String(),
  started_at: Nullable(Instant),
  completed_at: Nullable(Instant),
  projected_start_at: Nullable(Instant),
  projected_finish_at: Nullable(Instant),
});

const RtoViewSchema = Type.Object({
  tracked: Type.Boolean(),
  objective_minutes: Nullable(Type.Integer()),
  source_service: Nullable(Type.String()),
  note: Type.String(),
  clock_started_at: Instant,
  due_at: Nullable(Instant),
  elapsed_seconds: Type.Number(),
  remaining_seconds: Nullable(Type.Number()),
  breached: Type.Boolean(),
  breach_recorded_at: Nullable(Instant),
});

export const PlanSchema = Type.Object({
  incident_id: Type.String(),
  status: Type.String({ description: 'in_progress, soaking (passed once, waiting out the soak) or verified' }),
  tier: Nullable(Type.Integer()),
  objectives: Type.Unknown({ description: 'RTO, RPO, SLO target, data integrity and tier, each with the service it came from' }),
  rto: RtoViewSchema,
  steps: Type.Array(StepViewSchema),
  critical_path: Type.Array(Type.String()),
  projected_completion_at: Nullable(Instant),
  projected_rto_breach: Nullable(Type.Boolean()),
  verification: Type.Object({
    criteria: Type.Array(Type.Unknown()),
    soak_minutes: Type.Integer(),
    soak_started_at: Nullable(Instant),
    soak_due_at: Nullable(Instant),
    verified_at: Nullable(Instant),
    consecutive_failures: Type.Integer(),
    epoch: Type.Integer(),
    last_evaluation: Type.Unknown(),
  }),
  rollback: Type.Object({ after_failed_verifications: Nullable(Type.Integer()), steps: Type.Array(Type.String()), count: Type.Integer() }),
  data_loss: Type.Unknown(),
  created_by: Type.String(),
  created_at: Instant,
  updated_at: Instant,
  version: Type.Integer(),
});

export const EvaluationSchema = Type.Object({
  id: Type.Integer(),
  incident_id: Type.String(),
  epoch: Type.Integer(),
  phase: Type.String(),
  evaluated_at: Instant,
  passed: Type.Boolean(),
  results: Type.Array(Type.Unknown()),
  actor: Type.String(),
  outcome: Type.String(),
});

export const RollbackRecordSchema = Type.Object({
  id: Type.Integer(),
  incident_id: Type.String(),
  started_at: Instant,
  trigger: Type.String(),
  reason: Type.String(),
  actor: Type.String(),
  procedure_steps: Type.Array(Type.String()),
  reverted_steps: Type.Array(Type.Unknown()),
  incident_status_before: Type.String(),
  incident_moved_to: Nullable(Type.String()),
});

export const ReportSchema = Type.Unknown({ description: 'recovery report: duration, RTO/RPO met or missed, verification evidence, rollbacks' });

// ---- postmortems and action items ----------------------------------------------------------------

export const POSTMORTEM_STATUSES = ['draft', 'in_review', 'published'] as const;
export type PostmortemStatus = (typeof POSTMORTEM_STATUSES)[number];

export const CreatePostmortemSchema = Type.Object(
  {
    summary: Type.Optional(Type.String({ maxLength: 20_000 })),
    what_went_well: Type.Optional(Type.String({ maxLength: 20_000 })),
    what_went_badly: Type.Optional(Type.String({ maxLength: 20_000 })),
  },
  { additionalProperties: false },
);
export const PatchPostmortemSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    summary: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
    what_went_well: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
    what_went_badly: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchPostmortemInput = Static<typeof PatchPostmortemSchema>;

export const PostmortemTransitionSchema = Type.Object(
  {
    to: Type.Enum(POSTMORTEM_STATUSES),
    reason: Type.Optional(
      Type.String({ minLength: 1, maxLength: 4000, description: 'why publishing without a root cause or without action items is right' }),
    ),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const PostmortemSchema = Type.Object({
  incident_id: Type.String(),
  status: Type.String(),
  summary: Nullable(Type.String()),
  what_went_well: Nullable(Type.String()),
  what_went_badly: Nullable(Type.String()),
  publish_reason: Nullable(Type.String()),
  created_by: Type.String(),
  created_at: Instant,
  updated_at: Instant,
  review_requested_at: Nullable(Instant),
  published_at: Nullable(Instant),
  published_by: Nullable(Type.String()),
  version: Type.Integer(),
  document: Type.Unknown({ description: 'the assembled postmortem (frozen when published)' }),
});

export const ACTION_ITEM_STATUSES = ['open', 'in_progress', 'done', 'wont_do'] as const;
export const ACTION_ITEM_PRIORITIES = ['p1', 'p2', 'p3', 'p4'] as const;

const DueDate = Type.String({ format: 'date', description: 'YYYY-MM-DD; overdue from the next UTC day' });

export const CreateActionItemSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    owner: Owner,
    priority: Type.Enum(ACTION_ITEM_PRIORITIES),
    due_date: DueDate,
    link: Type.Optional(Type.String({ format: 'uri', maxLength: 2000, description: 'ticket or pull request' })),
  },
  { additionalProperties: false },
);
export type CreateActionItemInput = Static<typeof CreateActionItemSchema>;

export const PatchActionItemSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    owner: Type.Optional(Owner),
    priority: Type.Optional(Type.Enum(ACTION_ITEM_PRIORITIES)),
    due_date: Type.Optional(DueDate),
    status: Type.Optional(Type.Enum(ACTION_ITEM_STATUSES)),
    link: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2000 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchActionItemInput = Static<typeof PatchActionItemSchema>;

export const ActionItemSchema = Type.Object({
  id: Type.Integer(),
  incident_id: Type.String(),
  title: Type.String(),
  owner: Type.String(),
  priority: Type.String(),
  due_date: Type.String(),
  status: Type.String(),
  link: Nullable(Type.String()),
  overdue: Type.Boolean(),
  created_by: Type.String(),
  created_at: Instant,
  updated_at: Instant,
  completed_at: Nullable(Instant),
  version: Type.Integer(),
});
export type ActionItem = Static<typeof ActionItemSchema>;

export const ListActionItemsQuerySchema = Type.Object(
  {
    status: Type.Optional(Type.Array(Type.Enum(ACTION_ITEM_STATUSES))),
    owner: Type.Optional(Type.String({ maxLength: 200 })),
    incident: Type.Optional(Type.String({ maxLength: 64 })),
    overdue: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ListActionItemsQuery = Static<typeof ListActionItemsQuerySchema>;

export const ReliabilityQuerySchema = Type.Object(
  { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);
