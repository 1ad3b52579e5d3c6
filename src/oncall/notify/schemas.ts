import { Type, type Static } from 'typebox';
import { SEVERITIES } from '../../incidents/index.ts';

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case identifier, immutable' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

/** Events that have a template; capabilities call `notifications.notify({ event, … })` with one of these. */
export const NOTIFY_EVENTS = [
  'incident.created',
  'incident.acknowledged',
  'incident.escalated',
  'incident.status_changed',
  'incident.resolved',
  'postmortem.published',
  'recovery.rto_breached',
  'action_item.overdue',
  'message',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NotifyEventSchema = Type.Enum(NOTIFY_EVENTS);

export const CHANNEL_KINDS = ['webhook', 'slack', 'teams', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

const HttpUrl = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 });
const Email = Type.String({ format: 'email', maxLength: 320 });

const CommonChannelFields = {
  id: Slug,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  team: Type.Optional(Nullable(Slug)),
  events: Type.Optional(Type.Array(NotifyEventSchema, { uniqueItems: true, description: 'events this channel receives for its team (default: every event except `message`, which is only sent to named channels)' })),
  min_severity: Type.Optional(Type.Enum(SEVERITIES, { description: 'default low' })),
};

export const CreateChannelSchema = Type.Union([
  Type.Object(
    {
      ...CommonChannelFields,
      kind: Type.Literal('webhook'),
      url: HttpUrl,
      signing_secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200, description: 'HMAC-SHA256 key; generated and returned once when omitted' })),
    },
    { additionalProperties: false },
  ),
  Type.Object({ ...CommonChannelFields, kind: Type.Literal('slack'), url: HttpUrl }, { additionalProperties: false }),
  Type.Object({ ...CommonChannelFields, kind: Type.Literal('teams'), url: HttpUrl }, { additionalProperties: false }),
  Type.Object(
    {
      ...CommonChannelFields,
      kind: Type.Literal('email'),
      smtp: Type.Object(
        {
          host: Type.String({ minLength: 1, maxLength: 255 }),
          port: Type.Integer({ minimum: 1, maximum: 65535 }),
          secure: Type.Optional(Type.Boolean({ description: 'TLS from the start (port 465); default false' })),
          require_tls: Type.Optional(Type.Boolean({ description: 'refuse to send without STARTTLS; default false' })),
          username: Type.Optional(Type.String({ maxLength: 255 })),
          password: Type.Optional(Type.String({ maxLength: 1000 })),
        },
        { additionalProperties: false },
      ),
      from: Email,
      to: Type.Optional(Type.Array(Email, { maxItems: 100, description: 'recipients for team notifications; people get their own address' })),
    },
    { additionalProperties: false },
  ),
]);
export type CreateChannelInput = Static<typeof CreateChannelSchema>;

export const PatchChannelSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    team: Type.Optional(Nullable(Slug)),
    events: Type.Optional(Type.Array(NotifyEventSchema, { uniqueItems: true })),
    min_severity: Type.Optional(Type.Enum(SEVERITIES)),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchChannelInput = Static<typeof PatchChannelSchema>;

export const ChannelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Enum(CHANNEL_KINDS),
  team: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  min_severity: Type.String(),
  enabled: Type.Boolean(),
  settings: Type.Record(Type.String(), Type.Unknown(), { description: 'non-secret settings; secrets are stored encrypted and never returned' }),
  secrets_stored: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
export type Channel = Static<typeof ChannelSchema>;

export const CreatedChannelSchema = Type.Intersect([
  ChannelSchema,
  Type.Object({ signing_secret: Type.Optional(Type.String({ description: 'shown once: the generated HMAC key for this webhook' })) }),
]);

export const ChannelTestResultSchema = Type.Object({
  channel_id: Type.String(),
  ok: Type.Boolean(),
  detail: Type.String(),
  duration_ms: Type.Integer(),
});

export const TemplateSchema = Type.Object({
  event: Type.String(),
  title: Type.String(),
  text: Type.String(),
  html: Nullable(Type.String()),
  customized: Type.Boolean(),
  updated_by: Nullable(Type.String()),
  updated_at: Nullable(Type.String({ format: 'date-time' })),
  version: Type.Integer({ description: '0 for the built-in default' }),
});
export type Template = Static<typeof TemplateSchema>;

export const PutTemplateSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 0, description: 'version read (0 for the default); guards concurrent edits' })),
    title: Type.String({ minLength: 1, maxLength: 500 }),
    text: Type.String({ minLength: 1, maxLength: 10_000 }),
    html: Type.Optional(Nullable(Type.String({ maxLength: 50_000, description: 'HTML body for e-mail; values are HTML-escaped' }))),
  },
  { additionalProperties: false },
);
export type PutTemplateInput = Static<typeof PutTemplateSchema>;

export const OUTBOX_STATUSES = ['pending', 'sending', 'delivered', 'dead'] as const;

export const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  started_at: Type.String({ format: 'date-time' }),
  duration_ms: Type.Integer(),
  outcome: Type.Enum(['delivered', 'failed']),
  detail: Type.String(),
});

export const NotificationSchema = Type.Object({
  id: Type.Integer(),
  incident_id: Nullable(Type.String()),
  event: Type.String(),
  channel_id: Type.String(),
  recipient: Nullable(Type.String()),
  status: Type.Enum(OUTBOX_STATUSES),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  next_attempt_at: Type.String({ format: 'date-time' }),
  last_error: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  delivered_at: Nullable(Type.String({ format: 'date-time' })),
  title: Type.String(),
  attempt_log: Type.Optional(Type.Array(AttemptSchema)),
});
export type Notification = Static<typeof NotificationSchema>;

export const ListNotificationsQuerySchema = Type.Object(
  {
    incident_id: Type.Optional(Type.String({ maxLength: 64 })),
    channel_id: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Type.Enum(OUTBOX_STATUSES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
export type ListNotificationsQuery = Static<typeof ListNotificationsQuerySchema>;

export const SendNotificationSchema = Type.Object(
  {
    event: NotifyEventSchema,
    incident_id: Type.Optional(Type.String({ maxLength: 64 })),
    channel_ids: Type.Optional(Type.Array(Slug, { minItems: 1, maxItems: 50, uniqueItems: true })),
    team: Type.Optional(Slug),
    users: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50, uniqueItems: true })),
    context: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { description: 'extra template values, e.g. {"message":{"title":…,"text":…}}' })),
  },
  { additionalProperties: false },
);
export type SendNotificationInput = Static<typeof SendNotificationSchema>;

export const SentNotificationsSchema = Type.Object({ notification_ids: Type.Array(Type.Integer()) });
