import type { Updateable } from 'kysely';
import { AppError, notFound } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import { secondsBetween } from '../shared/stats.ts';
import type { DomainEvents } from '../shared/events.ts';
import { fromJson, toJson, JobLeaseLost, JobQueue, type ClaimedJob, type Database, type Executor } from '../storage/index.ts';
import type { Incident, IncidentService, TimelineDraft, TimelineEntry } from '../incidents/index.ts';
import type { KnownUsers } from './owners.ts';
import type { RecoveryService } from './service.ts';
import type { RecoveryReport } from './report.ts';
import type {
  ActionItem,
  CreateActionItemInput,
  ListActionItemsQuery,
  PatchActionItemInput,
  PatchPostmortemInput,
  PostmortemStatus,
} from './schemas.ts';
import type { ActionItemRow, PostmortemRow } from './schema.ts';
import * as repository from './repository.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    /** An open action item passed its due date; notification channels subscribe to this. */
    'action_item.overdue': { item: ActionItem };
    'postmortem.published': { incident_id: string; published_at: string };
  }
}

const SYSTEM_ACTOR = 'firebreak';
const OPEN_STATUSES = repository.OPEN_ACTION_ITEM_STATUSES;
/** An open action item becoming overdue: a storage job keyed by item id, due when its due date has passed. */
export const ITEM_OVERDUE_JOB = 'recovery.item_overdue';

/** An item is overdue once its due date (a UTC day) is over: from the start of the next day. */
export function overdueAt(dueDate: string): string {
  return new Date(Date.parse(`${dueDate}T00:00:00.000Z`) + 86_400_000).toISOString();
}

export interface PostmortemDocument {
  generated_at: string;
  incident: {
    id: string;
    title: string;
    severity: string;
    status: string;
    services: string[];
    team: string | null;
    assignee: string | null;
    detected_at: string;
    created_at: string;
    acknowledged_at: string | null;
    resolved_at: string | null;
  };
  summary: { written: string | null; facts: string };
  impact: {
    users_affected: number | null;
    revenue: number | null;
    description: string | null;
    services: string[];
    /** Detection to resolution, from the stored times. */
    duration_seconds: number | null;
  };
  detection: {
    how: string;
    detected_at: string;
    opened_at: string;
    opened_by: string;
    /** First signal to the incident being opened. */
    time_to_detect_seconds: number;
    acknowledged_at: string | null;
    acknowledged_by: string | null;
    time_to_acknowledge_seconds: number | null;
  };
  timeline: { at: string; actor: string; kind: string; summary: string }[];
  response: {
    actions_taken: string[];
    plan_executions: { available: boolean; items: ExecutionSummary[] };
  };
  root_cause: {
    statement: string | null;
    resolution: string | null;
    analyses: { available: boolean; items: AnalysisSummary[] };
    /** Changes the analyses cite as evidence, and the changes ranked most likely to have caused the incident. */
    changes: { available: boolean; cited: ChangeSummary[]; suspects: (ChangeSummary & { rank: number; score: number; reason: string })[] };
  };
  recovery: RecoveryReport | null;
  what_went_well: string | null;
  what_went_badly: string | null;
  lessons_learned: string | null;
  action_items: ActionItem[];
  publish_reason: string | null;
}

/** A postmortem as stored, with its document parsed. */
export type Postmortem = Omit<PostmortemRow, 'status' | 'document'> & { status: PostmortemStatus; document: PostmortemDocument };

const ALLOWED: Record<PostmortemStatus, readonly PostmortemStatus[]> = {
  draft: ['in_review'],
  in_review: ['draft', 'published'],
  published: [],
};

/** What a postmortem says about one response-plan execution. */
export interface ExecutionSummary {
  plan_id: string;
  plan_version: string;
  status: string;
  trigger: string;
  started_at: string;
  finished_at: string | null;
  steps: { step_id: string; phase: string; status: string; error: string | null }[];
}

