import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, notFound } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import type { DomainEvents } from '../shared/events.ts';
import { fromJson, isUniqueViolation, toJson, JobLeaseLost, JobQueue, type ClaimedJob, type Database, type Executor } from '../storage/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import { incidentRepository, isActiveStatus, type Incident, type IncidentService, type TimelineDraft, type TimelineEntry } from '../incidents/index.ts';
import * as repository from './repository.ts';
import type { ChannelRow, EscalationRow, PolicyRow } from './repository.ts';
import type { CreatePolicyInput, EscalationLevel, EscalationState, Policy, ReplacePolicyInput } from './schemas.ts';
import { nextEscalationStep } from './escalation.ts';
import type { ScheduleService } from './schedules.ts';
import type { NotificationService, NotifyRequest } from './notify/service.ts';
import type { NotifyEvent } from './notify/schemas.ts';

/** A timeline entry as the dispatcher reads it. */
type DispatchedEntry = { id: number; incident_id: string; kind: string; actor: string; at: string; summary: string; data: Record<string, unknown> };
/** What dispatching one entry did: whether it enqueued notifications, and the timeline entries it wrote. */
type DispatchOutcome = { enqueued: boolean; entries: TimelineEntry[] };

/**
 * Timeline kinds that drive notifications and escalations. Besides the core's, these include the
 * entries recovery and postmortems write in the same transaction as their decisions
 * (`recovery_rto_breached`, `action_item_overdue`, `postmortem_status_changed`), so their notifications
 * are as durable as ours without either capability importing the other.
 */
export const DISPATCHED_KINDS: readonly string[] = ['created', 'acknowledged', 'status_changed', 'escalated', 'recovery_rto_breached', 'action_item_overdue', 'postmortem_status_changed'];
/** Entries younger than this may still be overtaken by an earlier id committing late, so the cursor waits for them. */
const CURSOR_SETTLE_MS = 60_000;
/** Entries dispatched per scan, and timeline entries read per page while looking for them. */
const DISPATCH_BATCH = 200;
const DISPATCH_PAGE = 500;

export interface EscalationServiceOptions {
  database: Database;
  incidents: IncidentService;
  catalog: CatalogService;
  schedules: ScheduleService;
  notifications: NotificationService;
  events: DomainEvents;
  clock: () => Date;
  log: Logger;
  /** Escalation timers are jobs of kind ESCALATION_JOB keyed by incident id. */
  jobs: JobQueue;
}

export const ESCALATION_JOB = 'oncall.escalation';
/** The lease of a level fired by a responder's request: it only has to outlast one transaction. */
const ESCALATE_NOW_LEASE_MS = 60_000;

/**
 * Escalation policies, the escalations they run (timers stored as rows with `due_at`), and the
 * dispatcher that turns incident timeline entries into notifications, escalation starts and stops.
 */
export class EscalationService {
  private readonly db: Database['db'];
  private readonly clock: () => Date;

  constructor(private readonly options: EscalationServiceOptions) {
    this.db = options.database.db;
    this.clock = options.clock;
  }

  // ---- policies -------------------------------------------------------------------------------

  private async validatePolicy(team: string, levels: EscalationLevel[]): Promise<void> {
    try {
      await this.options.catalog.getTeam(team);
    } catch {
      throw new AppError('unprocessable', `team: team ${team} does not exist`, { field: 'team' });
    }
    for (const [i, level] of levels.entries()) {
      for (const [j, target] of level.targets.entries()) {
        const field = `levels[${i}].targets[${j}]`;
        if ('user' in target) await this.options.schedules.assertUsers([target.user], () => `${field}.user`);
        else {
          if (!(await repository.scheduleExists(this.db, target.schedule))) throw new AppError('unprocessable', `${field}.schedule: schedule ${target.schedule} does not exist`, { field: `${field}.schedule` });
        }
      }
    }
  }

  async createPolicy(input: CreatePolicyInput): Promise<Policy> {
    await this.validatePolicy(input.team, input.levels);
    const now = this.clock().toISOString();
    try {
      await repository.insertPolicy(this.db, { id: input.id, team: input.team, name: input.name ?? input.id, repeat: input.repeat ?? 0, levels: toJson(input.levels), created_at: now, updated_at: now, version: 1 });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const existing = await repository.findPolicy(this.db, input.id);
      if (existing) throw new AppError('conflict', `escalation policy ${input.id} already exists`, { field: 'id' });
      throw new AppError('conflict', `team ${input.team} already has an escalation policy; change that one`, { field: 'team' });
    }
    return this.getPolicy(input.id);
  }

