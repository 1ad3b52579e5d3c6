import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case identifier' });

export const ALERT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const AlertSeveritySchema = Type.Enum(ALERT_SEVERITIES, { description: 'PagerDuty severities, lowest first' });

export const ALERT_STATUSES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const AlertStatusSchema = Type.Enum(ALERT_STATUSES);

export const ALERT_DECISIONS = ['opened_incident', 'grouped', 'attached', 'recorded', 'dropped', 'suppressed'] as const;
export type AlertDecision = (typeof ALERT_DECISIONS)[number];

/** Summaries are capped as PagerDuty caps them. */
export const MAX_SUMMARY_LENGTH = 1024;
/** Alert payloads above this are rejected (PagerDuty's own limit). */
export const MAX_ALERT_PAYLOAD_BYTES = 512 * 1024;
/** The Alertmanager webhook's default body limit (FIREBREAK_ALERTMANAGER_BODY_LIMIT_MB): a whole group is one request. */
export const DEFAULT_ALERTMANAGER_BODY_LIMIT = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Integrations

export const RateLimitSchema = Type.Object(
  {
    per_second: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'sustained events per second' }),
    burst: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'events accepted at once before throttling' }),
  },
  { additionalProperties: false },
);

export const CreateIntegrationSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    service: Slug,
    rate_limit: Type.Optional(RateLimitSchema),
  },
  { additionalProperties: false },
);
export type CreateIntegrationInput = Static<typeof CreateIntegrationSchema>;

export const IntegrationSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  service: Type.String(),
  key_hint: Type.String({ description: 'first characters of the routing key, to recognise it' }),
  rate_limit: Type.Object({ per_second: Type.Number(), burst: Type.Integer() }),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
});
export type Integration = Static<typeof IntegrationSchema>;

/** What an integration has received, computed from the alerts it delivered. */
export const IntegrationActivitySchema = Type.Object({
  alerts: Type.Integer({ description: 'alerts it has delivered' }),
  open_alerts: Type.Integer({ description: 'of them, not resolved' }),
  events: Type.Integer({ description: 'trigger events received: every repeat of a deduplicated alert counts' }),
  last_event_at: Nullable(Type.String({ format: 'date-time', description: 'when it last delivered an event; null: never' })),
});
export type IntegrationActivity = Static<typeof IntegrationActivitySchema>;

export const IntegrationDetailSchema = Type.Object({
  ...IntegrationSchema.properties,
  activity: IntegrationActivitySchema,
  endpoints: Type.Object(
    {
      events_v2: Type.String({ description: 'PagerDuty Events API v2 (routing_key in the body)' }),
      alertmanager: Type.String({ description: 'Alertmanager webhook (routing key as bearer token)' }),
      generic: Type.String({ description: 'generic JSON alerts (routing key as bearer token or ?key=)' }),
    },
    { description: 'where senders post, absolute when FIREBREAK_PUBLIC_URL is set, else paths on this server' },
  ),
});
export type IntegrationDetail = Static<typeof IntegrationDetailSchema>;

export const CreatedIntegrationSchema = Type.Object({
  ...IntegrationSchema.properties,
  routing_key: Type.String({ description: 'secret; shown only once. Use it as the Events API routing_key or the Alertmanager bearer token' }),
});
export type CreatedIntegration = Static<typeof CreatedIntegrationSchema>;

// ---------------------------------------------------------------------------------------------
// Alerts