/** What a postmortem says about one root-cause analysis. */
export interface AnalysisSummary {
  title: string;
  kind: string;
  status: string;
  accepted: boolean;
  author: string;
  root_cause: string | null;
  /** For 5 whys: the chosen branch, question and answer per step. */
  chain: { question: string; answer: string | null }[];
  /** Ids of the changes this analysis cites as evidence. */
  cited_changes?: string[];
}

/** What a postmortem says about one change (a deploy, a model or prompt rollout). */
export interface ChangeSummary {
  id: string;
  service: string;
  kind: string;
  summary: string;
  version_from: string | null;
  version_to: string | null;
  at: string;
}

/** The changes of an incident, from the change-tracking capability: those cited (by id) and the top suspects. */
export type ChangeSource = (
  incident: Incident,
  citedIds: string[],
) => Promise<{ cited: ChangeSummary[]; suspects: { change: ChangeSummary; rank: number; score: number; reason: string }[] }>;

export interface PostmortemServiceDeps {
  /** The incident's response-plan executions, when the plans capability is installed. */
  executions?: (incidentId: string) => Promise<ExecutionSummary[]>;
  /** The incident's root-cause analyses, when the RCA capability is installed. */
  analyses?: (incidentId: string) => Promise<AnalysisSummary[]>;
  /** Changes the analyses cite and the likeliest suspects, when change tracking is installed. */
  changes?: ChangeSource;
  database: Database;
  incidents: IncidentService;
  recovery: RecoveryService;
  users: KnownUsers;
  events: DomainEvents;
  clock: () => Date;
  /** Overdue notices are jobs, scheduled in the same transaction as the item's due date. */
  jobs: JobQueue;
}

/** Postmortems assembled from the incident's own records, and the action items that come out of them. */
export class PostmortemService {
  private readonly db: Database['db'];

  constructor(private readonly deps: PostmortemServiceDeps) {
    this.db = deps.database.db;
  }

  async create(incidentId: string, input: { summary?: string; what_went_well?: string; what_went_badly?: string }, actor: string): Promise<Postmortem> {
    await this.deps.incidents.get(incidentId);
    const now = this.deps.clock().toISOString();
    const entries = await this.transaction(async (trx) => {
      const existing = await repository.findPostmortem(trx, incidentId);
      if (existing) throw new AppError('conflict', `incident ${incidentId} already has a postmortem (${existing.status})`);
      await repository.insertPostmortem(trx, {
        incident_id: incidentId,
        status: 'draft',
        summary: input.summary ?? null,
        what_went_well: input.what_went_well ?? null,
        what_went_badly: input.what_went_badly ?? null,
        publish_reason: null,
        document: null,
        created_by: actor,
        created_at: now,
        updated_at: now,
        review_requested_at: null,
        published_at: null,
        published_by: null,
        version: 1,
      });
      return this.appendTimeline(trx, incidentId, actor, [{ kind: 'postmortem_created', summary: `postmortem draft started by ${actor}`, data: {} }]);
    });
    this.announce(entries);
    return this.get(incidentId);
  }

  async get(incidentId: string): Promise<Postmortem> {
    const row = await this.row(incidentId);
    const document = row.document ? fromJson<PostmortemDocument>(row.document, {} as PostmortemDocument) : await this.assemble(incidentId, row);
    const { document: _stored, ...rest } = row;
    return { ...rest, document };
  }

  async update(incidentId: string, patch: PatchPostmortemInput, expectedVersion: number | undefined, actor: string): Promise<Postmortem> {
    const entries = await this.transaction(async (trx) => {
      const current = await this.row(incidentId, trx);
      checkVersion('postmortem', incidentId, current.version, expectedVersion ?? patch.version, true);
      if (current.status === 'published') throw new AppError('conflict', `the postmortem of ${incidentId} is published and can no longer change`);
      const set: Partial<PostmortemRow> = {};
      const changed: string[] = [];
      for (const field of ['summary', 'what_went_well', 'what_went_badly'] as const) {
        if (patch[field] === undefined || patch[field] === current[field]) continue;
        set[field] = patch[field];
        changed.push(field);
      }
      if (changed.length === 0) return [];
      const updated = await repository.updatePostmortem(trx, incidentId, current.version, { ...set, updated_at: this.deps.clock().toISOString(), version: current.version + 1 });
      if (!updated) throw new AppError('version_conflict', `the postmortem of ${incidentId} was changed concurrently; reload and retry`);
      return this.appendTimeline(trx, incidentId, actor, [
        { kind: 'postmortem_updated', summary: `postmortem edited: ${changed.join(', ')}`, data: { fields: changed } },
      ]);
    });
    this.announce(entries);
    return this.get(incidentId);
  }