  async replacePolicy(id: string, input: ReplacePolicyInput, expectedVersion: number | undefined): Promise<Policy> {
    const current = await this.policyRow(id);
    checkVersion('escalation policy', id, current.version, expectedVersion ?? input.version, true);
    const levels = input.levels ?? fromJson<EscalationLevel[]>(current.levels, []);
    await this.validatePolicy(current.team, levels);
    const updated = await repository.updatePolicy(this.db, id, current.version, {
      name: input.name ?? current.name,
      repeat: input.repeat ?? current.repeat,
      levels: toJson(levels),
      updated_at: this.clock().toISOString(),
      version: current.version + 1,
    });
    if (!updated) throw new AppError('version_conflict', `escalation policy ${id} was changed concurrently; reload and retry`);
    return this.getPolicy(id);
  }

  async deletePolicy(id: string): Promise<void> {
    if (!(await repository.deletePolicy(this.db, id))) throw notFound('escalation policy', id);
  }

  private async policyRow(id: string): Promise<PolicyRow> {
    const row = await repository.findPolicy(this.db, id);
    if (!row) throw notFound('escalation policy', id);
    return row;
  }

  async getPolicy(id: string): Promise<Policy> {
    return policyFromRow(await this.policyRow(id));
  }

  async listPolicies(): Promise<Policy[]> {
    return (await repository.listPolicies(this.db)).map(policyFromRow);
  }

  async escalationOf(incidentId: string): Promise<EscalationState> {
    const row = await repository.findEscalation(this.db, incidentId);
    if (!row) throw new AppError('not_found', `incident ${incidentId} has no escalation (its team has no escalation policy, or it has no team)`);
    return escalationFromRow(row);
  }

  /** The incident's escalation, or null when none runs for it (no team, or no policy for its team). */
  async findEscalation(incidentId: string): Promise<EscalationState | null> {
    const row = await repository.findEscalation(this.db, incidentId);
    return row ? escalationFromRow(row) : null;
  }

  /**
   * Fires the next level now rather than at its due time: a responder who knows help is needed does not
   * wait out the timer. The request and the page it causes are committed together.
   */
  async escalateNow(incidentId: string, actor: string): Promise<EscalationState> {
    const incident = await this.options.incidents.get(incidentId);
    const requested = await this.db.transaction().execute(async (trx) => {
      const found = await repository.findEscalation(trx, incidentId);
      if (!found) {
        throw new AppError('conflict', `incident ${incidentId} has no escalation (${incident.team ? `team ${incident.team} has no escalation policy` : 'it has no team'}); page someone instead`);
      }
      if (found.status !== 'active') {
        throw new AppError('conflict', `the escalation of ${incidentId} is ${found.status}${found.stopped_reason ? ` (${found.stopped_reason})` : ''}; page someone instead`);
      }
      const now = this.clock().toISOString();
      await repository.updateEscalation(trx, found.id, found.version, { due_at: now, updated_at: now, version: found.version + 1 });
      await this.options.jobs.schedule(JobQueue.in(trx), ESCALATION_JOB, incidentId, now);
      return this.options.incidents.appendTimeline(
        incidentId,
        [{ kind: 'escalation_requested', summary: `${actor} escalated now, without waiting for level ${found.next_level + 1}'s timer`, data: { level: found.next_level + 1 } }],
        actor,
        trx,
      );
    });
    for (const entry of requested) this.options.events.emit('timeline.appended', { entry });
    // The level fires in this request, through the same job claim the worker uses, so it still fires exactly
    // once: a worker that claimed the job first fires it instead.
    const [job] = await this.options.jobs.claim(ESCALATION_JOB, `escalate-now:${randomUUID()}`, 1, ESCALATE_NOW_LEASE_MS, incidentId);
    if (job) await this.fire(job);
    return this.escalationOf(incidentId);
  }

  // ---- the dispatcher: timeline entries → notifications, escalation starts and stops ------------

  /** Every dispatchable entry up to this id was dispatched (or claimed elsewhere) at this process's last scan. */
  private scannedUpTo = 0;

