import { Type, type Static } from 'typebox';
import { SEVERITIES } from '../incidents/index.ts';
import { WEEKDAYS } from './rotation.ts';

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case identifier, immutable' });
const UserHandle = Type.String({ minLength: 1, maxLength: 200, description: 'a team member (team_members.user)' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
export const SeverityEnum = Type.Enum(SEVERITIES);

export const LayerSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    rotation: Type.Enum(['daily', 'weekly']),
    shift_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 1, description: 'days (daily) or weeks (weekly) per person' })),
    handoff_time: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'local HH:MM in the schedule time zone' }),
    handoff_day: Type.Optional(Type.Enum(WEEKDAYS, { description: 'weekly rotations: the handoff weekday (default monday)' })),
    start: Type.String({ format: 'date', description: 'local date of the first handoff' }),
    end: Type.Optional(Type.String({ format: 'date-time' })),
    users: Type.Array(UserHandle, { minItems: 1, maxItems: 200 }),
  },
  { additionalProperties: false },
);

export const CreateScheduleSchema = Type.Object(
  {
    id: Slug,
    team: Slug,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    time_zone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' }),
    layers: Type.Array(LayerSchema, { minItems: 1, maxItems: 20, description: 'later layers take precedence where they cover' }),
  },
  { additionalProperties: false },
);
export type CreateScheduleInput = Static<typeof CreateScheduleSchema>;