  async transition(incidentId: string, to: PostmortemStatus, actor: string, options: { reason?: string; version?: number }): Promise<Postmortem> {
    const current = await this.row(incidentId);
    checkVersion('postmortem', incidentId, current.version, options.version, false);
    if (!ALLOWED[current.status].includes(to)) {
      const allowed = ALLOWED[current.status];
      throw new AppError(
        'invalid_transition',
        `the postmortem of ${incidentId} cannot move from ${current.status} to ${to}; from ${current.status} it can move to ${allowed.length ? allowed.join(', ') : 'nothing (published is final)'}`,
        { field: 'to' },
      );
    }
    const now = this.deps.clock().toISOString();
    let document: PostmortemDocument | null = null;
    if (to === 'published') {
      const incident = await this.deps.incidents.get(incidentId);
      if (incident.status !== 'resolved' && incident.status !== 'post_incident') {
        throw new AppError('conflict', `incident ${incidentId} is still ${incident.status}; resolve it before publishing its postmortem`);
      }
      const items = await this.listActionItems({ incident: incidentId });
      const missing: string[] = [];
      if (!incident.root_cause?.trim()) missing.push('a root cause (set the incident’s root_cause)');
      if (items.length === 0) missing.push('at least one action item');
      if (missing.length > 0 && !options.reason) {
        throw new AppError('unprocessable', `reason: publishing needs ${missing.join(' and ')}, or an explicit reason why not`, {
          field: 'reason',
          missing,
        });
      }
      document = await this.assemble(incidentId, { ...current, publish_reason: options.reason ?? null }, now);
    }
    const entries = await this.transaction(async (trx) => {
      const moved = await repository.updatePostmortem(trx, incidentId, current.version, {
        status: to,
        updated_at: now,
        version: current.version + 1,
        ...(to === 'in_review' ? { review_requested_at: now } : {}),
        ...(to === 'published' ? { published_at: now, published_by: actor, publish_reason: options.reason ?? null, document: toJson(document) } : {}),
      });
      if (!moved) throw new AppError('version_conflict', `the postmortem of ${incidentId} was changed concurrently; reload and retry`);
      return this.appendTimeline(trx, incidentId, actor, [
        {
          kind: 'postmortem_status_changed',
          summary: `postmortem moved from ${current.status} to ${to}${options.reason ? `: ${options.reason}` : ''}`,
          data: { from: current.status, to, ...(options.reason ? { reason: options.reason } : {}) },
        },
      ]);
    });
    this.announce(entries);
    if (to === 'published') this.deps.events.emit('postmortem.published', { incident_id: incidentId, published_at: now });
    return this.get(incidentId);
  }

