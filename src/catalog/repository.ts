import { sql, type Insertable, type Updateable } from 'kysely';
import { fromJson, viewAs, type Executor } from '../storage/index.ts';
import type { Service, Team } from './schemas.ts';
import type { CatalogTables } from './schema.ts';

const tables = (executor: Executor) => viewAs<CatalogTables>(executor);

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

export async function loadTeams(executor: Executor, ids?: string[]): Promise<Team[]> {
  let query = tables(executor).selectFrom('teams').selectAll().orderBy('id');
  if (ids) {
    if (ids.length === 0) return [];
    query = query.where('id', 'in', ids);
  }
  const teams = await query.execute();
  if (teams.length === 0) return [];
  const members = await tables(executor)
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

export async function loadServices(executor: Executor, ids?: string[]): Promise<Service[]> {
  // Checked before building: incident creation asks for no services most of the time, and building the query costs.
  if (ids?.length === 0) return [];
  let query = tables(executor).selectFrom('services').selectAll().orderBy('id');
  if (ids) query = query.where('id', 'in', ids);
  return (await query.execute()).map(serviceFromRow);
}

export async function insertTeam(executor: Executor, team: Insertable<CatalogTables['teams']>): Promise<void> {
  await tables(executor).insertInto('teams').values(team).execute();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateTeam(executor: Executor, id: string, expectedVersion: number, changes: Updateable<CatalogTables['teams']>): Promise<boolean> {
  const result = await tables(executor).updateTable('teams').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** False when there was no such team. */
export async function deleteTeam(executor: Executor, id: string): Promise<boolean> {
  const result = await tables(executor).deleteFrom('teams').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function teamExists(executor: Executor, id: string): Promise<boolean> {
  return (await tables(executor).selectFrom('teams').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function replaceTeamMembers(executor: Executor, teamId: string, members: readonly { user: string; role: string }[]): Promise<void> {
  await tables(executor).deleteFrom('team_members').where('team_id', '=', teamId).execute();
  if (members.length > 0) {
    await tables(executor)
      .insertInto('team_members')
      .values(members.map((m) => ({ team_id: teamId, user_name: m.user, role: m.role })))
      .execute();
  }
}

/** Every (user, team) membership, by user. */
export async function teamMemberships(executor: Executor): Promise<{ user_name: string; team_id: string }[]> {
  return tables(executor).selectFrom('team_members').select(['user_name', 'team_id']).orderBy('user_name').execute();
}

/** The (user, team) memberships of `users`. */
export async function membershipsOf(executor: Executor, users: readonly string[]): Promise<{ user_name: string; team_id: string }[]> {
  if (users.length === 0) return [];
  return tables(executor).selectFrom('team_members').select(['user_name', 'team_id']).where('user_name', 'in', [...new Set(users)]).execute();
}

/** Which of `users` are members of at least one team. */
export async function usersInAnyTeam(executor: Executor, users: readonly string[]): Promise<Set<string>> {
  if (users.length === 0) return new Set();
  const rows = await tables(executor).selectFrom('team_members').select('user_name').where('user_name', 'in', [...new Set(users)]).execute();
  return new Set(rows.map((r) => r.user_name));
}

export async function servicesOwnedBy(executor: Executor, teamId: string): Promise<string[]> {
  return (await tables(executor).selectFrom('services').select('id').where('owner_team', '=', teamId).execute()).map((s) => s.id);
}

export async function insertService(executor: Executor, service: Insertable<CatalogTables['services']>): Promise<void> {
  await tables(executor).insertInto('services').values(service).execute();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateService(executor: Executor, id: string, expectedVersion: number, changes: Updateable<CatalogTables['services']>): Promise<boolean> {
  const result = await tables(executor).updateTable('services').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** False when there was no such service. */
export async function deleteService(executor: Executor, id: string): Promise<boolean> {
  const result = await tables(executor).deleteFrom('services').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
