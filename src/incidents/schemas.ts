import { Type, type Static } from 'typebox';
import { INCIDENT_STATUSES, SEVERITIES } from './lifecycle.ts';

export const INCIDENT_SORTS = ['urgency', 'newest', 'oldest'] as const;
export type IncidentSort = (typeof INCIDENT_SORTS)[number];

export const SeveritySchema = Type.Enum(SEVERITIES, { description: 'Incident severity' });
export const IncidentStatusSchema = Type.Enum(INCIDENT_STATUSES, { description: 'Lifecycle state' });

const Text = (max: number, description?: string) => Type.String({ maxLength: max, ...(description ? { description } : {}) });
const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case identifier' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const ImpactSchema = Type.Object(
  {
    users_affected: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
    revenue: Type.Optional(Nullable(Type.Number({ minimum: 0, description: 'estimated revenue impact' }))),
    description: Type.Optional(Nullable(Text(4000))),
  },
  { additionalProperties: false },
);
export type Impact = Static<typeof ImpactSchema>;

export const IncidentSchema = Type.Object({
  id: Type.String({ description: 'INC-YYYYMMDD-NNNN' }),
  title: Type.String(),
  description: Type.String(),
  severity: SeveritySchema,
  status: IncidentStatusSchema,
  impact: Type.Object({
    users_affected: Nullable(Type.Integer()),
    revenue: Nullable(Type.Number()),
    description: Nullable(Type.String()),
  }),
  services: Type.Array(Type.String()),
  team: Nullable(Type.String()),
  assignee: Nullable(Type.String()),
  detected_at: Type.String({ format: 'date-time' }),
  acknowledged_at: Nullable(Type.String({ format: 'date-time' })),
  acknowledged_by: Nullable(Type.String()),
  resolved_at: Nullable(Type.String({ format: 'date-time' })),
  actions_taken: Type.Array(Type.String()),
  root_cause: Nullable(Type.String()),
  resolution: Nullable(Type.String()),
  lessons_learned: Nullable(Type.String()),
  labels: Type.Record(Type.String(), Type.String()),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer({ description: 'optimistic-concurrency version; send it back as If-Match or `version`' }),
});
export type Incident = Static<typeof IncidentSchema>;

export const CreateIncidentSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    description: Type.Optional(Text(20_000)),
    severity: SeveritySchema,
    services: Type.Optional(Type.Array(Slug, { maxItems: 50, uniqueItems: true })),
    team: Type.Optional(Slug),
    assignee: Type.Optional(Text(200)),
    impact: Type.Optional(ImpactSchema),
    detected_at: Type.Optional(Type.String({ format: 'date-time', description: 'defaults to now' })),
    labels: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }))),
  },
  { additionalProperties: false },
);
export type CreateIncidentInput = Static<typeof CreateIncidentSchema>;

export const PatchIncidentSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'alternative to the If-Match header' })),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    description: Type.Optional(Text(20_000)),
    severity: Type.Optional(SeveritySchema),
    services: Type.Optional(Type.Array(Slug, { maxItems: 50, uniqueItems: true })),
    team: Type.Optional(Nullable(Slug)),
    assignee: Type.Optional(Nullable(Text(200))),
    impact: Type.Optional(ImpactSchema),
    actions_taken: Type.Optional(Type.Array(Text(2000), { maxItems: 500 })),
    root_cause: Type.Optional(Nullable(Text(20_000))),
    resolution: Type.Optional(Nullable(Text(20_000))),
    lessons_learned: Type.Optional(Nullable(Text(20_000))),
    labels: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchIncidentInput = Static<typeof PatchIncidentSchema>;

const VersionField = { version: Type.Optional(Type.Integer({ minimum: 1 })) };

export const AcknowledgeSchema = Type.Object({ ...VersionField }, { additionalProperties: false });
export const TransitionSchema = Type.Object(
  { to: IncidentStatusSchema, note: Type.Optional(Text(4000)), ...VersionField },
  { additionalProperties: false },
);
export type TransitionInput = Static<typeof TransitionSchema>;
export const ResolveSchema = Type.Object(
  {
    resolution: Type.String({ minLength: 1, maxLength: 20_000 }),
    root_cause: Type.Optional(Text(20_000)),
    ...VersionField,
  },
  { additionalProperties: false },
);
export type ResolveInput = Static<typeof ResolveSchema>;
export const NoteSchema = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 20_000 }) },
  { additionalProperties: false },
);

export const TimelineEntrySchema = Type.Object({
  id: Type.Integer(),
  incident_id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  kind: Type.String({ description: 'created, acknowledged, field_updated, status_changed, assigned, resolved, note, …' }),
  summary: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type TimelineEntry = Static<typeof TimelineEntrySchema>;

/** The filters shared by the list and its counts. */
const IncidentFilterFields = {
  status: Type.Optional(Type.Array(IncidentStatusSchema)),
  severity: Type.Optional(Type.Array(SeveritySchema)),
  service: Type.Optional(Type.String()),
  team: Type.Optional(Type.String()),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'case-insensitive search in id and title' })),
};

export const ListIncidentsQuerySchema = Type.Object(
  {
    ...IncidentFilterFields,
    active: Type.Optional(Type.Boolean()),
    acknowledged: Type.Optional(Type.Boolean({ description: 'only acknowledged (true) or unacknowledged (false) incidents' })),
    assignee: Type.Optional(Type.String({ maxLength: 200, description: 'only incidents assigned to this person' })),
    sort: Type.Optional(
      Type.Enum(INCIDENT_SORTS, {
        description:
          'urgency: unacknowledged first, then by severity (critical first), then oldest first; newest / oldest: by creation time. Defaults to urgency when active=true, else newest',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListIncidentsQuery = Static<typeof ListIncidentsQuerySchema>;

export const IncidentCountsQuerySchema = Type.Object(
  { ...IncidentFilterFields, assignee: Type.Optional(Type.String({ maxLength: 200, description: 'whose incidents `mine` counts; defaults to the caller' })) },
  { additionalProperties: false },
);
export type IncidentCountsQuery = Static<typeof IncidentCountsQuerySchema>;

export const IncidentCountsSchema = Type.Object({
  active: Type.Integer({ description: 'active incidents matching the filters' }),
  triggered: Type.Integer({ description: 'active and not acknowledged' }),
  acknowledged: Type.Integer({ description: 'active and acknowledged' }),
  mine: Type.Integer({ description: 'active and assigned to the caller' }),
  closed: Type.Integer({ description: 'resolved or post-incident' }),
  total: Type.Integer({ description: 'every incident matching the filters' }),
});
export type IncidentCounts = Static<typeof IncidentCountsSchema>;

export const BulkActionSchema = Type.Object(
  {
    action: Type.Enum(['acknowledge', 'resolve'] as const),
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 200, uniqueItems: true }),
    resolution: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000, description: 'required when action is resolve' })),
  },
  { additionalProperties: false },
);
export type BulkActionInput = Static<typeof BulkActionSchema>;

export const BulkResultSchema = Type.Object({
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      ok: Type.Boolean(),
      incident: Type.Optional(IncidentSchema),
      error: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() })),
    }),
  ),
});
export type BulkResult = Static<typeof BulkResultSchema>;

export const IncidentPageSchema = Type.Object({
  items: Type.Array(IncidentSchema),
  next_cursor: Nullable(Type.String()),
});

export const TimelineQuerySchema = Type.Object(
  {
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' })),
    kind: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