export const LinkSchema = Type.Object(
  { href: Type.String({ minLength: 1, maxLength: 2048 }), text: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);

export const AlertSchema = Type.Object({
  id: Type.String(),
  dedup_key: Type.String(),
  integration_id: Nullable(Type.String()),
  format: Type.String({ description: 'events_v2, alertmanager, generic or internal' }),
  source: Type.String(),
  service: Type.String(),
  summary: Type.String(),
  severity: AlertSeveritySchema,
  status: AlertStatusSchema,
  labels: Type.Record(Type.String(), Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  links: Type.Array(Type.Object({ href: Type.String(), text: Type.Optional(Type.String()) })),
  first_seen_at: Type.String({ format: 'date-time' }),
  last_seen_at: Type.String({ format: 'date-time' }),
  signal_at: Type.String({ format: 'date-time', description: "the sender's timestamp of the first signal" }),
  acknowledged_at: Nullable(Type.String({ format: 'date-time' })),
  resolved_at: Nullable(Type.String({ format: 'date-time' })),
  occurrences: Type.Integer(),
  incident_id: Nullable(Type.String()),
  decision: Type.String({ description: 'opened_incident, grouped, attached, recorded, dropped or suppressed' }),
  rule: Type.String({ description: 'the routing rule that decided, or `default`' }),
  reason: Type.String({ description: 'why, in words' }),
  suppressed_until: Nullable(Type.String({ format: 'date-time' })),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Alert = Static<typeof AlertSchema>;

export const AlertWithRawSchema = Type.Object({ ...AlertSchema.properties, raw: Type.Unknown({ description: 'the latest payload as received' }) });

export const ListAlertsQuerySchema = Type.Object(
  {
    status: Type.Optional(Type.Array(AlertStatusSchema)),
    service: Type.Optional(Type.String()),
    incident_id: Type.Optional(Type.String()),
    severity: Type.Optional(Type.Array(AlertSeveritySchema)),
    integration_id: Type.Optional(Type.String()),
    source: Type.Optional(Type.String()),
    decision: Type.Optional(Type.Array(Type.Enum(ALERT_DECISIONS))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListAlertsQuery = Static<typeof ListAlertsQuerySchema>;

export const AlertPageSchema = Type.Object({ items: Type.Array(AlertSchema), next_cursor: Nullable(Type.String()) });

export const IncidentAlertSummarySchema = Type.Object({
  incident_id: Type.String(),
  alerts: Type.Integer(),
  open: Type.Integer({ description: 'firing or acknowledged' }),
  resolved: Type.Integer(),
  occurrences: Type.Integer({ description: 'triggers counted over all its alerts' }),
  first_seen_at: Nullable(Type.String()),
  last_seen_at: Nullable(Type.String()),
});
export type IncidentAlertSummary = Static<typeof IncidentAlertSummarySchema>;

// ---------------------------------------------------------------------------------------------
// PagerDuty Events API v2 (the contract is PagerDuty's: https://developer.pagerduty.com/api-reference/)

export const EventsV2PayloadSchema = Type.Object(
  {
    summary: Type.String({ minLength: 1, maxLength: MAX_SUMMARY_LENGTH }),
    source: Type.String({ minLength: 1, maxLength: 255 }),
    severity: AlertSeveritySchema,
    timestamp: Type.Optional(Type.String({ format: 'date-time' })),
    component: Type.Optional(Type.String({ maxLength: 255 })),
    group: Type.Optional(Type.String({ maxLength: 255 })),
    class: Type.Optional(Type.String({ maxLength: 255 })),
    custom_details: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const EventsV2Schema = Type.Object(
  {
    routing_key: Type.String({ minLength: 1, maxLength: 64 }),
    event_action: Type.Enum(['trigger', 'acknowledge', 'resolve']),
    dedup_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    payload: Type.Optional(EventsV2PayloadSchema),
    images: Type.Optional(
      Type.Array(
        Type.Object(
          { src: Type.String({ maxLength: 2048 }), href: Type.Optional(Type.String({ maxLength: 2048 })), alt: Type.Optional(Type.String({ maxLength: 1024 })) },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
    links: Type.Optional(Type.Array(LinkSchema, { maxItems: 50 })),
    client: Type.Optional(Type.String({ maxLength: 255 })),
    client_url: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type EventsV2Event = Static<typeof EventsV2Schema>;

export const EventsV2AcceptedSchema = Type.Object({ status: Type.Literal('success'), message: Type.String(), dedup_key: Type.String() });
export const EventsV2RejectedSchema = Type.Object({
  status: Type.String({ description: '`invalid event`, or `throttle event` with 429' }),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.String())),
});

// ---------------------------------------------------------------------------------------------
// Prometheus Alertmanager webhook, version 4. Extra fields are accepted: Alertmanager adds fields
// without bumping the version, and senders must work unchanged.

const StringMap = Type.Record(Type.String(), Type.String());

export const AlertmanagerAlertSchema = Type.Object({
  status: Type.Enum(['firing', 'resolved']),
  labels: StringMap,
  annotations: Type.Optional(StringMap),
  startsAt: Type.Optional(Type.String({ format: 'date-time' })),
  endsAt: Type.Optional(Type.String({ format: 'date-time' })),
  generatorURL: Type.Optional(Type.String({ maxLength: 4096 })),
  fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});
export type AlertmanagerAlert = Static<typeof AlertmanagerAlertSchema>;

export const AlertmanagerWebhookSchema = Type.Object({
  version: Type.Literal('4'),
  groupKey: Type.Optional(Type.String()),
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
  status: Type.Enum(['firing', 'resolved']),
  receiver: Type.Optional(Type.String()),
  groupLabels: Type.Optional(StringMap),
  commonLabels: Type.Optional(StringMap),
  commonAnnotations: Type.Optional(StringMap),
  externalURL: Type.Optional(Type.String()),
  alerts: Type.Array(AlertmanagerAlertSchema, { minItems: 1, maxItems: 50_000 }),
});
export type AlertmanagerWebhook = Static<typeof AlertmanagerWebhookSchema>;

export const RoutingKeyQuerySchema = Type.Object(
  { key: Type.Optional(Type.String({ maxLength: 64, description: 'routing key, when the sender cannot set a bearer token' })) },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Generic JSON alerts

export const GenericAlertSchema = Type.Object(
  {
    action: Type.Optional(Type.Enum(['trigger', 'acknowledge', 'resolve'], { default: 'trigger' })),
    dedup_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'generated from the content when absent' })),
    summary: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_SUMMARY_LENGTH, description: 'required to trigger' })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'required to trigger' })),
    severity: Type.Optional(AlertSeveritySchema),
    timestamp: Type.Optional(Type.String({ format: 'date-time' })),
    labels: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 2000 }))),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    links: Type.Optional(Type.Array(LinkSchema, { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type GenericAlertInput = Static<typeof GenericAlertSchema>;

export const IngestOutcomeSchema = Type.Object({
  alert_id: Type.String(),
  dedup_key: Type.String(),
  status: AlertStatusSchema,
  outcome: Type.String({ description: 'created, repeated, acknowledged, resolved or ignored (nothing to act on)' }),
  incident_id: Nullable(Type.String()),
  decision: Type.String(),
  rule: Type.String(),
  occurrences: Type.Integer(),
});
export type IngestOutcomeBody = Static<typeof IngestOutcomeSchema>;

export const AlertmanagerAcceptedSchema = Type.Object({ status: Type.Literal('success'), alerts: Type.Array(Type.Object({ fingerprint: Type.String(), ...IngestOutcomeSchema.properties })) });

export const AlertActionSchema = Type.Object({ note: Type.Optional(Type.String({ maxLength: 4000 })) }, { additionalProperties: false });

// ---------------------------------------------------------------------------------------------
// Routing rules

export const SeverityMapSchema = Type.Object(
  {
    info: Type.Optional(AlertSeveritySchema),
    warning: Type.Optional(AlertSeveritySchema),
    error: Type.Optional(AlertSeveritySchema),
    critical: Type.Optional(AlertSeveritySchema),
  },
  { additionalProperties: false },
);

export const RoutingRuleSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    match: Type.Optional(
      Type.Array(Type.String({ minLength: 3, maxLength: 1000 }), {
        maxItems: 50,
        description: 'Alertmanager-style matchers, all must hold: label="v", label!="v", label=~"re", label!~"re"',
      }),
    ),
    set_severity: Type.Optional(AlertSeveritySchema),
    map_severity: Type.Optional(SeverityMapSchema),
    set_service: Type.Optional(Slug),
    drop: Type.Optional(Type.Boolean({ description: 'record the alert and do nothing else' })),
    suppress: Type.Optional(
      Type.Object(
        {
          starts_at: Type.String({ format: 'date-time' }),
          ends_at: Type.String({ format: 'date-time' }),
          comment: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        { additionalProperties: false, description: 'a silence or maintenance window: matching alerts are recorded, not paged' },
      ),
    ),
    open_incident_at: Type.Optional(AlertSeveritySchema),
    attach_to_incident: Type.Optional(Type.String({ maxLength: 64 })),
    auto_resolve: Type.Optional(Type.Boolean({ description: 'resolve incidents this rule opens once all their alerts resolve' })),
    group_window_minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080 })),
  },
  { additionalProperties: false },
);
export type RoutingRule = Static<typeof RoutingRuleSchema>;

export const RoutingDefaultsSchema = Type.Object(
  {
    open_incident_at: Type.Optional(AlertSeveritySchema),
    group_window_minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080 })),
    group_by: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);

