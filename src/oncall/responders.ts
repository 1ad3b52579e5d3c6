import { AppError } from '../shared/errors.ts';
import type { Database } from '../storage/index.ts';
import { catalogRepository, type CatalogService } from '../catalog/index.ts';
import type { IncidentService, TimelineEntry } from '../incidents/index.ts';
import type { DomainEvents } from '../shared/events.ts';
import * as repository from './repository.ts';
import type { EscalationService } from './escalations.ts';
import type { ScheduleService } from './schedules.ts';
import type { NotificationService } from './notify/service.ts';
import type { IncidentResponders, IncidentRole, IncidentRoleAssignment, PageSomeoneInput } from './schemas.ts';

const ROLE_NAMES: Record<IncidentRole, string> = {
  commander: 'incident commander',
  comms_lead: 'communications lead',
  ops_lead: 'operations lead',
  scribe: 'scribe',
  responder: 'responder',
};

/**
 * The people side of an incident: who is on call for it now, how its escalation stands, who holds
 * which role, who was notified how, and the actions that bring more people in.
 */
export class ResponderService {
  private readonly db: Database['db'];

  constructor(
    database: Database,
    private readonly incidents: IncidentService,
    private readonly catalog: CatalogService,
    private readonly schedules: ScheduleService,
    private readonly escalations: EscalationService,
    private readonly notifications: NotificationService,
    private readonly events: DomainEvents,
    private readonly clock: () => Date,
  ) {
    this.db = database.db;
  }

  async responders(incidentId: string): Promise<IncidentResponders> {
    const incident = await this.incidents.get(incidentId);
    const owners = incident.services.length ? await this.catalog.servicesById(incident.services) : new Map();
    const teams = [...new Set([incident.team, ...[...owners.values()].map((s) => s.owner_team)].filter((t): t is string => !!t))];
    const answer = await this.schedules.whoIsOnCall(this.clock());
    const onCall = answer.teams.filter((t) => teams.includes(t.team)).flatMap((t) => t.schedules.map((s) => ({ team: t.team, ...s })));
    const notifications = await repository.notificationsOfIncident(this.db, incidentId, 100);
    return {
      incident_id: incidentId,
      teams,
      on_call: onCall,
      escalation: await this.escalations.findEscalation(incidentId),
      roles: await this.roles(incidentId),
      notifications: notifications.map((n) => ({ ...n, id: Number(n.id), attempts: Number(n.attempts) })),
    };
  }

  async roles(incidentId: string): Promise<IncidentRoleAssignment[]> {
    const rows = await repository.rolesOfIncident(this.db, incidentId);
    return rows.map((r) => ({ role: r.role as IncidentRole, user: r.user_name, assigned_by: r.assigned_by, assigned_at: r.assigned_at }));
  }

  /** A named role moves to `user` (replacing its holder); `responder` adds one more responder. */
  async assignRole(incidentId: string, role: IncidentRole, user: string, actor: string): Promise<IncidentRoleAssignment[]> {
    await this.incidents.get(incidentId);
    await this.assertPerson(user);
    const now = this.clock().toISOString();
    const entries = await this.db.transaction().execute(async (trx) => {
      const holders = await repository.holdersOfRole(trx, incidentId, role);
      if (holders.includes(user)) return [];
      if (role !== 'responder') await repository.removeRoleHolders(trx, incidentId, role);
      await repository.insertRole(trx, { incident_id: incidentId, role, user_name: user, assigned_by: actor, assigned_at: now });
      const previous = role === 'responder' ? [] : holders;
      return this.incidents.appendTimeline(
        incidentId,
        [
          {
            kind: 'role_assigned',
            summary: `${user} is ${role === 'responder' ? 'a responder' : `the ${ROLE_NAMES[role]}`}${previous.length ? ` (was ${previous.join(', ')})` : ''}`,
            data: { role, user, ...(previous.length ? { previous } : {}) },
          },
        ],
        actor,
        trx,
      );
    });
    this.emit(entries);
    return this.roles(incidentId);
  }

  async unassignRole(incidentId: string, role: IncidentRole, user: string | undefined, actor: string): Promise<IncidentRoleAssignment[]> {
    await this.incidents.get(incidentId);
    const entries = await this.db.transaction().execute(async (trx) => {
      const removed = await repository.removeRoleHolders(trx, incidentId, role, user);
      if (removed.length === 0) throw new AppError('not_found', `nobody${user ? ` named ${user}` : ''} holds the ${ROLE_NAMES[role]} role on ${incidentId}`, { field: user ? 'user' : 'role' });
      return this.incidents.appendTimeline(
        incidentId,
        [{ kind: 'role_unassigned', summary: `${removed.join(', ')} no longer ${role === 'responder' ? 'a responder' : `the ${ROLE_NAMES[role]}`}`, data: { role, users: removed } }],
        actor,
        trx,
      );
    });
    this.emit(entries);
    return this.roles(incidentId);
  }

  /**
   * Pages people through their own contact methods, now, outside the escalation policy; by default they
   * also join the incident as responders. Nobody reachable is reported, never silently dropped.
   */
  async page(incidentId: string, input: PageSomeoneInput, actor: string): Promise<{ paged: string[]; unreachable: string[]; notification_ids: number[] }> {
    const incident = await this.incidents.get(incidentId);
    for (const [i, user] of input.users.entries()) await this.assertPerson(user, `users[${i}]`);
    const now = this.clock().toISOString();
    const { outcome, entries } = await this.db.transaction().execute(async (trx) => {
      const outcome = await this.notifications.enqueueInTransaction(trx, {
        event: 'message',
        incidentId,
        incident,
        users: input.users,
        actor,
        context: {
          message: {
            title: `[${incident.severity}] ${incident.id} needs you: ${incident.title}`,
            text: `${actor} paged you${input.message ? `: ${input.message}` : '.'}\nSeverity: ${incident.severity} · Status: ${incident.status}`,
          },
        },
      });
      if (input.add_as_responder !== false) {
        for (const user of input.users) {
          await repository.insertRoleIfAbsent(trx, { incident_id: incidentId, role: 'responder', user_name: user, assigned_by: actor, assigned_at: now });
        }
      }
      const summary = `paged ${outcome.recipients.join(', ') || 'nobody'}${outcome.unreachable.length ? `; ${outcome.unreachable.join('; ')}` : ''}${input.message ? ` — ${input.message}` : ''}`;
      const entries = await this.incidents.appendTimeline(
        incidentId,
        [{ kind: 'paged', summary, data: { users: input.users, recipients: outcome.recipients, unreachable: outcome.unreachable, notifications: outcome.ids } }],
        actor,
        trx,
      );
      return { outcome, entries };
    });
    this.emit(entries);
    if (outcome.ids.length) this.notifications.onEnqueued();
    return { paged: outcome.recipients, unreachable: outcome.unreachable, notification_ids: outcome.ids };
  }

  /** People are team members (the only list of people there is); the picker offers the same list. */
  private async assertPerson(user: string, field = 'user'): Promise<void> {
    const members = await catalogRepository.membershipsOf(this.db, [user]);
    if (members.length === 0) throw new AppError('unprocessable', `${field}: ${user} is not a member of any team`, { field });
  }

  private emit(entries: TimelineEntry[]): void {
    for (const entry of entries) this.events.emit('timeline.appended', { entry });
  }
}
