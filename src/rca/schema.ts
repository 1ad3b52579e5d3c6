import type { Generated } from 'kysely';
import { makeAppendOnly, withAutoIncrementId, type DialectMigration, type MigrationSet } from '../storage/index.ts';

export type RcaTables = {
  rca_analyses: {
    id: string;
    incident_id: string;
    kind: 'five_whys' | 'fishbone';
    title: string;
    author: string;
    status: 'draft' | 'reviewed';
    accepted: number;
    root_cause: string | null;
    body: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
  rca_analysis_history: {
    id: Generated<number>;
    analysis_id: string;
    at: string;
    actor: string;
    change: string;
    version: number;
    snapshot: string;
  };
};

const createRcaTables: DialectMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('rca_analyses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('accepted', 'integer', (c) => c.notNull())
      .addColumn('root_cause', 'text')
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rca_analyses_incident_idx').on('rca_analyses').column('incident_id').execute();
    await withAutoIncrementId(db.schema.createTable('rca_analysis_history'), dialect)
      .addColumn('analysis_id', 'text', (c) => c.notNull().references('rca_analyses.id'))
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('change', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('snapshot', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rca_history_analysis_idx').on('rca_analysis_history').columns(['analysis_id', 'id']).execute();
    await makeAppendOnly(db, dialect, 'rca_analysis_history');
  },
});

export const rcaMigrations: MigrationSet = { '040_rca_analyses': createRcaTables };

export type FaultTreeTables = {
  rca_fault_trees: {
    id: string;
    incident_id: string;
    name: string;
    model: string;
    created_by: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
};

const createFaultTreeTable: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('rca_fault_trees')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rca_fault_trees_incident_idx').on('rca_fault_trees').column('incident_id').execute();
  },
});

export const faultTreeMigrations: MigrationSet = { '041_rca_fault_trees': createFaultTreeTable };