  /** Builds the document from the incident, its timeline, its recovery and its action items as they are now. */
  private async assemble(incidentId: string, row: PostmortemRow, at?: string): Promise<PostmortemDocument> {
    const incident = await this.deps.incidents.get(incidentId);
    const [timeline, report, items, executions, analyses] = await Promise.all([
      this.deps.incidents.timeline(incidentId),
      this.deps.recovery.hasPlan(incidentId).then((has) => (has ? this.deps.recovery.report(incidentId) : null)),
      this.listActionItems({ incident: incidentId }),
      this.deps.executions ? this.deps.executions(incidentId) : Promise.resolve(null),
      this.deps.analyses ? this.deps.analyses(incidentId) : Promise.resolve(null),
    ]);
    const changes = this.deps.changes ? await this.deps.changes(incident, [...new Set((analyses ?? []).flatMap((a) => a.cited_changes ?? []))]) : null;
    const brief = (c: ChangeSummary): ChangeSummary => ({ id: c.id, service: c.service, kind: c.kind, summary: c.summary, version_from: c.version_from, version_to: c.version_to, at: c.at });
    const created = timeline.find((e) => e.kind === 'created');
    const source = incident.labels.source ?? incident.labels.alert_source;
    const ttd = secondsBetween(incident.detected_at, incident.created_at);
    return {
      generated_at: at ?? this.deps.clock().toISOString(),
      incident: {
        id: incident.id,
        title: incident.title,
        severity: incident.severity,
        status: incident.status,
        services: incident.services,
        team: incident.team,
        assignee: incident.assignee,
        detected_at: incident.detected_at,
        created_at: incident.created_at,
        acknowledged_at: incident.acknowledged_at,
        resolved_at: incident.resolved_at,
      },
      summary: { written: row.summary, facts: factsOf(incident) },
      impact: {
        users_affected: incident.impact.users_affected,
        revenue: incident.impact.revenue,
        description: incident.impact.description,
        services: incident.services,
        duration_seconds: incident.resolved_at ? secondsBetween(incident.detected_at, incident.resolved_at) : null,
      },
      detection: {
        how:
          `opened by ${incident.created_by}${source ? ` from ${source}` : ''}${created ? ` (“${created.summary}”)` : ''}; ` +
          (ttd > 0 ? `the first signal was ${formatSeconds(ttd)} earlier` : 'at the first signal'),
        detected_at: incident.detected_at,
        opened_at: incident.created_at,
        opened_by: incident.created_by,
        time_to_detect_seconds: ttd,
        acknowledged_at: incident.acknowledged_at,
        acknowledged_by: incident.acknowledged_by,
        time_to_acknowledge_seconds: incident.acknowledged_at ? secondsBetween(incident.detected_at, incident.acknowledged_at) : null,
      },
      timeline: timeline.map((e) => ({ at: e.at, actor: e.actor, kind: e.kind, summary: e.summary })),
      response: {
        actions_taken: incident.actions_taken,
        plan_executions: { available: executions !== null, items: executions ?? [] },
      },
      root_cause: {
        statement: incident.root_cause,
        resolution: incident.resolution,
        analyses: { available: analyses !== null, items: analyses ?? [] },
        changes: {
          available: changes !== null,
          cited: (changes?.cited ?? []).map(brief),
          suspects: (changes?.suspects ?? []).map((s) => ({ ...brief(s.change), rank: s.rank, score: s.score, reason: s.reason })),
        },
      },
      recovery: report,
      what_went_well: row.what_went_well,
      what_went_badly: row.what_went_badly,
      lessons_learned: incident.lessons_learned,
      action_items: items,
      publish_reason: row.publish_reason,
    };
  }

  // ---- action items ----------------------------------------------------------------------------

  async createActionItem(incidentId: string, input: CreateActionItemInput, actor: string): Promise<ActionItem> {
    await this.deps.incidents.get(incidentId);
    await this.deps.users.assertKnown([{ owner: input.owner, field: 'owner' }]);
    const now = this.deps.clock().toISOString();
    const { item, entries } = await this.transaction(async (trx) => {
      const row = await repository.insertActionItem(trx, {
        incident_id: incidentId,
        title: input.title,
        owner: input.owner,
        priority: input.priority,
        due_date: input.due_date,
        status: 'open',
        link: input.link ?? null,
        created_by: actor,
        created_at: now,
        updated_at: now,
        completed_at: null,
        overdue_notified_at: null,
        version: 1,
      });
      await this.deps.jobs.schedule(JobQueue.in(trx), ITEM_OVERDUE_JOB, String(row.id), overdueAt(row.due_date));
      const item = this.itemFromRow(row);
      const entries = await this.appendTimeline(trx, incidentId, actor, [
        {
          kind: 'action_item_created',
          summary: `action item #${item.id} (${item.priority}, ${item.owner}, due ${item.due_date}): ${item.title}`,
          data: { action_item_id: item.id },
        },
      ]);
      return { item, entries };
    });
    this.announce(entries);
    return item;
  }

