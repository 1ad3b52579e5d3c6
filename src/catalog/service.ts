import { AppError, notFound } from '../shared/errors.ts';
import { isUniqueViolation, toJson, type Database, type Executor } from '../storage/index.ts';
import type {
  CreateServiceInput,
  CreateTeamInput,
  PatchServiceInput,
  PatchTeamInput,
  Service,
  Team,
} from './schemas.ts';
import {
  deleteService,
  deleteTeam,
  insertService,
  insertTeam,
  loadServices,
  loadTeams,
  replaceTeamMembers,
  servicesOwnedBy,
  teamExists,
  updateService,
  updateTeam,
} from './repository.ts';
import { checkVersion } from '../shared/concurrency.ts';

export class CatalogService {
  private readonly db: Database['db'];
  constructor(
    database: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db;
  }

  async listTeams(): Promise<Team[]> {
    return loadTeams(this.db);
  }

  async getTeam(id: string, db: Executor = this.db): Promise<Team> {
    const [team] = await loadTeams(db, [id]);
    if (!team) throw notFound('team', id);
    return team;
  }

  async createTeam(input: CreateTeamInput): Promise<Team> {
    const now = this.clock().toISOString();
    try {
      await this.db.transaction().execute(async (trx) => {
        await insertTeam(trx, { id: input.id, name: input.name, created_at: now, updated_at: now, version: 1 });
        await this.replaceMembers(trx, input.id, input.members ?? []);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `team ${input.id} already exists`, { field: 'id' });
      throw error;
    }
    return this.getTeam(input.id);
  }

  async updateTeam(id: string, patch: PatchTeamInput, expectedVersion: number | undefined): Promise<Team> {
    await this.db.transaction().execute(async (trx) => {
      const current = await this.getTeam(id, trx);
      checkVersion('team', id, current.version, expectedVersion ?? patch.version, true);
      const updated = await updateTeam(trx, id, current.version, {
        name: patch.name ?? current.name,
        updated_at: this.clock().toISOString(),
        version: current.version + 1,
      });
      if (!updated) throw new AppError('version_conflict', `team ${id} was changed concurrently`);
      if (patch.members) await this.replaceMembers(trx, id, patch.members);
    });
    return this.getTeam(id);
  }

  async deleteTeam(id: string): Promise<void> {
    const owned = await servicesOwnedBy(this.db, id);
    if (owned.length > 0) {
      throw new AppError('conflict', `team ${id} still owns services ${owned.join(', ')}; reassign them first`);
    }
    if (!(await deleteTeam(this.db, id))) throw notFound('team', id);
  }

  private async replaceMembers(trx: Executor, teamId: string, members: CreateTeamInput['members'] & object): Promise<void> {
    const seen = new Set<string>();
    members.forEach((m, i) => {
      if (seen.has(m.user)) throw new AppError('validation_failed', `members[${i}].user: ${m.user} is listed twice`, { field: `members[${i}].user` });
      seen.add(m.user);
    });
    await replaceTeamMembers(
      trx,
      teamId,
      members.map((m) => ({ user: m.user, role: m.role ?? 'member' })),
    );
  }

  async listServices(): Promise<Service[]> {
    return loadServices(this.db);
  }

  async servicesById(ids: readonly string[], db: Executor = this.db): Promise<Map<string, Service>> {
    const rows = await loadServices(db, [...ids]);
    return new Map(rows.map((s) => [s.id, s]));
  }

  async getService(id: string, db: Executor = this.db): Promise<Service> {
    const [service] = await loadServices(db, [id]);
    if (!service) throw notFound('service', id);
    return service;
  }

  async createService(input: CreateServiceInput): Promise<Service> {
    const now = this.clock().toISOString();
    await this.assertReferences(input.owner_team ?? null, input.depends_on ?? [], input.id);
    try {
      await insertService(this.db, {
        id: input.id,
        name: input.name ?? input.id,
        description: input.description ?? '',
        owner_team: input.owner_team ?? null,
        tier: input.tier ?? 3,
        rto_minutes: input.rto_minutes ?? null,
        rpo_minutes: input.rpo_minutes ?? null,
        slo_target: input.slo_target ?? null,
        data_integrity_required: input.data_integrity_required ? 1 : 0,
        depends_on: toJson(input.depends_on ?? []),
        created_at: now,
        updated_at: now,
        version: 1,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `service ${input.id} already exists`, { field: 'id' });
      throw error;
    }
    return this.getService(input.id);
  }

  async updateService(id: string, patch: PatchServiceInput, expectedVersion: number | undefined): Promise<Service> {
    const current = await this.getService(id);
    checkVersion('service', id, current.version, expectedVersion ?? patch.version, true);
    const ownerTeam = patch.owner_team === undefined ? current.owner_team : patch.owner_team;
    const dependsOn = patch.depends_on ?? current.depends_on;
    await this.assertReferences(ownerTeam, dependsOn, id);
    const updated = await updateService(this.db, id, current.version, {
      name: patch.name ?? current.name,
      description: patch.description ?? current.description,
      owner_team: ownerTeam,
      tier: patch.tier ?? current.tier,
      rto_minutes: patch.rto_minutes === undefined ? current.rto_minutes : patch.rto_minutes,
      rpo_minutes: patch.rpo_minutes === undefined ? current.rpo_minutes : patch.rpo_minutes,
      slo_target: patch.slo_target === undefined ? current.slo_target : patch.slo_target,
      data_integrity_required: (patch.data_integrity_required ?? current.data_integrity_required) ? 1 : 0,
      depends_on: toJson(dependsOn),
      updated_at: this.clock().toISOString(),
      version: current.version + 1,
    });
    if (!updated) throw new AppError('version_conflict', `service ${id} was changed concurrently`);
    return this.getService(id);
  }

  async deleteService(id: string): Promise<void> {
    const dependents = (await this.listServices()).filter((s) => s.depends_on.includes(id)).map((s) => s.id);
    if (dependents.length > 0) throw new AppError('conflict', `services ${dependents.join(', ')} depend on ${id}`);
    if (!(await deleteService(this.db, id))) throw notFound('service', id);
  }

  private async assertReferences(ownerTeam: string | null, dependsOn: readonly string[], self: string): Promise<void> {
    if (ownerTeam !== null) {
      if (!(await teamExists(this.db, ownerTeam))) throw new AppError('unprocessable', `owner_team: team ${ownerTeam} does not exist`, { field: 'owner_team' });
    }
    if (dependsOn.includes(self)) throw new AppError('unprocessable', `depends_on: service ${self} cannot depend on itself`, { field: 'depends_on' });
    const known = await this.servicesById(dependsOn);
    dependsOn.forEach((dep, i) => {
      if (!known.has(dep)) throw new AppError('unprocessable', `depends_on[${i}]: service ${dep} does not exist`, { field: `depends_on[${i}]` });
    });
  }
}