  /**
   * Reads incident timeline entries not yet dispatched and acts on each exactly once: the dispatch
   * mark, the outbox rows and the escalation change commit in one transaction. Timeline entries are
   * the durable record of what happened, so a crash after an incident commits but before notifying
   * loses nothing: the next tick (in any process) picks the entry up.
   *
   * A full scan starts at the durable cursor, which trails by CURSOR_SETTLE_MS so that entries
   * committed late with lower ids (PostgreSQL) are not skipped; under a stream of new incidents that
   * is every entry of the last minute, so it reads them only when a tally shows one of them undispatched
   * (see allDispatched). Other scans start where this process last found
   * everything dispatched (`scannedUpTo`): the worker runs those on pokes and a full scan on its poll,
   * so a late or failed entry waits at most one poll interval.
   */
  async dispatchTimeline(options: { full?: boolean } = {}): Promise<number> {
    const full = options.full ?? true;
    const cursor = await repository.dispatchCursor(this.db);
    let from = full ? cursor : Math.max(cursor, this.scannedUpTo);
    if (full && this.scannedUpTo > cursor && (await this.allDispatched(cursor, this.scannedUpTo))) from = this.scannedUpTo;
    const pending: DispatchedEntry[] = [];
    for await (const raw of this.undispatchedAfter(from)) {
      pending.push({ ...raw, id: Number(raw.id), data: fromJson<Record<string, unknown>>(raw.data, {}) });
      if (pending.length >= DISPATCH_BATCH) break;
    }
    let outcomes: (DispatchOutcome | null)[] | null = null;
    if (pending.length > 1) {
      // A burst of incidents leaves many entries: one transaction (one commit) for all of them, not one
      // each. Marks and effects still commit together, so each entry is still acted on exactly once.
      try {
        outcomes = await this.db.transaction().execute((trx) => this.dispatchMarked(trx, pending));
      } catch (error) {
        this.options.log.warn({ err: error, entries: pending.length }, 'dispatching timeline entries together failed; dispatching them one by one');
      }
    }
    let firstFailed: number | null = null;
    if (!outcomes) {
      // One transaction per entry, so an entry that cannot be dispatched holds up no other.
      outcomes = [];
      for (const entry of pending) {
        try {
          outcomes.push(...(await this.db.transaction().execute((trx) => this.dispatchMarked(trx, [entry]))));
        } catch (error) {
          this.options.log.error({ err: error, entry: entry.id }, 'dispatching a timeline entry failed; will retry');
          outcomes.push(null);
          firstFailed ??= entry.id;
        }
      }
    }
    const lastRead = pending[pending.length - 1];
    if (lastRead) this.scannedUpTo = Math.max(this.scannedUpTo, firstFailed !== null ? firstFailed - 1 : lastRead.id);
    let dispatched = 0;
    let enqueued = false;
    const emitted: TimelineEntry[] = [];
    for (const outcome of outcomes) {
      if (!outcome) continue;
      dispatched++;
      enqueued ||= outcome.enqueued;
      emitted.push(...outcome.entries);
    }
    for (const entry of emitted) this.options.events.emit('timeline.appended', { entry });
    if (enqueued) this.options.notifications.onEnqueued();
    if (full) await this.advanceCursor(cursor);
    return dispatched;
  }

  /** Moves the cursor past entries that are settled (old enough that no earlier id can still commit) and dispatched. */
  private async advanceCursor(cursor: number): Promise<void> {
    const settledBefore = new Date(this.clock().getTime() - CURSOR_SETTLE_MS).toISOString();
    // The first entry the cursor must not pass: one still settling, or one not dispatched yet.
    const firstUnsettled = await incidentRepository.firstTimelineEntryFrom(this.db, cursor, DISPATCHED_KINDS, settledBefore);
    let firstOpen = firstUnsettled;
    const allSettledDispatched = firstUnsettled !== undefined && (await this.allDispatched(cursor, firstUnsettled - 1));
    if (!allSettledDispatched) {
      for await (const entry of this.undispatchedAfter(cursor, firstUnsettled)) {
        firstOpen = Number(entry.id);
        break;
      }
    }
    const upTo = firstOpen !== undefined ? firstOpen - 1 : ((await incidentRepository.lastTimelineEntryBefore(this.db, cursor, settledBefore)) ?? cursor);
    if (upTo <= cursor) return;
    await repository.advanceDispatchCursor(this.db, upTo);
  }

