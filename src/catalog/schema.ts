import type { DialectMigration, MigrationSet } from '../storage/index.ts';

export type CatalogTables = {
  teams: { id: string; name: string; created_at: string; updated_at: string; version: number };
  team_members: { team_id: string; user_name: string; role: string };
  services: {
    id: string;
    name: string;
    description: string;
    owner_team: string | null;
    tier: number;
    rto_minutes: number | null;
    rpo_minutes: number | null;
    slo_target: number | null;
    data_integrity_required: number;
    depends_on: string;
    created_at: string;
    updated_at: string;
    version: number;
  };
};

const createCatalogTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('teams')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('team_members')
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'user_name'])
      .execute();
    await db.schema
      .createTable('services')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('owner_team', 'text', (c) => c.references('teams.id'))
      .addColumn('tier', 'integer', (c) => c.notNull())
      .addColumn('rto_minutes', 'integer')
      .addColumn('rpo_minutes', 'integer')
      .addColumn('slo_target', 'double precision')
      .addColumn('data_integrity_required', 'integer', (c) => c.notNull())
      .addColumn('depends_on', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('services_owner_team_idx').on('services').column('owner_team').execute();
  },
});

export const catalogMigrations: MigrationSet = { '001_catalog_teams_services': createCatalogTables };