  async getActionItem(id: number): Promise<ActionItem> {
    const row = await repository.findActionItem(this.db, id);
    if (!row) throw notFound('action item', String(id));
    return this.itemFromRow(row);
  }

  async updateActionItem(id: number, patch: PatchActionItemInput, expectedVersion: number | undefined, actor: string): Promise<ActionItem> {
    if (patch.owner) await this.deps.users.assertKnown([{ owner: patch.owner, field: 'owner' }]);
    const { item, entries } = await this.transaction(async (trx) => {
      const current = await repository.findActionItem(trx, id);
      if (!current) throw notFound('action item', String(id));
      checkVersion('action item', String(id), current.version, expectedVersion ?? patch.version, true);
      const now = this.deps.clock().toISOString();
      const set: Updateable<ActionItemRow> = {};
      const changes: string[] = [];
      for (const field of ['title', 'owner', 'priority', 'due_date', 'status', 'link'] as const) {
        const next = patch[field];
        if (next === undefined || next === current[field]) continue;
        (set as Record<string, unknown>)[field] = next;
        changes.push(`${field} ${current[field] ?? '(none)'} → ${next ?? '(none)'}`);
      }
      if (changes.length === 0) return { item: this.itemFromRow(current), entries: [] as TimelineEntry[] };
      if (set.status !== undefined) set.completed_at = set.status === 'done' ? now : null;
      // A new due date is a new promise: it may become overdue (and be notified) again.
      if (set.due_date !== undefined) set.overdue_notified_at = null;
      if (!(await repository.updateActionItem(trx, id, current.version, { ...set, updated_at: now, version: current.version + 1 }))) {
        throw new AppError('version_conflict', `action item ${id} was changed concurrently; reload and retry`);
      }
      const updated = (await repository.findActionItem(trx, id))!;
      if (set.due_date !== undefined || set.status !== undefined) {
        // A new due date moves the notice; an item done or dropped (or already noticed for this date) needs none.
        const jobs = JobQueue.in(trx);
        if (OPEN_STATUSES.includes(updated.status) && updated.overdue_notified_at === null) {
          await this.deps.jobs.schedule(jobs, ITEM_OVERDUE_JOB, String(id), overdueAt(updated.due_date));
        } else {
          await this.deps.jobs.cancel(jobs, ITEM_OVERDUE_JOB, String(id));
        }
      }
      const entries = await this.appendTimeline(trx, current.incident_id, actor, [
        { kind: 'action_item_updated', summary: `action item #${id}: ${changes.join(', ')}`, data: { action_item_id: id, ...patch } },
      ]);
      return { item: this.itemFromRow(updated), entries };
    });
    this.announce(entries);
    return item;
  }

  async listActionItems(query: ListActionItemsQuery): Promise<ActionItem[]> {
    const rows = await repository.listActionItems(this.db, {
      ...(query.status ? { status: query.status } : {}),
      ...(query.owner ? { owner: query.owner } : {}),
      ...(query.incident ? { incident: query.incident } : {}),
      ...(query.overdue !== undefined ? { overdue: { overdue: query.overdue, today: this.today() } } : {}),
    });
    return rows.map((r) => this.itemFromRow(r));
  }

  /** Open items stored before their overdue notices were jobs (a database made by earlier code). */
  async adoptStoredOverdueNotices(): Promise<void> {
    const rows = await repository.unnotifiedOpenActionItems(this.db);
    await this.deps.jobs.adopt(this.deps.jobs.db, ITEM_OVERDUE_JOB, rows.map((r) => ({ key: String(r.id), runAt: overdueAt(r.due_date) })));
  }