  /**
   * Whether every dispatchable entry with an id in (afterId, upToId] is marked dispatched, from two aggregate reads
   * rather than the entries: marks are made only for dispatchable entries, and timeline entries are never deleted, so
   * equal counts and equal id sums mean the same set of ids.
   */
  private async allDispatched(afterId: number, upToId: number): Promise<boolean> {
    if (upToId <= afterId) return true;
    const entries = await incidentRepository.timelineTally(this.db, afterId, upToId, DISPATCHED_KINDS);
    const marks = await repository.dispatchedTally(this.db, afterId, upToId);
    return entries.count === marks.count && entries.idSum === marks.idSum;
  }

  /**
   * Dispatchable timeline entries after `afterId` (and before `beforeId`) not yet dispatched, in id order. Read in
   * pages from incidents' repository and checked against this capability's own marks, so a long run of entries
   * dispatched already never hides the ones after it.
   */
  private async *undispatchedAfter(afterId: number, beforeId?: number): AsyncGenerator<incidentRepository.TimelineRow> {
    let after = afterId;
    for (;;) {
      const page = await incidentRepository.timelineEntriesAfter(this.db, after, DISPATCHED_KINDS, DISPATCH_PAGE);
      const last = page[page.length - 1];
      // One range read of the marks: ids in it that are not of dispatched kinds were never marked.
      const dispatched = last ? await repository.dispatchedBetween(this.db, after, Number(last.id)) : new Set<number>();
      for (const entry of page) {
        const id = Number(entry.id);
        if (beforeId !== undefined && id >= beforeId) return;
        if (!dispatched.has(id)) yield entry;
      }
      if (page.length < DISPATCH_PAGE) return;
      after = Number(page[page.length - 1]!.id);
    }
  }

  /**
   * Marks the entries dispatched and acts on each this call marked; null for one another process or tick marked
   * first. A burst costs a few statements, not a few per entry: one multi-row mark, one read of its incidents,
   * one of the enabled channels (dispatching changes neither incidents nor channels).
   */
  private async dispatchMarked(trx: Executor, entries: readonly DispatchedEntry[]): Promise<(DispatchOutcome | null)[]> {
    const marked = await repository.markDispatched(
      trx,
      entries.map((entry) => entry.id),
      this.clock().toISOString(),
    );
    const mine = entries.filter((entry) => marked.has(entry.id));
    if (mine.length === 0) return entries.map(() => null);
    const incidents = await this.options.incidents.getMany(
      mine.map((entry) => entry.incident_id),
      trx,
    );
    const channels = await repository.enabledChannels(trx);
    const outcomes: (DispatchOutcome | null)[] = [];
    for (const entry of entries) {
      if (!marked.has(entry.id)) {
        outcomes.push(null);
        continue;
      }
      const incident = incidents.get(entry.incident_id);
      if (!incident) throw notFound('incident', entry.incident_id);
      outcomes.push(await this.dispatchEntry(trx, entry, incident, channels));
    }
    return outcomes;
  }

  private async dispatchEntry(trx: Executor, entry: DispatchedEntry, incident: Incident, channels: readonly ChannelRow[]): Promise<DispatchOutcome> {
    let event: NotifyEvent;
    const context: Record<string, unknown> = {};
    const entries: TimelineEntry[] = [];
    switch (entry.kind) {
      case 'created':
        event = 'incident.created';
        await this.startInTransaction(trx, incident.id, incident.team);
        break;
      case 'acknowledged':
        event = 'incident.acknowledged';
        entries.push(...(await this.stopInTransaction(trx, incident.id, `acknowledged by ${entry.actor}`)));
        break;
      case 'status_changed': {
        const to = String(entry.data.to);
        context.change = { from: entry.data.from, to, note: entry.data.note ?? null };
        if (to === 'resolved') {
          event = 'incident.resolved';
          entries.push(...(await this.stopInTransaction(trx, incident.id, `resolved by ${entry.actor}`)));
        } else event = 'incident.status_changed';
        break;
      }
      case 'escalated':
        event = 'incident.escalated';
        context.escalation = entry.data.escalation ?? {};
        break;
      case 'recovery_rto_breached': {
        event = 'recovery.rto_breached';
        const elapsed = (Date.parse(entry.at) - Date.parse(incident.detected_at)) / 60_000;
        context.recovery = {
          service: entry.data.source_service ?? null,
          rto_minutes: entry.data.rto_minutes ?? null,
          due_at: entry.data.due_at ?? null,
          elapsed_minutes: Math.round(elapsed),
          summary: entry.summary,
        };
        break;
      }
      case 'action_item_overdue':
        event = 'action_item.overdue';
        context.action_item = { id: entry.data.action_item_id ?? null, owner: entry.data.owner ?? null, due_at: entry.data.due_date ?? null, summary: entry.summary };
        break;
      case 'postmortem_status_changed':
        if (entry.data.to !== 'published') return { enqueued: false, entries };
        event = 'postmortem.published';
        context.postmortem = { status: 'published', reason: entry.data.reason ?? null, summary: entry.summary };
        break;
      default:
        return { enqueued: false, entries };
    }
    const request: NotifyRequest = { event, incidentId: incident.id, incident, context, actor: entry.actor };
    const outcome = await this.options.notifications.enqueueInTransaction(trx, request, channels);
    return { enqueued: outcome.ids.length > 0, entries };
  }