export const ReplaceScheduleSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    layers: Type.Optional(Type.Array(LayerSchema, { minItems: 1, maxItems: 20 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ReplaceScheduleInput = Static<typeof ReplaceScheduleSchema>;

export const OverrideSchema = Type.Object({
  id: Type.Integer(),
  schedule_id: Type.String(),
  user: Type.String(),
  starts_at: Type.String({ format: 'date-time' }),
  ends_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
export type Override = Static<typeof OverrideSchema>;

export const CreateOverrideSchema = Type.Object(
  { user: UserHandle, starts_at: Type.String({ format: 'date-time' }), ends_at: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);
export type CreateOverrideInput = Static<typeof CreateOverrideSchema>;

export const ScheduleSchema = Type.Object({
  id: Type.String(),
  team: Type.String(),
  name: Type.String(),
  time_zone: Type.String(),
  layers: Type.Array(LayerSchema),
  overrides: Type.Array(OverrideSchema),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
export type Schedule = Static<typeof ScheduleSchema>;

export const OnCallShiftSchema = Type.Object({
  user: Type.String(),
  source: Type.Enum(['override', 'layer']),
  via: Type.String({ description: 'layer name or override id' }),
  from: Type.String({ format: 'date-time' }),
  until: Nullable(Type.String({ format: 'date-time' })),
});

export const OnCallAnswerSchema = Type.Object({
  at: Type.String({ format: 'date-time' }),
  teams: Type.Array(
    Type.Object({
      team: Type.String(),
      schedules: Type.Array(Type.Object({ schedule: Type.String(), name: Type.String(), time_zone: Type.String(), on_call: Nullable(OnCallShiftSchema) })),
    }),
  ),
});
export type OnCallAnswer = Static<typeof OnCallAnswerSchema>;

export const OnCallQuerySchema = Type.Object(
  { at: Type.Optional(Type.String({ format: 'date-time', description: 'default: now' })), team: Type.Optional(Slug) },
  { additionalProperties: false },
);

export const ContactMethodSchema = Type.Object({
  id: Type.Integer(),
  user: Type.String(),
  channel_id: Type.String(),
  address: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});
export type ContactMethod = Static<typeof ContactMethodSchema>;

export const CreateContactMethodSchema = Type.Object(
  {
    channel_id: Slug,
    address: Type.Optional(Type.String({ format: 'email', maxLength: 320, description: 'required for e-mail channels' })),
  },
  { additionalProperties: false },
);
export type CreateContactMethodInput = Static<typeof CreateContactMethodSchema>;

export const NotificationRuleSchema = Type.Object({
  id: Type.Integer(),
  user: Type.String(),
  contact_method_id: Type.Integer(),
  min_severity: SeverityEnum,
  created_at: Type.String({ format: 'date-time' }),
});
export type NotificationRule = Static<typeof NotificationRuleSchema>;

export const CreateNotificationRuleSchema = Type.Object(
  { contact_method_id: Type.Integer({ minimum: 1 }), min_severity: SeverityEnum },
  { additionalProperties: false },
);

export const OnCallUserSchema = Type.Object({
  user: Type.String(),
  teams: Type.Array(Type.String()),
  contact_methods: Type.Array(ContactMethodSchema),
  notification_rules: Type.Array(NotificationRuleSchema),
});
export type OnCallUser = Static<typeof OnCallUserSchema>;

export const EscalationTargetSchema = Type.Union([
  Type.Object({ schedule: Slug }, { additionalProperties: false }),
  Type.Object({ user: UserHandle }, { additionalProperties: false }),
]);
export type EscalationTarget = Static<typeof EscalationTargetSchema>;

export const EscalationLevelSchema = Type.Object(
  {
    timeout_minutes: Type.Integer({ minimum: 1, maximum: 1440, description: 'escalate to the next level when nobody acknowledged within this' }),
    targets: Type.Array(EscalationTargetSchema, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type EscalationLevel = Static<typeof EscalationLevelSchema>;

export const CreatePolicySchema = Type.Object(
  {
    id: Slug,
    team: Slug,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    repeat: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, default: 0, description: 'times to run the levels again after the last one' })),
    levels: Type.Array(EscalationLevelSchema, { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: false },
);
export type CreatePolicyInput = Static<typeof CreatePolicySchema>;

export const ReplacePolicySchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    repeat: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    levels: Type.Optional(Type.Array(EscalationLevelSchema, { minItems: 1, maxItems: 10 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ReplacePolicyInput = Static<typeof ReplacePolicySchema>;

export const PolicySchema = Type.Object({
  id: Type.String(),
  team: Type.String(),
  name: Type.String(),
  repeat: Type.Integer(),
  levels: Type.Array(EscalationLevelSchema),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
export type Policy = Static<typeof PolicySchema>;

export const EscalationStateSchema = Type.Object({
  incident_id: Type.String(),
  policy_id: Type.String(),
  team: Type.String(),
  status: Type.Enum(['active', 'stopped', 'exhausted']),
  next_level: Type.Integer({ description: '0-based index of the level notified when due_at passes' }),
  cycle: Type.Integer(),
  repeat: Type.Integer(),
  due_at: Nullable(Type.String({ format: 'date-time' })),
  stopped_reason: Nullable(Type.String()),
  levels: Type.Array(EscalationLevelSchema),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type EscalationState = Static<typeof EscalationStateSchema>;

/** Named incident roles hold one person each; `responder` holds everyone brought in to help. */
export const INCIDENT_ROLES = ['commander', 'comms_lead', 'ops_lead', 'scribe', 'responder'] as const;
export type IncidentRole = (typeof INCIDENT_ROLES)[number];

export const IncidentRoleSchema = Type.Object({
  role: Type.Enum(INCIDENT_ROLES),
  user: Type.String(),
  assigned_by: Type.String(),
  assigned_at: Type.String({ format: 'date-time' }),
});
export type IncidentRoleAssignment = Static<typeof IncidentRoleSchema>;

export const AssignRoleSchema = Type.Object({ user: UserHandle }, { additionalProperties: false });
export const RoleParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }), role: Type.Enum(INCIDENT_ROLES) });
export const UnassignRoleQuerySchema = Type.Object({ user: Type.Optional(UserHandle) }, { additionalProperties: false });

export const PageSomeoneSchema = Type.Object(
  {
    users: Type.Array(UserHandle, { minItems: 1, maxItems: 20, uniqueItems: true }),
    message: Type.Optional(Type.String({ maxLength: 2000, description: 'why they are needed' })),
    add_as_responder: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type PageSomeoneInput = Static<typeof PageSomeoneSchema>;

export const PageOutcomeSchema = Type.Object({
  paged: Type.Array(Type.String(), { description: 'people with at least one contact method that will be tried' }),
  unreachable: Type.Array(Type.String(), { description: 'why someone could not be paged' }),
  notification_ids: Type.Array(Type.Integer()),
});

export const IncidentNotificationSchema = Type.Object({
  id: Type.Integer(),
  event: Type.String(),
  channel_id: Type.String(),
  recipient: Nullable(Type.String()),
  status: Type.String(),
  attempts: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  delivered_at: Nullable(Type.String({ format: 'date-time' })),
  last_error: Nullable(Type.String()),
});

export const IncidentRespondersSchema = Type.Object({
  incident_id: Type.String(),
  teams: Type.Array(Type.String(), { description: "the incident's team and its services' owner teams" }),
  on_call: Type.Array(
    Type.Object({ team: Type.String(), schedule: Type.String(), name: Type.String(), time_zone: Type.String(), on_call: Nullable(OnCallShiftSchema) }),
  ),
  escalation: Nullable(EscalationStateSchema),
  roles: Type.Array(IncidentRoleSchema),
  notifications: Type.Array(IncidentNotificationSchema, { description: 'who was notified how, newest first (at most 100)' }),
});
export type IncidentResponders = Static<typeof IncidentRespondersSchema>;
