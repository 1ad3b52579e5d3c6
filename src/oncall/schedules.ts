import type { Kysely } from 'kysely';
import { AppError, notFound } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import { fromJson, isUniqueViolation, toJson, type Database } from '../storage/index.ts';
import { catalogRepository, type CatalogService } from '../catalog/index.ts';
import type { OnCallExecutor, OnCallTables } from './store.ts';
import { onCallAt, validateLayers, type OnCallShift, type ScheduleLayer } from './rotation.ts';
import type {
  EscalationLevel,
  ContactMethod,
  CreateContactMethodInput,
  CreateOverrideInput,
  CreateScheduleInput,
  NotificationRule,
  OnCallAnswer,
  OnCallUser,
  Override,
  ReplaceScheduleInput,
  Schedule,
} from './schemas.ts';
import type { Severity } from '../incidents/index.ts';

type ScheduleRow = OnCallTables['oncall_schedules'];

/**
 * People (the catalogue's team members, with their contact methods and severity rules), schedules with
 * layers and overrides, and the question "who is on call".
 */
export class ScheduleService {
  private readonly db: Kysely<OnCallTables>;

  constructor(
    database: Database,
    private readonly catalog: CatalogService,
    private readonly clock: () => Date,
  ) {
    this.db = database.db.withTables<OnCallTables>();
  }

  // ---- people -----------------------------------------------------------------------------------

  /** Rejects handles that are not a member of any team, naming the field. */
  async assertUsers(users: readonly string[], field: (i: number) => string, db: OnCallExecutor = this.db): Promise<void> {
    if (users.length === 0) return;
    const known = await catalogRepository.usersInAnyTeam(db, users);
    users.forEach((user, i) => {
      if (!known.has(user)) {
        throw new AppError('unprocessable', `${field(i)}: ${user} is not a member of any team; add them to a team first`, { field: field(i) });
      }
    });
  }

  async listUsers(): Promise<OnCallUser[]> {
    const members = await catalogRepository.teamMemberships(this.db);
    const methods = await this.db.selectFrom('oncall_contact_methods').selectAll().orderBy('id').execute();
    const rules = await this.db.selectFrom('oncall_notification_rules').selectAll().orderBy('id').execute();
    const users = [...new Set(members.map((m) => m.user_name))];
    return users.map((user) => ({
      user,
      teams: members.filter((m) => m.user_name === user).map((m) => m.team_id),
      contact_methods: methods.filter((m) => m.user_name === user).map(contactFromRow),
      notification_rules: rules.filter((r) => r.user_name === user).map(ruleFromRow),
    }));
  }

  async getUser(user: string): Promise<OnCallUser> {
    const found = (await this.listUsers()).find((u) => u.user === user);
    if (!found) throw new AppError('not_found', `${user} is not a member of any team`, { kind: 'user', id: user });
    return found;
  }