  /** Starts escalating an incident for its team's policy; idempotent (one escalation per incident). */
  private async startInTransaction(trx: Executor, incidentId: string, team: string | null): Promise<void> {
    if (!team) return;
    const policy = await repository.findPolicyOfTeam(trx, team);
    if (!policy) return;
    const now = this.clock().toISOString();
    await repository.insertEscalationIfAbsent(trx, {
        incident_id: incidentId,
        policy_id: policy.id,
        team,
        levels: policy.levels,
        repeat: policy.repeat,
        next_level: 0,
        cycle: 0,
        status: 'active',
        due_at: now,
        stopped_reason: null,
        created_at: now,
        updated_at: now,
      version: 1,
    });
    await this.options.jobs.adopt(JobQueue.in(trx), ESCALATION_JOB, [{ key: incidentId, runAt: now }]);
  }

  private async stopInTransaction(trx: Executor, incidentId: string, reason: string): Promise<TimelineEntry[]> {
    const now = this.clock().toISOString();
    if (!(await repository.stopActiveEscalation(trx, incidentId, reason, now))) return [];
    await this.options.jobs.cancel(JobQueue.in(trx), ESCALATION_JOB, incidentId);
    return this.options.incidents.appendTimeline(
      incidentId,
      [{ kind: 'escalation_stopped', summary: `escalation stopped: ${reason}`, data: { reason } }],
      'firebreak',
      trx,
    );
  }

  // ---- firing due escalation timers -----------------------------------------------------------

  /** Escalations stored before their timers were jobs. */
  async adoptStoredTimers(): Promise<void> {
    const rows = await repository.activeEscalationTimers(this.db);
    await this.options.jobs.adopt(this.options.jobs.db, ESCALATION_JOB, rows.map((r) => ({ key: r.incident_id, runAt: r.due_at })));
  }

  /**
   * Fires the escalation whose timer job was claimed. One transaction advances the row (`WHERE version =
   * <read>`), writes the notifications and the timeline, and reschedules or ends the job, only while
   * this claim still holds it: each level fires exactly once, whichever server claims it.
   */
  async fire(job: ClaimedJob): Promise<boolean> {
    let outcome: { entries: TimelineEntry[]; enqueued: boolean } | null;
    try {
      outcome = await this.db.transaction().execute((trx) => this.fireOne(trx, job));
    } catch (error) {
      if (error instanceof JobLeaseLost) return false;
      throw error;
    }
    if (!outcome) return false;
    for (const entry of outcome.entries) this.options.events.emit('timeline.appended', { entry });
    if (outcome.enqueued) this.options.notifications.onEnqueued();
    return true;
  }

