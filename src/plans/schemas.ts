import { Type, type Static, type TObject, type TProperties, type TSchema } from 'typebox';
import { CheckSpecSchema } from '../checks/index.ts';
import { INCIDENT_STATUSES, SEVERITIES } from '../incidents/index.ts';

/**
 * The plan file format. The same schemas validate YAML files, API bodies and CLI input, and are
 * published as JSON Schema at GET /api/v1/plans/schema.json.
 */

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'lower-case identifier' });
export const DURATION_PATTERN = '^[0-9]{1,6}(ms|s|m|h)$';
const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description: `${description}, e.g. 30s, 5m, 1h` });
const Template = (description: string, maxLength = 20_000) => Type.String({ maxLength, description: `${description} (mustache template)` });
const Severity = Type.Enum(SEVERITIES);

export const ConditionSchema = Type.Object(
  {
    field: Type.String({
      pattern: '^(incident|steps|plan)(\\.[A-Za-z0-9_-]+)+$',
      description: 'a dotted reference, e.g. incident.severity or steps.assess.output.open_alerts.count',
    }),
    equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
    not_equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
    in: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 })),
    contains: Type.Optional(Type.String({ description: 'the field (a list or text) contains this value' })),
    exists: Type.Optional(Type.Boolean()),
    severity_at_least: Type.Optional(Severity),
    gt: Type.Optional(Type.Number()),
    lt: Type.Optional(Type.Number()),
  },
  { additionalProperties: false, description: 'every operator given must hold' },
);
export type Condition = Static<typeof ConditionSchema>;

const FAILURE_POLICIES = ['stop', 'continue', 'rollback'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

/** Fields every step has, whatever its type. */
const commonStepFields = {
  id: Id,
  name: Type.Optional(Type.String({ maxLength: 200 })),
  needs: Type.Optional(Type.Array(Id, { uniqueItems: true, maxItems: 50, description: 'steps that must finish first' })),
  when: Type.Optional(Type.Array(ConditionSchema, { maxItems: 20, description: 'run only if all hold; otherwise skipped' })),
  timeout: Type.Optional(Duration('how long one attempt may take')),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'further attempts after a failure' })),
  backoff: Type.Optional(Duration('wait before the first retry; doubles for each further one')),
  on_failure: Type.Optional(Type.Enum(FAILURE_POLICIES, { description: 'stop the plan, continue with the rest, or run the rollback steps' })),
  idempotent: Type.Optional(
    Type.Boolean({ description: 'safe to repeat if the server died mid-step; otherwise a human decides (default: true for reads, false for http and communicate)' }),
  ),
};

const step = <T extends string, W extends TSchema>(type: T, withSchema: W, description: string) =>
  Type.Object({ ...commonStepFields, type: Type.Literal(type), with: withSchema }, { additionalProperties: false, description });

export const AssessWithSchema = Type.Object(
  { stats_window_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, description: 'default 15' })) },
  { additionalProperties: false },
);
export const CommunicateWithSchema = Type.Object(
  {
    message: Template('the message', 10_000),
    subject: Type.Optional(Template('a short subject', 500)),
    audience: Type.Optional(Type.String({ maxLength: 200, description: 'who it is for, e.g. stakeholders, responders' })),
    channels: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { uniqueItems: true, minItems: 1, description: 'channel names the notification sender knows' })),
    webhook_url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'also POST the message as JSON here' })),
  },
  { additionalProperties: false },
);
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const HttpWithSchema = Type.Object(
  {
    method: Type.Enum(HTTP_METHODS),
    url: Template('target URL', 4000),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,100}$' }), Template('header value', 4000))),
    body: Type.Optional(Template('request body', 100_000)),
    expect_status: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'default: any 2xx' })),
  },
  { additionalProperties: false },
);
export const APPROVAL_OUTCOMES = ['approve', 'reject'] as const;
export const ApprovalWithSchema = Type.Object(
  {
    prompt: Template('what the approver is asked', 4000),
    role: Type.Optional(Type.Enum(['responder', 'admin'], { description: 'minimum role of the approver (default: responder)' })),
    timeout: Type.Optional(Duration('how long to wait for a decision')),
    default: Type.Optional(Type.Enum(APPROVAL_OUTCOMES, { description: 'the outcome when the timeout passes (default: reject)' })),
  },
  { additionalProperties: false },
);
export const VerifyWithSchema = Type.Object(
  {
    checks: Type.Array(CheckSpecSchema, { minItems: 1, maxItems: 20 }),
    require: Type.Optional(Type.Enum(['all', 'any'], { description: 'default: all' })),
  },
  { additionalProperties: false },
);
export const WaitWithSchema = Type.Object({ duration: Duration('how long to wait') }, { additionalProperties: false });
export const SetStatusWithSchema = Type.Object(
  { status: Type.Enum(INCIDENT_STATUSES), note: Type.Optional(Template('a note for the timeline', 4000)) },
  { additionalProperties: false },
);

