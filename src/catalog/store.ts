import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { DialectMigration, MigrationSet } from '../storage/index.ts';
import { fromJson } from '../storage/index.ts';
import type { Service, Team } from './schemas.ts';

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

export type CatalogExecutor = Kysely<CatalogTables> | Transaction<CatalogTables>;

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

export function serviceFromRow(row: CatalogTables['services']): Service {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    owner_team: row.owner_team,
    tier: row.tier,
    rto_minutes: row.rto_minutes,
    rpo_minutes: row.rpo_minutes,
    slo_target: row.slo_target,
    data_integrity_required: Boolean(row.data_integrity_required),
    depends_on: fromJson<string[]>(row.depends_on, []),
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

export async function loadTeams(db: CatalogExecutor, ids?: string[]): Promise<Team[]> {
  let query = db.selectFrom('teams').selectAll().orderBy('id');
  if (ids) {
    if (ids.length === 0) return [];
    query = query.where('id', 'in', ids);
  }
  const teams = await query.execute();
  if (teams.length === 0) return [];
  const members = await db
    .selectFrom('team_members')
    .selectAll()
    .where(
      'team_id',
      'in',
      teams.map((t) => t.id),
    )
    .orderBy(sql`role = 'lead'`, 'desc')
    .orderBy('user_name')
    .execute();
  return teams.map((t) => ({
    ...t,
    members: members.filter((m) => m.team_id === t.id).map((m) => ({ user: m.user_name, role: m.role })),
  }));
}

export async function loadServices(db: CatalogExecutor, ids?: string[]): Promise<Service[]> {
  // Checked before building: incident creation asks for no services most of the time, and building the query costs.
  if (ids?.length === 0) return [];
  let query = db.selectFrom('services').selectAll().orderBy('id');
  if (ids) query = query.where('id', 'in', ids);
  return (await query.execute()).map(serviceFromRow);
}
