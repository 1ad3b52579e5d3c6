import { Type, type Static } from 'typebox';

/** What kind of thing changed; the ranking weighs kinds (see `KIND_WEIGHTS` in domain.ts). */
export const CHANGE_KINDS = ['deploy', 'model', 'prompt', 'config', 'flag', 'infra', 'other'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Where a change was learnt from. */
export const CHANGE_SOURCES = ['api', 'pagerduty', 'github', 'argocd', 'telemetry'] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'a catalogue service id' });
const Version = Type.String({ minLength: 1, maxLength: 200 });

export const ChangeLinkSchema = Type.Object(
  { href: Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://' }), text: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
export type ChangeLink = Static<typeof ChangeLinkSchema>;

export const ChangeKindSchema = Type.Enum([...CHANGE_KINDS]);

/** The generic sender's body (`POST /api/v1/changes`). */
export const CreateChangeSchema = Type.Object(
  {
    service: Slug,
    kind: ChangeKindSchema,
    summary: Type.String({ minLength: 1, maxLength: 1024 }),
    version_from: Type.Optional(Version),
    version_to: Type.Optional(Version),
    author: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    links: Type.Optional(Type.Array(ChangeLinkSchema, { maxItems: 20 })),
    at: Type.Optional(Type.String({ format: 'date-time', description: 'when the change took effect; default now' })),
  },
  { additionalProperties: false },
);
export type CreateChangeInput = Static<typeof CreateChangeSchema>;

export const ChangeSchema = Type.Object({
  id: Type.String(),
  service: Type.String(),
  kind: ChangeKindSchema,
  summary: Type.String(),
  version_from: Nullable(Type.String()),
  version_to: Nullable(Type.String()),
  author: Nullable(Type.String()),
  links: Type.Array(ChangeLinkSchema),
  at: Type.String({ format: 'date-time' }),
  source: Type.Enum([...CHANGE_SOURCES]),
  /** What changed within the service: a repository and environment, an Argo CD application, a telemetry series. */
  target: Nullable(Type.String()),
  integration_id: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.String({ format: 'date-time' }),
});
export type Change = Static<typeof ChangeSchema>;

export const ListChangesQuerySchema = Type.Object(
  {
    service: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50 })),
    kind: Type.Optional(Type.Array(ChangeKindSchema, { maxItems: 7 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListChangesQuery = Static<typeof ListChangesQuerySchema>;

export const ChangePageSchema = Type.Object({ items: Type.Array(ChangeSchema), next_cursor: Nullable(Type.String()) });

// ---------------------------------------------------------------------------------------------
// Suspects

export const SuspectSchema = Type.Object({
  rank: Type.Integer({ minimum: 1 }),
  score: Type.Number({ description: 'time × distance × kind, between 0 and 1' }),
  change: ChangeSchema,
  parts: Type.Object({
    minutes_before_detection: Type.Number(),
    time: Type.Number({ description: `0.5 ^ (minutes before detection / half-life)` }),
    distance: Type.Integer({ description: '0: a service of the incident; 1: a service it depends on; 2: a dependency of a dependency' }),
    via: Type.Array(Type.String(), { description: 'the dependency path from an incident service to the changed one' }),
    proximity: Type.Number(),
    kind: Type.Number(),
  }),
  reason: Type.String(),
  /** Other incidents detected within the window after this change on its service or the services depending on it. */
  followed_by: Type.Object({ count: Type.Integer(), incidents: Type.Array(Type.Object({ id: Type.String(), detected_at: Type.String(), services: Type.Array(Type.String()) })) }),
});
export type Suspect = Static<typeof SuspectSchema>;

export const SuspectsResponseSchema = Type.Object({
  incident_id: Type.String(),
  detected_at: Type.String(),
  window: Type.Object({ from: Type.String(), to: Type.String(), hours: Type.Number() }),
  services: Type.Array(Type.Object({ service: Type.String(), distance: Type.Integer(), via: Type.Array(Type.String()) })),
  scoring: Type.Object({ half_life_minutes: Type.Number(), proximity: Type.Record(Type.String(), Type.Number()), kinds: Type.Record(Type.String(), Type.Number()), formula: Type.String() }),
  considered: Type.Integer({ description: 'changes in the window on these services' }),
  items: Type.Array(SuspectSchema),
});
export type SuspectsResponse = Static<typeof SuspectsResponseSchema>;

export const SuspectsQuerySchema = Type.Object(
  {
    window_hours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 720, default: 24 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// PagerDuty Change Events (the contract is PagerDuty's: developer.pagerduty.com, "Send a Change Event")

export const PagerDutyChangeEventSchema = Type.Object(
  {
    routing_key: Type.String({ minLength: 1, maxLength: 64 }),
    payload: Type.Object(
      {
        summary: Type.String({ minLength: 1, maxLength: 1024 }),
        source: Type.Optional(Type.String({ maxLength: 255 })),
        timestamp: Type.Optional(Type.String({ format: 'date-time' })),
        custom_details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      { additionalProperties: false },
    ),
    links: Type.Optional(Type.Array(Type.Object({ href: Type.String({ minLength: 1, maxLength: 2048 }), text: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type PagerDutyChangeEvent = Static<typeof PagerDutyChangeEventSchema>;

export const PagerDutyAcceptedSchema = Type.Object({ status: Type.Literal('success'), message: Type.String() });
export const PagerDutyRejectedSchema = Type.Object({ status: Type.String(), message: Type.String(), errors: Type.Optional(Type.Array(Type.String())) });

// ---------------------------------------------------------------------------------------------
// GitHub `deployment_status` webhook (docs.github.com, "Webhook events and payloads"). GitHub adds
// fields over time, so only what Firebreak reads is checked and the rest is let through.

const GitHubUser = Type.Object({ login: Type.String() }, { additionalProperties: true });
export const GitHubDeploymentStatusSchema = Type.Object(
  {
    action: Type.Optional(Type.String()),
    deployment_status: Type.Object(
      {
        state: Type.String({ minLength: 1 }),
        environment: Type.Optional(Type.String()),
        description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        target_url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        log_url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        environment_url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        created_at: Type.String({ format: 'date-time' }),
        creator: Type.Optional(Type.Union([GitHubUser, Type.Null()])),
      },
      { additionalProperties: true },
    ),
    deployment: Type.Object(
      {
        id: Type.Integer(),
        sha: Type.String({ minLength: 1 }),
        ref: Type.String(),
        environment: Type.String(),
        description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        creator: Type.Optional(Type.Union([GitHubUser, Type.Null()])),
        url: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
    repository: Type.Object({ full_name: Type.String({ minLength: 1 }), html_url: Type.Optional(Type.String()) }, { additionalProperties: true }),
    sender: Type.Optional(GitHubUser),
  },
  { additionalProperties: true },
);
export type GitHubDeploymentStatus = Static<typeof GitHubDeploymentStatusSchema>;

// ---------------------------------------------------------------------------------------------
// Argo CD notifications: the body is whatever the user's template renders; README documents the
// template this schema reads.

export const ArgoCdNotificationSchema = Type.Object(
  {
    app: Type.String({ minLength: 1, maxLength: 253 }),
    revision: Type.String({ minLength: 1, maxLength: 200 }),
    phase: Type.Optional(Type.String({ maxLength: 50, description: 'operationState.phase; only Succeeded is recorded' })),
    project: Type.Optional(Type.String({ maxLength: 253 })),
    sync_status: Type.Optional(Type.String({ maxLength: 50 })),
    health_status: Type.Optional(Type.String({ maxLength: 50 })),
    finished_at: Type.Optional(Type.String({ format: 'date-time' })),
    initiated_by: Type.Optional(Type.String({ maxLength: 200 })),
    repo_url: Type.Optional(Type.String({ maxLength: 2048 })),
    url: Type.Optional(Type.String({ maxLength: 2048 })),
    service: Type.Optional(Slug),
  },
  { additionalProperties: false },
);
export type ArgoCdNotification = Static<typeof ArgoCdNotificationSchema>;

export const WebhookAcceptedSchema = Type.Object({
  status: Type.Enum(['recorded', 'duplicate', 'ignored']),
  reason: Type.Optional(Type.String()),
  change: Type.Optional(ChangeSchema),
});

export const WebhookSecretInputSchema = Type.Object(
  { secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200, description: 'your own secret; generated when absent' })) },
  { additionalProperties: false },
);
export const WebhookSecretSchema = Type.Object({ integration_id: Type.String(), secret: Type.String({ description: 'shown only once' }), created_at: Type.String() });