  async addContactMethod(user: string, input: CreateContactMethodInput): Promise<ContactMethod> {
    await this.getUser(user);
    const channel = await this.db.selectFrom('notify_channels').select(['id', 'kind']).where('id', '=', input.channel_id).executeTakeFirst();
    if (!channel) throw new AppError('unprocessable', `channel_id: channel ${input.channel_id} does not exist`, { field: 'channel_id' });
    if (channel.kind === 'email' && !input.address) {
      throw new AppError('validation_failed', `address: channel ${channel.id} sends e-mail, so the contact method needs an e-mail address`, { field: 'address' });
    }
    if (channel.kind !== 'email' && input.address) {
      throw new AppError('validation_failed', `address: only e-mail contact methods take an address; ${channel.kind} channel ${channel.id} is the destination itself`, {
        field: 'address',
      });
    }
    const row = await this.db
      .insertInto('oncall_contact_methods')
      .values({ user_name: user, channel_id: input.channel_id, address: input.address ?? null, created_at: this.clock().toISOString() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return contactFromRow(row);
  }

  async removeContactMethod(user: string, id: number): Promise<void> {
    const result = await this.db.deleteFrom('oncall_contact_methods').where('id', '=', id).where('user_name', '=', user).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('contact method', `${user}/${id}`);
  }

  async addRule(user: string, input: { contact_method_id: number; min_severity: Severity }): Promise<NotificationRule> {
    await this.getUser(user);
    const method = await this.db
      .selectFrom('oncall_contact_methods')
      .select('id')
      .where('id', '=', input.contact_method_id)
      .where('user_name', '=', user)
      .executeTakeFirst();
    if (!method) {
      throw new AppError('unprocessable', `contact_method_id: ${user} has no contact method ${input.contact_method_id}`, { field: 'contact_method_id' });
    }
    const row = await this.db
      .insertInto('oncall_notification_rules')
      .values({ user_name: user, contact_method_id: input.contact_method_id, min_severity: input.min_severity, created_at: this.clock().toISOString() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return ruleFromRow(row);
  }

  async removeRule(user: string, id: number): Promise<void> {
    const result = await this.db.deleteFrom('oncall_notification_rules').where('id', '=', id).where('user_name', '=', user).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('notification rule', `${user}/${id}`);
  }

  // ---- schedules --------------------------------------------------------------------------------

  private async validateSchedule(team: string, zone: string, layers: ScheduleLayer[]): Promise<void> {
    try {
      await this.catalog.getTeam(team);
    } catch {
      throw new AppError('unprocessable', `team: team ${team} does not exist`, { field: 'team' });
    }
    validateLayers(layers, zone);
    for (const [i, layer] of layers.entries()) await this.assertUsers(layer.users, (j) => `layers[${i}].users[${j}]`);
  }

  async createSchedule(input: CreateScheduleInput): Promise<Schedule> {
    const layers = input.layers.map(normaliseLayer);
    await this.validateSchedule(input.team, input.time_zone, layers);
    const now = this.clock().toISOString();
    try {
      await this.db
        .insertInto('oncall_schedules')
        .values({ id: input.id, team: input.team, name: input.name ?? input.id, time_zone: input.time_zone, layers: toJson(layers), created_at: now, updated_at: now, version: 1 })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `schedule ${input.id} already exists`, { field: 'id' });
      throw error;
    }
    return this.getSchedule(input.id);
  }

  async replaceSchedule(id: string, input: ReplaceScheduleInput, expectedVersion: number | undefined): Promise<Schedule> {
    const current = await this.scheduleRow(id);
    checkVersion('schedule', id, current.version, expectedVersion ?? input.version, true);
    const layers = input.layers ? input.layers.map(normaliseLayer) : fromJson<ScheduleLayer[]>(current.layers, []);
    const zone = input.time_zone ?? current.time_zone;
    await this.validateSchedule(current.team, zone, layers);
    const result = await this.db
      .updateTable('oncall_schedules')
      .set({ name: input.name ?? current.name, time_zone: zone, layers: toJson(layers), updated_at: this.clock().toISOString(), version: current.version + 1 })
      .where('id', '=', id)
      .where('version', '=', current.version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new AppError('version_conflict', `schedule ${id} was changed concurrently; reload and retry`);
    return this.getSchedule(id);
  }

  async deleteSchedule(id: string): Promise<void> {
    const policies = await this.db.selectFrom('oncall_escalation_policies').select(['id', 'levels']).execute();
    const using = policies
      .filter((p) => fromJson<EscalationLevel[]>(p.levels, []).some((level) => level.targets.some((t) => 'schedule' in t && t.schedule === id)))
      .map((p) => p.id);
    if (using.length) throw new AppError('conflict', `schedule ${id} is used by escalation policies ${using.join(', ')}; change them first`);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('oncall_overrides').where('schedule_id', '=', id).execute();
      const result = await trx.deleteFrom('oncall_schedules').where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound('schedule', id);
    });
  }

  private async scheduleRow(id: string, db: OnCallExecutor = this.db): Promise<ScheduleRow> {
    const row = await db.selectFrom('oncall_schedules').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('schedule', id);
    return row;
  }

  async getSchedule(id: string, db: OnCallExecutor = this.db): Promise<Schedule> {
    const row = await this.scheduleRow(id, db);
    const overrides = await db.selectFrom('oncall_overrides').selectAll().where('schedule_id', '=', id).orderBy('starts_at').execute();
    return scheduleFromRow(row, overrides.map(overrideFromRow));
  }

  async listSchedules(team?: string, db: OnCallExecutor = this.db): Promise<Schedule[]> {
    let q = db.selectFrom('oncall_schedules').selectAll().orderBy('team').orderBy('id');
    if (team) q = q.where('team', '=', team);
    const rows = await q.execute();
    if (rows.length === 0) return [];
    const overrides = await db
      .selectFrom('oncall_overrides')
      .selectAll()
      .where(
        'schedule_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('starts_at')
      .execute();
    return rows.map((r) => scheduleFromRow(r, overrides.filter((o) => o.schedule_id === r.id).map(overrideFromRow)));
  }

  async addOverride(scheduleId: string, input: CreateOverrideInput, actor: string): Promise<Override> {
    await this.scheduleRow(scheduleId);
    const startsAt = new Date(input.starts_at).toISOString();
    const endsAt = new Date(input.ends_at).toISOString();
    if (endsAt <= startsAt) throw new AppError('validation_failed', 'ends_at: must be after starts_at', { field: 'ends_at' });
    await this.assertUsers([input.user], () => 'user');
    const row = await this.db
      .insertInto('oncall_overrides')
      .values({ schedule_id: scheduleId, user_name: input.user, starts_at: startsAt, ends_at: endsAt, created_by: actor, created_at: this.clock().toISOString() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return overrideFromRow(row);
  }

  async removeOverride(scheduleId: string, id: number): Promise<void> {
    const result = await this.db.deleteFrom('oncall_overrides').where('id', '=', id).where('schedule_id', '=', scheduleId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('override', `${scheduleId}/${id}`);
  }

  shiftAt(schedule: Schedule, at: Date): OnCallShift | null {
    return onCallAt(
      schedule.layers as ScheduleLayer[],
      schedule.overrides.map((o) => ({ id: o.id, user: o.user, starts_at: o.starts_at, ends_at: o.ends_at, created_at: o.created_at })),
      schedule.time_zone,
      at,
    );
  }

  async whoIsOnCall(at: Date, team?: string): Promise<OnCallAnswer> {
    if (team) {
      try {
        await this.catalog.getTeam(team);
      } catch {
        throw new AppError('not_found', `team ${team} does not exist`, { field: 'team' });
      }
    }
    const schedules = await this.listSchedules(team);
    const teams = [...new Set(schedules.map((s) => s.team))];
    return {
      at: at.toISOString(),
      teams: teams.map((t) => ({
        team: t,
        schedules: schedules
          .filter((s) => s.team === t)
          .map((s) => ({ schedule: s.id, name: s.name, time_zone: s.time_zone, on_call: this.shiftAt(s, at) })),
      })),
    };
  }
}

function normaliseLayer(layer: CreateScheduleInput['layers'][number]): ScheduleLayer {
  return {
    name: layer.name,
    rotation: layer.rotation as ScheduleLayer['rotation'],
    shift_length: layer.shift_length ?? 1,
    handoff_time: layer.handoff_time,
    ...(layer.rotation === 'weekly' ? { handoff_day: layer.handoff_day ?? 'monday' } : layer.handoff_day ? { handoff_day: layer.handoff_day } : {}),
    start: layer.start,
    ...(layer.end ? { end: new Date(layer.end).toISOString() } : {}),
    users: layer.users,
  };
}

function scheduleFromRow(row: ScheduleRow, overrides: Override[]): Schedule {
  return {
    id: row.id,
    team: row.team,
    name: row.name,
    time_zone: row.time_zone,
    layers: fromJson<Schedule['layers']>(row.layers, []),
    overrides,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

function overrideFromRow(row: { id: number; schedule_id: string; user_name: string; starts_at: string; ends_at: string; created_by: string; created_at: string }): Override {
  return { id: Number(row.id), schedule_id: row.schedule_id, user: row.user_name, starts_at: row.starts_at, ends_at: row.ends_at, created_by: row.created_by, created_at: row.created_at };
}

function contactFromRow(row: { id: number; user_name: string; channel_id: string; address: string | null; created_at: string }): ContactMethod {
  return { id: Number(row.id), user: row.user_name, channel_id: row.channel_id, address: row.address, created_at: row.created_at };
}

function ruleFromRow(row: { id: number; user_name: string; contact_method_id: number; min_severity: string; created_at: string }): NotificationRule {
  return {
    id: Number(row.id),
    user: row.user_name,
    contact_method_id: Number(row.contact_method_id),
    min_severity: row.min_severity as Severity,
    created_at: row.created_at,
  };
}
