import { AppError, notFound } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import type { DomainEvents } from '../shared/events.ts';
import { CommitBatcher, toJson, type BatchOutcome, type Database, type Executor } from '../storage/index.ts';
import type { IncidentTimes } from './metrics.ts';
import { chooseOwningTeam, type CatalogService, type TeamAssignment } from '../catalog/index.ts';
import {
  ALLOWED_TRANSITIONS,
  isActiveStatus,
  isReopening,
  isTransitionAllowed,
  SEVERITIES,
  type IncidentStatus,
} from './lifecycle.ts';
import { formatIncidentId, incidentDay } from './ids.ts';
import type {
  BulkActionInput,
  BulkResult,
  CreateIncidentInput,
  IncidentCounts,
  IncidentCountsQuery,
  IncidentSort,
  Incident,
  ListIncidentsQuery,
  PatchIncidentInput,
  ResolveInput,
  TimelineEntry,
} from './schemas.ts';
import { incidentFromRow, timelineFromRow, type IncidentRow } from './schema.ts';
import {
  allocateIncidentNumbers,
  countIncidents,
  findIncident,
  findIncidents,
  incidentTimesDetectedBetween,
  insertIncidentRows,
  insertIncidentServiceRows,
  insertTimelineEntries,
  listIncidents,
  replaceIncidentServices,
  timelineOfIncident,
  timelineValues,
  updateIncident,
} from './repository.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    'incident.created': { incident: Incident };
    'incident.updated': { incident: Incident; previous: Incident; kinds: string[] };
    'timeline.appended': { entry: TimelineEntry };
  }
}

export interface TimelineDraft {
  kind: string;
  summary: string;
  data?: Record<string, unknown>;
  /** Defaults to the actor of the change that produced it. */
  actor?: string;
}

export interface CreatedIncident {
  incident: Incident;
  entries: TimelineEntry[];
}

interface CreationRequest {
  input: CreateIncidentInput;
  actor: string;
}

interface Mutation {
  set: Partial<IncidentRow>;
  entries: TimelineDraft[];
  services?: string[];
}

const MAX_OPTIMISTIC_RETRIES = 5;

/** Fields a PATCH may change, with how each is stored and how its timeline entry is worded. */
const PATCHABLE = [
  'title',
  'description',
  'severity',
  'assignee',
  'team',
  'root_cause',
  'resolution',
  'lessons_learned',
] as const satisfies readonly (keyof PatchIncidentInput & keyof IncidentRow)[];

export class IncidentService {
  private readonly db: Database['db'];

  constructor(
    database: Database,
    private readonly catalog: CatalogService,
    private readonly events: DomainEvents,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db;
  }

  // Incident creation is the API's hottest write: concurrent creations share one transaction (see CommitBatcher).
  private readonly creations = new CommitBatcher<CreationRequest, CreatedIncident>((requests) => this.writeCreations(requests));