  private async fireOne(trx: Executor, job: ClaimedJob): Promise<{ entries: TimelineEntry[]; enqueued: boolean } | null> {
    const jobs = JobQueue.in(trx);
    const nowDate = this.clock();
    const now = nowDate.toISOString();
    const row = await repository.findEscalation(trx, job.key);
    if (!row || row.status !== 'active' || row.due_at === null) {
      await this.options.jobs.complete(jobs, job);
      return null;
    }
    if (row.due_at! > now) {
      await this.options.jobs.complete(jobs, job, { runAt: row.due_at! });
      return null;
    }
    const finish = async (next: string | null) => {
      await this.options.jobs.completeWithEffect(jobs, job, next ? { runAt: next } : undefined);
    };
    const incident = await this.options.incidents.get(row.incident_id, trx);
    const levels = fromJson<EscalationLevel[]>(row.levels, []);

    const advance = async (set: { status?: string; next_level?: number; cycle?: number; due_at?: string | null; stopped_reason?: string | null }) => {
      // Changed by another transaction since it was read: roll back; the job is claimed again and re-reads it.
      if (!(await repository.updateEscalation(trx, row.id, row.version, { ...set, updated_at: now, version: row.version + 1 }))) throw new Error(`escalation of ${row.incident_id} changed while firing`);
      return true;
    };
    const timeline = (drafts: TimelineDraft[]) => this.options.incidents.appendTimeline(row.incident_id, drafts, 'firebreak', trx);

    if (incident.acknowledged_at || !isActiveStatus(incident.status)) {
      const reason = incident.acknowledged_at ? `acknowledged by ${incident.acknowledged_by}` : `incident is ${incident.status}`;
      if (!(await advance({ status: 'stopped', due_at: null, stopped_reason: reason }))) return null;
      await finish(null);
      return { entries: await timeline([{ kind: 'escalation_stopped', summary: `escalation stopped: ${reason}`, data: { reason } }]), enqueued: false };
    }

    const step = nextEscalationStep({ next_level: row.next_level, cycle: row.cycle, repeat: row.repeat, levels });
    if (step.kind === 'exhausted') {
      const reason = `nobody acknowledged after ${levels.length} level(s)${row.repeat ? ` and ${row.repeat} repeat(s)` : ''}`;
      if (!(await advance({ status: 'exhausted', due_at: null, stopped_reason: reason }))) return null;
      await finish(null);
      return { entries: await timeline([{ kind: 'escalation_exhausted', summary: `escalation exhausted: ${reason}`, data: { policy: row.policy_id } }]), enqueued: false };
    }

    const dueAt = new Date(nowDate.getTime() + step.then.due_in_minutes * 60_000).toISOString();
    if (!(await advance({ next_level: step.then.next_level, cycle: step.then.cycle, due_at: dueAt }))) return null;
    await finish(dueAt);

    const level = levels[step.level]!;
    const users: string[] = [];
    const notes: string[] = [];
    for (const target of level.targets) {
      if ('user' in target) {
        users.push(target.user);
        continue;
      }
      const schedule = await this.options.schedules.getSchedule(target.schedule, trx).catch(() => null);
      const shift = schedule ? this.options.schedules.shiftAt(schedule, nowDate) : null;
      if (shift) users.push(shift.user);
      else notes.push(schedule ? `schedule ${target.schedule} has nobody on call` : `schedule ${target.schedule} no longer exists`);
    }
    const unique = [...new Set(users)];
    const escalation = {
      level: step.level + 1,
      levels: levels.length,
      cycle: step.cycle,
      targets: unique.join(', ') || 'nobody',
      next_at: dueAt,
    };
    const outcome = unique.length
      ? await this.options.notifications.enqueueInTransaction(trx, {
          event: 'incident.escalated',
          incidentId: row.incident_id,
          users: unique,
          context: { escalation },
        })
      : { ids: [], unreachable: [], recipients: [] };
    notes.push(...outcome.unreachable);
    const summary =
      `escalation level ${step.level + 1} of ${levels.length}${step.cycle ? ` (repeat ${step.cycle})` : ''}: ` +
      `paged ${outcome.recipients.join(', ') || 'nobody'}${notes.length ? `; ${notes.join('; ')}` : ''}; next level at ${dueAt} unless acknowledged`;
    const entries = await timeline([
      { kind: 'escalated', summary, data: { policy: row.policy_id, escalation, notifications: outcome.ids, unreachable: notes } },
    ]);
    return { entries, enqueued: outcome.ids.length > 0 };
  }
}

function policyFromRow(row: PolicyRow): Policy {
  return {
    id: row.id,
    team: row.team,
    name: row.name,
    repeat: row.repeat,
    levels: fromJson<EscalationLevel[]>(row.levels, []),
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

function escalationFromRow(row: EscalationRow): EscalationState {
  return {
    incident_id: row.incident_id,
    policy_id: row.policy_id,
    team: row.team,
    status: row.status as EscalationState['status'],
    next_level: row.next_level,
    cycle: row.cycle,
    repeat: row.repeat,
    due_at: row.due_at,
    stopped_reason: row.stopped_reason,
    levels: fromJson<EscalationLevel[]>(row.levels, []),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
