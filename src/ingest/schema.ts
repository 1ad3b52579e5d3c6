import { sql, type Generated, type Kysely, type Transaction } from 'kysely';
import { fromJson, withAutoIncrementId, type DialectMigration, type MigrationSet } from '../storage/index.ts';
import type { Alert, AlertSeverity, AlertStatus, Integration, IncidentLink, LinkKind } from './schemas.ts';

export type IngestTables = {
  integrations: {
    id: string;
    name: string;
    service: string;
    key_hash: string;
    key_hint: string;
    rate_per_second: number;
    burst: number;
    created_at: string;
    created_by: string;
    updated_at: string;
  };
  alerts: {
    id: string;
    /** The integration id for external alerts, `internal` for Firebreak's own detectors. */
    dedup_scope: string;
    dedup_key: string;
    integration_id: string | null;
    /** The wire format it arrived in: events_v2, alertmanager, generic, internal. */
    format: string;
    source: string;
    service: string;
    summary: string;
    severity: AlertSeverity;
    status: AlertStatus;
    labels: string;
    details: string;
    links: string;
    first_seen_at: string;
    last_seen_at: string;
    /** The sender's own timestamp of the first signal (payload.timestamp, startsAt). */
    signal_at: string;
    acknowledged_at: string | null;
    resolved_at: string | null;
    occurrences: number;
    raw: string;
    incident_id: string | null;
    decision: string;
    rule: string;
    reason: string;
    suppressed_until: string | null;
    created_at: string;
    updated_at: string;
  };
  routing_rule_sets: {
    version: number;
    yaml: string;
    rules: string;
    source: string;
    created_at: string;
    created_by: string;
  };
  /** Active grouping: which incident new alerts for a group key join, and when that group last saw a new alert. */
  alert_groups: { group_key: string; incident_id: string; last_alert_at: string };
  /** Incidents opened by an alert, and whether the rule that opened them lets alerts resolve them. */
  alert_incidents: { incident_id: string; opened_by_alert: string; rule: string; auto_resolve: number; created_at: string };
  /** Pre-computed correlation evidence: one row per (evidence key, incident), looked up by key and hour bucket. */
  correlation_index: { key: string; incident_id: string; bucket: number; at: string };
  incident_links: {
    id: Generated<number>;
    from_incident: string;
    to_incident: string;
    kind: LinkKind;
    note: string;
    created_by: string;
    created_at: string;
  };
};

export type IngestExecutor = Kysely<IngestTables> | Transaction<IngestTables>;
export type AlertRow = IngestTables['alerts'];

const createIngestTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('integrations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('key_hint', 'text', (c) => c.notNull())
      .addColumn('rate_per_second', 'double precision', (c) => c.notNull())
      .addColumn('burst', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('alerts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('dedup_scope', 'text', (c) => c.notNull())
      .addColumn('dedup_key', 'text', (c) => c.notNull())
      .addColumn('integration_id', 'text')
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('links', 'text', (c) => c.notNull())
      .addColumn('first_seen_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('signal_at', 'text', (c) => c.notNull())
      .addColumn('acknowledged_at', 'text')
      .addColumn('resolved_at', 'text')
      .addColumn('occurrences', 'integer', (c) => c.notNull())
      .addColumn('raw', 'text', (c) => c.notNull())
      .addColumn('incident_id', 'text')
      .addColumn('decision', 'text', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('suppressed_until', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    // One open alert per dedup key; once resolved, the same key may fire again as a new alert (as in PagerDuty).
    await sql`CREATE UNIQUE INDEX alerts_open_dedup_idx ON alerts (dedup_scope, dedup_key) WHERE status <> 'resolved'`.execute(db);
    await db.schema.createIndex('alerts_dedup_idx').on('alerts').columns(['dedup_scope', 'dedup_key', 'created_at']).execute();
    await db.schema.createIndex('alerts_incident_idx').on('alerts').columns(['incident_id', 'status']).execute();
    await db.schema.createIndex('alerts_service_idx').on('alerts').columns(['service', 'status']).execute();
    await db.schema.createIndex('alerts_created_idx').on('alerts').columns(['created_at', 'id']).execute();
    await db.schema
      .createTable('alert_groups')
      .addColumn('group_key', 'text', (c) => c.primaryKey())
      .addColumn('incident_id', 'text', (c) => c.notNull())
      .addColumn('last_alert_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('alert_incidents')
      .addColumn('incident_id', 'text', (c) => c.primaryKey())
      .addColumn('opened_by_alert', 'text', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('auto_resolve', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
});

const createRoutingRuleTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('routing_rule_sets')
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('yaml', 'text', (c) => c.notNull())
      .addColumn('rules', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
  },
});

const createCorrelationTables: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('correlation_index')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('incident_id', 'text', (c) => c.notNull())
      .addColumn('bucket', 'integer', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('correlation_index_pk', ['key', 'incident_id'])
      .execute();
    await db.schema.createIndex('correlation_key_bucket_idx').on('correlation_index').columns(['key', 'bucket']).execute();
    await db.schema.createIndex('correlation_incident_idx').on('correlation_index').column('incident_id').execute();
    await withAutoIncrementId(db.schema.createTable('incident_links'), dialect)
      .addColumn('from_incident', 'text', (c) => c.notNull().references('incidents.id'))
      .addColumn('to_incident', 'text', (c) => c.notNull().references('incidents.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('note', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('incident_links_unique', ['from_incident', 'to_incident', 'kind'])
      .execute();
    await db.schema.createIndex('incident_links_to_idx').on('incident_links').column('to_incident').execute();
  },
});

export const ingestMigrations: MigrationSet = {
  '010_ingest_integrations_alerts': createIngestTables,
  '011_ingest_routing_rules': createRoutingRuleTables,
  '012_ingest_correlation': createCorrelationTables,
};

export function integrationFromRow(row: IngestTables['integrations']): Integration {
  return {
    id: row.id,
    name: row.name,
    service: row.service,
    key_hint: row.key_hint,
    rate_limit: { per_second: Number(row.rate_per_second), burst: Number(row.burst) },
    created_at: row.created_at,
    created_by: row.created_by,
  };
}

/** The columns of `alerts`, in the order a PreparedInsert takes each row's values. */
export const ALERT_COLUMNS = [
  'id', 'dedup_scope', 'dedup_key', 'integration_id', 'format', 'source', 'service', 'summary', 'severity', 'status', 'labels', 'details', 'links',
  'first_seen_at', 'last_seen_at', 'signal_at', 'acknowledged_at', 'resolved_at', 'occurrences', 'raw', 'incident_id', 'decision', 'rule', 'reason',
  'suppressed_until', 'created_at', 'updated_at',
] as const satisfies readonly (keyof AlertRow)[];

/** An alert just written, from its row and the values its JSON columns were made of (not parsed back). */
export function alertFromWritten(row: AlertRow, labels: Record<string, string>, details: Record<string, unknown>, links: { href: string; text?: string }[]): Alert {
  return { ...alertFromRow({ ...row, labels: '', details: '', links: '' }), labels, details, links };
}

export function alertFromRow(row: AlertRow): Alert {
  return {
    id: row.id,
    dedup_key: row.dedup_key,
    integration_id: row.integration_id,
    format: row.format,
    source: row.source,
    service: row.service,
    summary: row.summary,
    severity: row.severity,
    status: row.status,
    labels: fromJson<Record<string, string>>(row.labels, {}),
    details: fromJson<Record<string, unknown>>(row.details, {}),
    links: fromJson<{ href: string; text?: string }[]>(row.links, []),
    first_seen_at: row.first_seen_at,
    last_seen_at: row.last_seen_at,
    signal_at: row.signal_at,
    acknowledged_at: row.acknowledged_at,
    resolved_at: row.resolved_at,
    occurrences: Number(row.occurrences),
    incident_id: row.incident_id,
    decision: row.decision,
    rule: row.rule,
    reason: row.reason,
    suppressed_until: row.suppressed_until,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function linkFromRow(row: Omit<IngestTables['incident_links'], 'id'> & { id: number }): IncidentLink {
  return { ...row, id: Number(row.id) };
}