  /** Runs `work` in one transaction; capabilities that must create an incident atomically with their own rows pass theirs. */
  transaction<T>(work: (trx: Executor) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  /**
   * Opens an incident. Creations that arrive together are written in one transaction (group commit);
   * the incident is returned only after that transaction has committed.
   */
  async create(input: CreateIncidentInput, actor: string): Promise<Incident> {
    const created = await this.creations.submit({ input, actor });
    this.announceCreated(created);
    return created.incident;
  }

  /**
   * Creates an incident inside a caller's transaction (alert ingestion opens incidents atomically with
   * the alert). The caller must pass the result to `announceCreated` after committing.
   */
  async createInTransaction(trx: Executor, input: CreateIncidentInput, actor: string): Promise<CreatedIncident> {
    const [outcome] = await this.createManyInTransaction(trx, [{ input, actor }]);
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.value;
  }

  /** One batch of the group commit: one transaction for all; if a write fails, each is retried alone so only the culprit fails. */
  private async writeCreations(requests: CreationRequest[]): Promise<BatchOutcome<CreatedIncident>[]> {
    try {
      return await this.transaction((trx) => this.createManyInTransaction(trx, requests));
    } catch (error) {
      if (requests.length === 1) return [{ ok: false, error }];
      const outcomes: BatchOutcome<CreatedIncident>[] = [];
      for (const request of requests) {
        try {
          outcomes.push(...(await this.transaction((trx) => this.createManyInTransaction(trx, [request]))));
        } catch (alone) {
          outcomes.push({ ok: false, error: alone });
        }
      }
      return outcomes;
    }
  }

  /**
   * Validates each request (unknown services or team fail that request alone, before anything is
   * written), then writes all valid ones with one statement per table: numbers are allocated in one
   * counter upsert, so they are consecutive and in arrival order.
   */
  private async createManyInTransaction(trx: Executor, requests: readonly CreationRequest[]): Promise<BatchOutcome<CreatedIncident>[]> {
    const outcomes: BatchOutcome<CreatedIncident>[] = [];
    const catalogue = await this.catalog.servicesById([...new Set(requests.flatMap((r) => r.input.services ?? []))], trx);
    const accepted: { index: number; request: CreationRequest; services: string[]; assignment: TeamAssignment }[] = [];
    for (const [index, request] of requests.entries()) {
      const { input, actor } = request;
      try {
        const services = input.services ?? [];
        services.forEach((service, i) => {
          if (!catalogue.has(service)) {
            throw new AppError('unprocessable', `services[${i}]: service ${service} does not exist; create it first`, { field: `services[${i}]` });
          }
        });
        let assignment = chooseOwningTeam(services, catalogue);
        if (input.team !== undefined) {
          await this.assertTeamExists(input.team, 'team', trx);
          assignment = { team: input.team, reason: `team ${input.team} chosen by ${actor}` };
        }
        accepted.push({ index, request, services, assignment });
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    }
    if (accepted.length === 0) return outcomes;

    const now = this.clock();
    const nowIso = now.toISOString();
    const firstNumber = (await allocateIncidentNumbers(trx, incidentDay(now), accepted.length)) - accepted.length + 1;
    const rows = accepted.map(({ request: { input, actor }, services, assignment }, k): IncidentRow => ({
      id: formatIncidentId(now, firstNumber + k),
      title: input.title,
      description: input.description ?? '',
      severity: input.severity,
      status: 'detected',
      impact_users_affected: input.impact?.users_affected ?? null,
      impact_revenue: input.impact?.revenue ?? null,
      impact_description: input.impact?.description ?? null,
      services: toJson(services),
      team: assignment.team,
      assignee: input.assignee ?? null,
      detected_at: input.detected_at ? new Date(input.detected_at).toISOString() : nowIso,
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: null,
      actions_taken: '[]',
      root_cause: null,
      resolution: null,
      lessons_learned: null,
      labels: toJson(input.labels ?? {}),
      created_by: actor,
      created_at: nowIso,
      updated_at: nowIso,
      version: 1,
    }));
    await insertIncidentRows(trx, rows);
    await insertIncidentServiceRows(
      trx,
      accepted.flatMap(({ services }, k) => services.map((service) => [rows[k]!.id, service] as const)),
    );
    const entries = await this.insertTimeline(
      trx,
      nowIso,
      accepted.flatMap(({ request: { input, actor }, services, assignment }, k) => [
        { incidentId: rows[k]!.id, actor, kind: 'created', summary: `${input.severity} incident opened: ${input.title}`, data: { severity: input.severity, services } },
        { incidentId: rows[k]!.id, actor, kind: 'assigned', summary: assignment.reason, data: { field: 'team', old: null, new: assignment.team } },
      ]),
    );
    accepted.forEach(({ index }, k) => {
      outcomes[index] = { ok: true, value: { incident: incidentFromRow(rows[k]!), entries: entries.slice(2 * k, 2 * k + 2) } };
    });
    return outcomes;
  }

  announceCreated(created: CreatedIncident): void {
    this.events.emit('incident.created', { incident: created.incident });
    for (const entry of created.entries) this.events.emit('timeline.appended', { entry });
  }

  async get(id: string, db: Executor = this.db): Promise<Incident> {
    const row = await findIncident(db, id);
    if (!row) throw notFound('incident', id);
    return incidentFromRow(row);
  }

  /** The incidents of these ids that exist, by id: one read for a batch (a dispatcher's burst of entries). */
  async getMany(ids: readonly string[], db: Executor = this.db): Promise<Map<string, Incident>> {
    const rows = await findIncidents(db, [...new Set(ids)]);
    return new Map(rows.map((row) => [row.id, incidentFromRow(row)]));
  }

  async list(query: ListIncidentsQuery): Promise<{ items: Incident[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    const { cursor, limit: _limit, sort: _sort, ...filter } = query;
    const sort: IncidentSort = query.sort ?? (query.active ? 'urgency' : 'newest');
    if (sort === 'urgency') {
      const after = cursor ? decodeUrgencyCursor(cursor) : undefined;
      const rows = await listIncidents(this.db, filter, {
        sort,
        limit,
        after: after && { sort, ackRank: after[0], severityRank: after[1], createdAt: after[2], id: after[3] },
      });
      const items = rows.slice(0, limit).map(incidentFromRow);
      const last = items[items.length - 1];
      return { items, next_cursor: rows.length > limit && last ? encodeUrgencyCursor(last) : null };
    }
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await listIncidents(this.db, filter, { sort, limit, after: after && { sort, createdAt: after[0], id: after[1] } });
    const items = rows.slice(0, limit).map(incidentFromRow);
    const last = items[items.length - 1];
    return { items, next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
  }

  /** How many incidents match the filters, split the way a responder's views split them. */
  async counts(query: IncidentCountsQuery, me: string): Promise<IncidentCounts> {
    const row = await countIncidents(this.db, query, query.assignee ?? me);
    return { total: row.total, active: row.active, triggered: row.triggered, acknowledged: row.active - row.triggered, mine: row.mine, closed: row.total - row.active };
  }

  /**
   * Acknowledges or resolves several incidents, each in its own transaction: one that moved on since
   * the list was drawn (already acknowledged, already resolved) is reported, and the others still go through.
   */
  async bulk(input: BulkActionInput, actor: string): Promise<BulkResult> {
    if (input.action === 'resolve' && !input.resolution?.trim()) {
      throw new AppError('validation_failed', 'resolution: say how these incidents were resolved', { field: 'resolution' });
    }
    const results: BulkResult['results'] = [];
    for (const id of input.ids) {
      try {
        const incident =
          input.action === 'acknowledge' ? await this.acknowledge(id, actor) : await this.resolve(id, { resolution: input.resolution!.trim() }, actor);
        results.push({ id, ok: true, incident });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        results.push({ id, ok: false, error: { code: error.code, detail: error.message } });
      }
    }
    return { results };
  }

  async update(id: string, patch: PatchIncidentInput, expectedVersion: number | undefined, actor: string): Promise<Incident> {
    const version = expectedVersion ?? patch.version;
    if (patch.team !== undefined && patch.team !== null) await this.assertTeamExists(patch.team, 'team');
    if (patch.services) {
      const known = await this.catalog.servicesById(patch.services);
      patch.services.forEach((service, i) => {
        if (!known.has(service)) {
          throw new AppError('unprocessable', `services[${i}]: service ${service} does not exist`, { field: `services[${i}]` });
        }
      });
    }
    return this.mutate(id, version, true, actor, (current) => {
      const set: Partial<IncidentRow> = {};
      const entries: TimelineDraft[] = [];
      for (const field of PATCHABLE) {
        const next = patch[field];
        if (next === undefined || next === current[field]) continue;
        (set as Record<string, unknown>)[field] = next;
        const assignment = field === 'team' || field === 'assignee';
        entries.push({
          kind: assignment ? 'assigned' : 'field_updated',
          summary: `${field} changed from ${describe(current[field])} to ${describe(next)}`,
          data: { field, old: current[field], new: next },
        });
      }
      const jsonFields = [
        ['services', patch.services, current.services],
        ['actions_taken', patch.actions_taken, current.actions_taken],
        ['labels', patch.labels, current.labels],
      ] as const;
      for (const [field, next, old] of jsonFields) {
        if (next === undefined || toJson(next) === toJson(old)) continue;
        (set as Record<string, unknown>)[field] = toJson(next);
        entries.push({ kind: 'field_updated', summary: `${field} changed`, data: { field, old, new: next } });
      }
      if (patch.impact) {
        const nextImpact = { ...current.impact, ...patch.impact };
        if (toJson(nextImpact) !== toJson(current.impact)) {
          set.impact_users_affected = nextImpact.users_affected ?? null;
          set.impact_revenue = nextImpact.revenue ?? null;
          set.impact_description = nextImpact.description ?? null;
          entries.push({ kind: 'field_updated', summary: 'impact changed', data: { field: 'impact', old: current.impact, new: nextImpact } });
        }
      }
      return { set, entries, ...(patch.services && set.services !== undefined ? { services: patch.services } : {}) };
    });
  }

  async acknowledge(id: string, actor: string, expectedVersion?: number): Promise<Incident> {
    return this.mutate(id, expectedVersion, false, actor, (current, now) => {
      if (current.acknowledged_at) {
        throw new AppError('conflict', `incident ${id} was already acknowledged by ${current.acknowledged_by} at ${current.acknowledged_at}`);
      }
      if (!isActiveStatus(current.status)) throw new AppError('conflict', `incident ${id} is ${current.status}; there is nothing to acknowledge`);
      const set: Partial<IncidentRow> = { acknowledged_at: now, acknowledged_by: actor };
      const entries: TimelineDraft[] = [{ kind: 'acknowledged', summary: `acknowledged by ${actor}`, data: {} }];
      if (current.status === 'detected') {
        set.status = 'investigating';
        entries.push(statusEntry('detected', 'investigating'));
      }
      return { set, entries };
    });
  }

  async transition(
    id: string,
    to: IncidentStatus,
    actor: string,
    options: { note?: string; expectedVersion?: number } = {},
  ): Promise<Incident> {
    return this.mutate(id, options.expectedVersion, false, actor, (current, now) => {
      const from = current.status;
      assertTransition(id, from, to);
      const set: Partial<IncidentRow> = { status: to };
      const entries: TimelineDraft[] = [...implicitAcknowledgement(current, actor, now, set)];
      if (to === 'resolved') set.resolved_at = now;
      if (isReopening(from, to)) set.resolved_at = null;
      entries.push(statusEntry(from, to, options.note));
      return { set, entries };
    });
  }

  async resolve(id: string, input: ResolveInput, actor: string): Promise<Incident> {
    return this.mutate(id, input.version, false, actor, (current, now) => {
      assertTransition(id, current.status, 'resolved');
      const set: Partial<IncidentRow> = { status: 'resolved', resolved_at: now, resolution: input.resolution };
      if (input.root_cause !== undefined) set.root_cause = input.root_cause;
      const entries: TimelineDraft[] = [...implicitAcknowledgement(current, actor, now, set)];
      entries.push(statusEntry(current.status, 'resolved'));
      entries.push({
        kind: 'resolved',
        summary: `resolved: ${input.resolution}`,
        data: { resolution: input.resolution, root_cause: input.root_cause ?? current.root_cause },
      });
      return { set, entries };
    });
  }

  async addNote(id: string, text: string, actor: string): Promise<TimelineEntry> {
    await this.get(id);
    const [entry] = await this.insertTimeline(this.db, this.clock().toISOString(), [{ incidentId: id, actor, kind: 'note', summary: text, data: {} }]);
    this.events.emit('timeline.appended', { entry: entry! });
    return entry!;
  }

  /** For other capabilities (alerts, plans, recovery…) to record what they did on an incident's timeline. */
  async appendTimeline(incidentId: string, drafts: TimelineDraft[], actor: string, trx?: Executor): Promise<TimelineEntry[]> {
    const entries = await this.insertTimeline(trx ?? this.db, this.clock().toISOString(), drafts.map((d) => ({ ...d, incidentId, actor: d.actor ?? actor })));
    if (!trx) for (const entry of entries) this.events.emit('timeline.appended', { entry });
    return entries;
  }

  async timeline(id: string, options: { order?: 'asc' | 'desc'; kind?: string[] } = {}): Promise<TimelineEntry[]> {
    await this.get(id);
    return (await timelineOfIncident(this.db, id, options)).map(timelineFromRow);
  }

  /** The stored timestamps of incidents detected in [from, to), for metrics computed in the domain. */
  async timesDetectedBetween(from: string, to: string): Promise<IncidentTimes[]> {
    return incidentTimesDetectedBetween(this.db, from, to);
  }

  /** Appends entries (of one or several incidents) in as few statements as PreparedInsert allows; returns them in the order given. */
  private async insertTimeline(db: Executor, at: string, drafts: (TimelineDraft & { incidentId: string; actor: string })[]): Promise<TimelineEntry[]> {
    if (drafts.length === 0) return [];
    const rows = await insertTimelineEntries(
      db,
      drafts.map((d) => timelineValues({ ...d, at })),
    );
    return rows.map(timelineFromRow);
  }

  /**
   * Read, decide, write with a version guard, in one transaction. When the caller named a version, a
   * mismatch is their conflict (409). When they did not, a concurrent writer just means "decide again on
   * fresh state": nothing the other writer did is lost because our write is conditional on what we read.
   */
  private async mutate(
    id: string,
    expectedVersion: number | undefined,
    versionRequired: boolean,
    actor: string,
    decide: (current: Incident, nowIso: string) => Mutation,
  ): Promise<Incident> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.transaction(async (trx) => {
        const current = await this.get(id, trx);
        checkVersion('incident', id, current.version, expectedVersion, versionRequired);
        const now = this.clock().toISOString();
        const { set, entries, services } = decide(current, now);
        if (entries.length === 0) return { updated: current, previous: current, entries: [] as TimelineEntry[] };
        if (!(await updateIncident(trx, id, current.version, { ...set, updated_at: now, version: current.version + 1 }))) return null;
        if (services) await replaceIncidentServices(trx, id, services);
        const inserted = await this.insertTimeline(trx, now, entries.map((d) => ({ ...d, incidentId: id, actor: d.actor ?? actor })));
        return { updated: await this.get(id, trx), previous: current, entries: inserted };
      });
      if (outcome === null) {
        if (expectedVersion !== undefined) throw new AppError('version_conflict', `incident ${id} was changed concurrently; reload and retry`);
        if (attempt < MAX_OPTIMISTIC_RETRIES) continue;
        throw new AppError('version_conflict', `incident ${id} is being changed by many writers at once; retry`);
      }
      if (outcome.entries.length > 0) {
        this.events.emit('incident.updated', {
          incident: outcome.updated,
          previous: outcome.previous,
          kinds: outcome.entries.map((e) => e.kind),
        });
        for (const entry of outcome.entries) this.events.emit('timeline.appended', { entry });
      }
      return outcome.updated;
    }
  }

  private async assertTeamExists(team: string, field: string, trx?: Executor): Promise<void> {
    try {
      await this.catalog.getTeam(team, trx ? trx : undefined);
    } catch {
      throw new AppError('unprocessable', `${field}: team ${team} does not exist`, { field });
    }
  }
}

function assertTransition(id: string, from: IncidentStatus, to: IncidentStatus): void {
  if (isTransitionAllowed(from, to)) return;
  const allowed = ALLOWED_TRANSITIONS[from];
  throw new AppError(
    'invalid_transition',
    `incident ${id} cannot move from ${from} to ${to}; from ${from} it can move to ${allowed.length ? allowed.join(', ') : 'nothing (final state)'}`,
    { field: 'to', from, to, allowed },
  );
}

/** Anyone who moves an incident out of `detected` is working on it, so that counts as acknowledging it. */
function implicitAcknowledgement(current: Incident, actor: string, now: string, set: Partial<IncidentRow>): TimelineDraft[] {
  if (current.acknowledged_at || current.status !== 'detected') return [];
  set.acknowledged_at = now;
  set.acknowledged_by = actor;
  return [{ kind: 'acknowledged', summary: `acknowledged by ${actor} (by changing the status)`, data: { implicit: true } }];
}

function statusEntry(from: IncidentStatus, to: IncidentStatus, note?: string): TimelineDraft {
  const verb = isReopening(from, to) ? 'reopened' : 'moved';
  return {
    kind: 'status_changed',
    summary: `${verb} from ${from} to ${to}${note ? `: ${note}` : ''}`,
    data: { from, to, ...(note ? { note } : {}) },
  };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  const text = String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function severityRank(severity: string): number {
  const index = SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);
  return index < 0 ? SEVERITIES.length : SEVERITIES.length - 1 - index;
}

function encodeUrgencyCursor(incident: Incident): string {
  return Buffer.from(JSON.stringify([incident.acknowledged_at ? 1 : 0, severityRank(incident.severity), incident.created_at, incident.id])).toString('base64url');
}

function decodeUrgencyCursor(cursor: string): [number, number, string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 4 &&
      Number.isInteger(value[0]) &&
      Number.isInteger(value[1]) &&
      typeof value[2] === 'string' &&
      typeof value[3] === 'string'
    ) {
      return value as [number, number, string, string];
    }
  } catch {
    // fall through to the validation error
  }
  throw new AppError('validation_failed', 'cursor: not a cursor returned by this API for sort=urgency', { field: 'cursor' });
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch {
    // fall through to the validation error
  }
  throw new AppError('validation_failed', 'cursor: not a cursor returned by this API', { field: 'cursor' });
}
