import type { Generated } from 'kysely';
import { makeAppendOnly, withAutoIncrementId, fromJson, type DialectMigration, type MigrationSet } from '../storage/index.ts';
import type { IncidentStatus, Severity } from './lifecycle.ts';
import type { Incident, TimelineEntry } from './schemas.ts';

export type IncidentTables = {
  incidents: {
    id: string;
    title: string;
    description: string;
    severity: Severity;
    status: IncidentStatus;
    impact_users_affected: number | null;
    impact_revenue: number | null;
    impact_description: string | null;
    services: string;
    team: string | null;
    assignee: string | null;
    detected_at: string;
    acknowledged_at: string | null;
    acknowledged_by: string | null;
    resolved_at: string | null;
    actions_taken: string;
    root_cause: string | null;
    resolution: string | null;
    lessons_learned: string | null;
    labels: string;
    created_by: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
  incident_services: { incident_id: string; service: string };
  incident_counters: { day: string; last_number: number };
  timeline_entries: {
    id: Generated<number>;
    incident_id: string;
    at: string;
    actor: string;
    kind: string;
    summary: string;
    data: string;
  };
};

export type IncidentRow = IncidentTables['incidents'];

const createIncidentTables: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('incidents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('impact_users_affected', 'integer')
      .addColumn('impact_revenue', 'double precision')
      .addColumn('impact_description', 'text')
      .addColumn('services', 'text', (c) => c.notNull())
      .addColumn('team', 'text')
      .addColumn('assignee', 'text')
      .addColumn('detected_at', 'text', (c) => c.notNull())
      .addColumn('acknowledged_at', 'text')
      .addColumn('acknowledged_by', 'text')
      .addColumn('resolved_at', 'text')
      .addColumn('actions_taken', 'text', (c) => c.notNull())
      .addColumn('root_cause', 'text')
      .addColumn('resolution', 'text')
      .addColumn('lessons_learned', 'text')
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('incidents_created_idx').on('incidents').columns(['created_at', 'id']).execute();
    await db.schema.createIndex('incidents_detected_idx').on('incidents').column('detected_at').execute();
    await db.schema.createIndex('incidents_status_idx').on('incidents').column('status').execute();
    await db.schema.createIndex('incidents_team_idx').on('incidents').column('team').execute();
    await db.schema
      .createTable('incident_services')
      .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id').onDelete('cascade'))
      .addColumn('service', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('incident_services_pk', ['incident_id', 'service'])
      .execute();
    await db.schema.createIndex('incident_services_service_idx').on('incident_services').columns(['service', 'incident_id']).execute();
    await db.schema
      .createTable('incident_counters')
      .addColumn('day', 'text', (c) => c.primaryKey())
      .addColumn('last_number', 'integer', (c) => c.notNull())
      .execute();
    await withAutoIncrementId(db.schema.createTable('timeline_entries'), dialect)
      .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('timeline_incident_idx').on('timeline_entries').columns(['incident_id', 'id']).execute();
    await makeAppendOnly(db, dialect, 'timeline_entries');
  },
});

export const incidentMigrations: MigrationSet = { '002_incidents_core': createIncidentTables };

export function incidentFromRow(row: IncidentRow): Incident {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    severity: row.severity,
    status: row.status,
    impact: {
      users_affected: row.impact_users_affected,
      revenue: row.impact_revenue,
      description: row.impact_description,
    },
    services: fromJson<string[]>(row.services, []),
    team: row.team,
    assignee: row.assignee,
    detected_at: row.detected_at,
    acknowledged_at: row.acknowledged_at,
    acknowledged_by: row.acknowledged_by,
    resolved_at: row.resolved_at,
    actions_taken: fromJson<string[]>(row.actions_taken, []),
    root_cause: row.root_cause,
    resolution: row.resolution,
    lessons_learned: row.lessons_learned,
    labels: fromJson<Record<string, string>>(row.labels, {}),
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

export function timelineFromRow(row: Omit<IncidentTables['timeline_entries'], 'id'> & { id: number }): TimelineEntry {
  return { ...row, id: Number(row.id), data: fromJson<Record<string, unknown>>(row.data, {}) };
}