export const RoutingRulesDocumentSchema = Type.Object(
  {
    defaults: Type.Optional(RoutingDefaultsSchema),
    rules: Type.Optional(Type.Array(RoutingRuleSchema, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type RoutingRulesDocument = Static<typeof RoutingRulesDocumentSchema>;

export const PutRoutingRulesSchema = Type.Object(
  {
    yaml: Type.String({ maxLength: 1_000_000, description: 'the rule set as YAML (the format of routing-rules.yaml)' }),
    version: Type.Optional(Type.Integer({ minimum: 0, description: 'the version this edit is based on (or If-Match)' })),
  },
  { additionalProperties: false },
);

export const RoutingRuleSetSchema = Type.Object({
  version: Type.Integer(),
  source: Type.String({ description: 'file, api or builtin' }),
  created_at: Nullable(Type.String()),
  created_by: Type.String(),
  yaml: Type.String(),
  document: RoutingRulesDocumentSchema,
});
export type RoutingRuleSet = Static<typeof RoutingRuleSetSchema>;

export const RoutingTestSchema = Type.Object(
  {
    service: Slug,
    severity: AlertSeveritySchema,
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Correlation

export const LINK_KINDS = ['related', 'duplicate_of', 'caused_by'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

export const CreateLinkSchema = Type.Object(
  {
    to: Type.String({ maxLength: 64, description: 'the other incident' }),
    kind: Type.Enum(LINK_KINDS, { description: 'this incident is related to / a duplicate of / caused by `to`' }),
    note: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type CreateLinkInput = Static<typeof CreateLinkSchema>;

export const IncidentLinkSchema = Type.Object({
  id: Type.Integer(),
  from_incident: Type.String(),
  to_incident: Type.String(),
  kind: Type.Enum(LINK_KINDS),
  note: Type.String(),
  created_by: Type.String(),
  created_at: Type.String(),
});
export type IncidentLink = Static<typeof IncidentLinkSchema>;

export const EVIDENCE_KINDS = ['time_proximity', 'shared_service', 'service_dependency', 'shared_root_cause', 'shared_change', 'label_similarity', 'linked'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

export const RelatedCandidateSchema = Type.Object({
  incident_id: Type.String(),
  title: Type.String(),
  status: Type.String(),
  severity: Type.String(),
  services: Type.Array(Type.String()),
  detected_at: Type.String(),
  score: Type.Number({ minimum: 0, maximum: 1 }),
  evidence: Type.Array(Type.Enum(EVIDENCE_KINDS)),
  reason: Type.String(),
  links: Type.Array(Type.String({ description: 'link kinds already recorded between the two, e.g. `caused_by`' })),
});
export type RelatedCandidate = Static<typeof RelatedCandidateSchema>;

export const RelatedResponseSchema = Type.Object({
  incident_id: Type.String(),
  candidates: Type.Array(RelatedCandidateSchema),
  links: Type.Array(IncidentLinkSchema),
});
