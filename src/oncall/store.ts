import { sql, type Generated, type Kysely, type Transaction } from 'kysely';
import { withAutoIncrementId, type DialectMigration, type MigrationSet } from '../storage/index.ts';

/**
 * Tables of the on-call capability: people's contact methods, schedules, escalation policies and their
 * running escalations (the timers), notification channels, templates, the outbox with its attempts, and
 * status pages with the public updates responders write.
 */
export type OnCallTables = {
  /** Who holds which role on an incident (commander, comms lead, …, or one of its responders). */
  oncall_incident_roles: {
    incident_id: string;
    role: string;
    user_name: string;
    assigned_by: string;
    assigned_at: string;
  };
  oncall_contact_methods: {
    id: Generated<number>;
    user_name: string;
    channel_id: string;
    /** E-mail address for e-mail channels; null for webhook-style channels (the channel is the destination). */
    address: string | null;
    created_at: string;
  };
  oncall_notification_rules: {
    id: Generated<number>;
    user_name: string;
    contact_method_id: number;
    min_severity: string;
    created_at: string;
  };
  oncall_schedules: {
    id: string;
    team: string;
    name: string;
    time_zone: string;
    /** JSON array of layers (see ScheduleLayer). */
    layers: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
  oncall_overrides: {
    id: Generated<number>;
    schedule_id: string;
    user_name: string;
    starts_at: string;
    ends_at: string;
    created_by: string;
    created_at: string;
  };
  oncall_escalation_policies: {
    id: string;
    team: string;
    name: string;
    repeat: number;
    /** JSON array of levels (see EscalationLevel). */
    levels: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
  /** One row per incident being escalated: the stored timer (`due_at`) that survives restarts. */
  oncall_escalations: {
    id: Generated<number>;
    incident_id: string;
    policy_id: string;
    team: string;
    /** The policy's levels and repeat count at the start, so editing a policy never changes a running escalation. */
    levels: string;
    repeat: number;
    next_level: number;
    cycle: number;
    status: string;
    due_at: string | null;
    stopped_reason: string | null;
    created_at: string;
    updated_at: string;
    version: number;
  };
  /** Timeline entries already turned into notifications and escalation starts or stops (exactly once, across processes). */
  oncall_dispatched_entries: { entry_id: number; dispatched_at: string };
  oncall_dispatch_cursor: { name: string; last_entry_id: number };
  notify_channels: {
    id: string;
    name: string;
    kind: string;
    team: string | null;
    events: string;
    min_severity: string;
    /** Non-secret settings as JSON (webhook URL, SMTP host and port, sender, recipients). */
    settings: string;
    /** Secrets as JSON sealed by SecretBox (HMAC key, Slack/Teams URL, SMTP password). */
    sealed_secrets: string;
    enabled: number;
    created_at: string;
    updated_at: string;
    version: number;
  };
  notify_templates: {
    event: string;
    title: string;
    text: string;
    html: string | null;
    updated_by: string;
    updated_at: string;
    version: number;
  };
  notify_outbox: {
    id: Generated<number>;
    incident_id: string | null;
    event: string;
    channel_id: string;
    recipient: string | null;
    address: string | null;
    /** The rendered message as JSON: what is sent was decided when the row was written. */
    message: string;
    status: string;
    attempts: number;
    max_attempts: number;
    next_attempt_at: string;
    lease_until: string | null;
    last_error: string | null;
    created_at: string;
    delivered_at: string | null;
  };
  notify_attempts: {
    id: Generated<number>;
    outbox_id: number;
    attempt: number;
    started_at: string;
    duration_ms: number;
    outcome: string;
    detail: string;
  };
  status_pages: {
    id: string;
    title: string;
    description: string;
    services: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
  status_public_updates: {
    id: Generated<number>;
    incident_id: string;
    title: string;
    status: string;
    message: string;
    /** JSON object of service id to component status; '{}' when the components follow the severity. */
    components: string;
    author: string;
    created_at: string;
  };
};

export type OnCallExecutor = Kysely<OnCallTables> | Transaction<OnCallTables>;

const schedulesAndPeople: DialectMigration = (dialect) => ({
  async up(db) {
    await withAutoIncrementId(db.schema.createTable('oncall_contact_methods'), dialect)
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('address', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oncall_contact_methods_user_idx').on('oncall_contact_methods').column('user_name').execute();
    await withAutoIncrementId(db.schema.createTable('oncall_notification_rules'), dialect)
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('contact_method_id', 'integer', (c) => c.notNull().references('oncall_contact_methods.id').onDelete('cascade'))
      .addColumn('min_severity', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oncall_rules_user_idx').on('oncall_notification_rules').column('user_name').execute();
    await db.schema
      .createTable('oncall_schedules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('time_zone', 'text', (c) => c.notNull())
      .addColumn('layers', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oncall_schedules_team_idx').on('oncall_schedules').column('team').execute();
    await withAutoIncrementId(db.schema.createTable('oncall_overrides'), dialect)
      .addColumn('schedule_id', 'text', (c) => c.notNull().references('oncall_schedules.id').onDelete('cascade'))
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('starts_at', 'text', (c) => c.notNull())
      .addColumn('ends_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oncall_overrides_schedule_idx').on('oncall_overrides').columns(['schedule_id', 'starts_at']).execute();
  },
});

const escalation: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('oncall_escalation_policies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('team', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('repeat', 'integer', (c) => c.notNull())
      .addColumn('levels', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await withAutoIncrementId(db.schema.createTable('oncall_escalations'), dialect)
      .addColumn('incident_id', 'text', (c) => c.notNull().unique())
      .addColumn('policy_id', 'text', (c) => c.notNull())
      .addColumn('team', 'text', (c) => c.notNull())
      .addColumn('levels', 'text', (c) => c.notNull())
      .addColumn('repeat', 'integer', (c) => c.notNull())
      .addColumn('next_level', 'integer', (c) => c.notNull())
      .addColumn('cycle', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('due_at', 'text')
      .addColumn('stopped_reason', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oncall_escalations_due_idx').on('oncall_escalations').columns(['status', 'due_at']).execute();
    await db.schema
      .createTable('oncall_dispatched_entries')
      .addColumn('entry_id', 'integer', (c) => c.primaryKey())
      .addColumn('dispatched_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('oncall_dispatch_cursor')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_entry_id', 'integer', (c) => c.notNull())
      .execute();
    // Start after the history that exists now: enabling on-call on a running installation must not
    // notify about, or escalate, incidents from before.
    const { rows } = await sql<{ max: number | null }>`select max(id) as max from timeline_entries`.execute(db);
    await sql`insert into oncall_dispatch_cursor (name, last_entry_id) values ('timeline', ${Number(rows[0]?.max ?? 0)})`.execute(db);
  },
});

const notifications: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('notify_channels')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('team', 'text')
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('min_severity', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('sealed_secrets', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('notify_templates')
      .addColumn('event', 'text', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('html', 'text')
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await withAutoIncrementId(db.schema.createTable('notify_outbox'), dialect)
      .addColumn('incident_id', 'text')
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('recipient', 'text')
      .addColumn('address', 'text')
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('lease_until', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('delivered_at', 'text')
      .execute();
    await db.schema.createIndex('notify_outbox_due_idx').on('notify_outbox').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('notify_outbox_incident_idx').on('notify_outbox').columns(['incident_id', 'id']).execute();
    await withAutoIncrementId(db.schema.createTable('notify_attempts'), dialect)
      .addColumn('outbox_id', 'integer', (c) => c.notNull().references('notify_outbox.id').onDelete('cascade'))
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('notify_attempts_outbox_idx').on('notify_attempts').columns(['outbox_id', 'attempt']).execute();
  },
});

const statusPages: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('status_pages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('services', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await withAutoIncrementId(db.schema.createTable('status_public_updates'), dialect)
      .addColumn('incident_id', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('status_public_updates_incident_idx').on('status_public_updates').columns(['incident_id', 'id']).execute();
  },
});

const incidentRoles: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('oncall_incident_roles')
      .addColumn('incident_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('assigned_by', 'text', (c) => c.notNull())
      .addColumn('assigned_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('oncall_incident_roles_pk', ['incident_id', 'role', 'user_name'])
      .execute();
  },
});

/** A public update may set each component's status itself, rather than leave it to the incident's severity. */
const updateComponents: DialectMigration = () => ({
  async up(db) {
    await db.schema.alterTable('status_public_updates').addColumn('components', 'text', (c) => c.notNull().defaultTo('{}')).execute();
  },
});

export const onCallMigrations: MigrationSet = {
  '060_oncall_schedules_people': schedulesAndPeople,
  '061_oncall_escalation': escalation,
  '062_oncall_notifications': notifications,
  '063_oncall_status_pages': statusPages,
  '068_oncall_incident_roles': incidentRoles,
  '069_oncall_update_components': updateComponents,
};