export const STEP_SCHEMAS = {
  assess: step('assess', Type.Optional(AssessWithSchema), 'snapshot impact, services, severity, open alerts and recent LLM stats'),
  communicate: step('communicate', CommunicateWithSchema, 'render a message and send it through the notification channels'),
  http: step('http', HttpWithSchema, 'an HTTP call: switch a gateway route, flip a feature flag, roll back a version'),
  approval: step('approval', ApprovalWithSchema, 'pause until someone with the role approves or rejects'),
  verify: step('verify', VerifyWithSchema, 'real checks with the observed values stored'),
  wait: step('wait', WaitWithSchema, 'pause for a while (durable: survives restarts)'),
  set_status: step('set_status', SetStatusWithSchema, 'move the incident along its lifecycle'),
} as const;
export type StepType = keyof typeof STEP_SCHEMAS;
export const STEP_TYPES = Object.keys(STEP_SCHEMAS) as StepType[];

const S = STEP_SCHEMAS;
export const StepSchema = Type.Union([S.assess, S.communicate, S.http, S.approval, S.verify, S.wait, S.set_status], { description: 'one step; `type` selects the shape of `with`' });
export type PlanStep = Static<typeof StepSchema>;

function withUndoes<P extends TProperties>(schema: TObject<P>) {
  return Type.Object(
    { ...schema.properties, undoes: Type.Optional(Type.Array(Id, { minItems: 1, description: 'run only if one of these steps succeeded' })) },
    { additionalProperties: false },
  );
}

const RollbackStepSchema = Type.Union(
  [withUndoes(S.assess), withUndoes(S.communicate), withUndoes(S.http), withUndoes(S.approval), withUndoes(S.verify), withUndoes(S.wait), withUndoes(S.set_status)],
  {
    description: 'a compensating step, run in order when a step with on_failure: rollback fails',
  },
);
export type RollbackStep = PlanStep & { undoes?: string[] };

export const TriggerSchema = Type.Object(
  {
    on: Type.Optional(Type.Array(Type.Enum(['created', 'updated']), { minItems: 1, uniqueItems: true, description: 'default: created' })),
    severity_at_least: Type.Optional(Severity),
    services: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'any affected service in this list' })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'incident (alert) labels that must all match' })),
  },
  { additionalProperties: false },
);
export type PlanTrigger = Static<typeof TriggerSchema>;

export const PlanDefinitionSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 20_000 })),
    enabled: Type.Optional(Type.Boolean({ description: 'default true; disabled plans never trigger (manual runs still work)' })),
    scope: Type.Optional(
      Type.Object(
        {
          services: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
          severities: Type.Optional(Type.Array(Severity, { minItems: 1, uniqueItems: true })),
        },
        { additionalProperties: false },
      ),
    ),
    triggers: Type.Optional(Type.Array(TriggerSchema, { maxItems: 20, description: 'any one matching starts the plan (once per incident)' })),
    roles: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100 }), responsibilities: Type.Optional(Type.String({ maxLength: 4000 })), team: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    communication: Type.Optional(
      Type.Object(
        {
          audiences: Type.Optional(Type.Array(Type.String({ maxLength: 200 }))),
          update_every: Type.Optional(Duration('how often stakeholders get an update')),
          notes: Type.Optional(Type.String({ maxLength: 4000 })),
        },
        { additionalProperties: false },
      ),
    ),
    escalation: Type.Optional(
      Type.Array(
        Type.Object(
          { after: Duration('escalate when unresolved this long'), to: Type.String({ minLength: 1, maxLength: 200 }), note: Type.Optional(Type.String({ maxLength: 2000 })) },
          { additionalProperties: false },
        ),
      ),
    ),
    resources: Type.Optional(
      Type.Array(
        Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }), url: Type.String({ format: 'uri' }) }, { additionalProperties: false }),
      ),
    ),
    steps: Type.Array(StepSchema, { minItems: 1, maxItems: 100 }),
    rollback: Type.Optional(Type.Array(RollbackStepSchema, { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type PlanDefinition = Static<typeof PlanDefinitionSchema>;

/** A step's shape before its type-specific schema is applied, so errors can name `steps[3].with.url` precisely. */
export const StepEnvelopeSchema = Type.Object({ id: Id, type: Type.Enum(STEP_TYPES) });

/** Per-type schemas of rollback steps (a step plus `undoes`). */
export const ROLLBACK_STEP_SCHEMAS = Object.fromEntries(
  Object.entries(STEP_SCHEMAS).map(([type, schema]) => [type, withUndoes(schema as TObject<TProperties>)]),
) as unknown as Record<StepType, TSchema>;

/** The plan without its steps, checked first; steps are then checked one by one against their type's schema. */
export const PlanEnvelopeSchema = Type.Object(
  {
    ...PlanDefinitionSchema.properties,
    steps: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 100 }),
    rollback: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 50 })),
  },
  { additionalProperties: false },
);

/** `with` of verify steps before each check is validated against its own kind's schema. */
export const VerifyEnvelopeWithSchema = Type.Object(
  {
    checks: Type.Array(Type.Object({ kind: Type.Enum(['http', 'prometheus', 'no_firing_alerts', 'llm_stat']) }), { minItems: 1, maxItems: 20 }),
    require: Type.Optional(Type.Enum(['all', 'any'])),
  },
  { additionalProperties: false },
);