  /**
   * Runs the claimed overdue job: marks the item overdue (once), notes it on its incident and emits
   * `action_item.overdue`, in one transaction with the job's completion. Returns whether it did.
   */
  async notifyOverdue(job: ClaimedJob): Promise<boolean> {
    let notice: { row: ActionItemRow; entries: TimelineEntry[] } | null;
    try {
      notice = await this.transaction(async (trx) => {
        const jobs = JobQueue.in(trx);
        const row = await repository.findActionItem(trx, Number(job.key));
        if (!row || !OPEN_STATUSES.includes(row.status) || row.overdue_notified_at !== null) {
          await this.deps.jobs.complete(jobs, job);
          return null;
        }
        const due = overdueAt(row.due_date);
        if (due > this.deps.clock().toISOString()) {
          await this.deps.jobs.complete(jobs, job, { runAt: due });
          return null;
        }
        if (!(await repository.claimOverdueNotice(trx, row.id, row.due_date, this.deps.clock().toISOString()))) {
          await this.deps.jobs.complete(jobs, job);
          return null;
        }
        await this.deps.jobs.completeWithEffect(jobs, job);
        const entries = await this.appendTimeline(trx, row.incident_id, SYSTEM_ACTOR, [
          {
            kind: 'action_item_overdue',
            summary: `action item #${row.id} is overdue (due ${row.due_date}, owner ${row.owner}): ${row.title}`,
            data: { action_item_id: Number(row.id), owner: row.owner, due_date: row.due_date },
          },
        ]);
        return { row, entries };
      });
    } catch (error) {
      if (error instanceof JobLeaseLost) return false;
      throw error;
    }
    if (!notice) return false;
    this.announce(notice.entries);
    this.deps.events.emit('action_item.overdue', { item: this.itemFromRow(notice.row) });
    return true;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private today(): string {
    return this.deps.clock().toISOString().slice(0, 10);
  }

  private itemFromRow(row: ActionItemRow): ActionItem {
    return {
      id: Number(row.id),
      incident_id: row.incident_id,
      title: row.title,
      owner: row.owner,
      priority: row.priority,
      due_date: row.due_date,
      status: row.status,
      link: row.link,
      overdue: OPEN_STATUSES.includes(row.status) && row.due_date < this.today(),
      created_by: row.created_by,
      created_at: row.created_at,
      updated_at: row.updated_at,
      completed_at: row.completed_at,
      version: row.version,
    };
  }

  private async row(incidentId: string, db: Executor = this.db): Promise<PostmortemRow> {
    const row = await repository.findPostmortem(db, incidentId);
    if (!row) {
      await this.deps.incidents.get(incidentId, db);
      throw new AppError('not_found', `incident ${incidentId} has no postmortem; start one with POST /api/v1/incidents/${incidentId}/postmortem`);
    }
    return row;
  }

  private transaction<T>(work: (trx: Executor) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  private appendTimeline(trx: Executor, incidentId: string, actor: string, drafts: TimelineDraft[]): Promise<TimelineEntry[]> {
    return this.deps.incidents.appendTimeline(incidentId, drafts, actor, trx);
  }

  private announce(entries: readonly TimelineEntry[]): void {
    for (const entry of entries) this.deps.events.emit('timeline.appended', { entry });
  }
}

function factsOf(incident: Incident): string {
  const services = incident.services.length ? ` affecting ${incident.services.join(', ')}` : '';
  const resolved = incident.resolved_at
    ? `, resolved ${formatSeconds(secondsBetween(incident.detected_at, incident.resolved_at))} after the first signal`
    : `, not resolved yet (${incident.status})`;
  return `${incident.severity} incident “${incident.title}”${services}, first signal at ${incident.detected_at}${resolved}.`;
}

/** `1 h 05 min 03 s` style durations for people; the JSON keeps exact seconds. */
export function formatSeconds(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.round(Math.abs(seconds));
  const d = Math.floor(rest / 86_400);
  rest -= d * 86_400;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s || parts.length === 0) parts.push(`${s} s`);
  return sign + parts.join(' ');
}
