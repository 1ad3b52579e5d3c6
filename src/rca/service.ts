import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../shared/errors.ts';
import { parseWithSchema } from '../shared/validation.ts';
import { fromJson, toJson, type Database, type Executor } from '../storage/index.ts';
import { incidentRepository, type IncidentService } from '../incidents/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import {
  collectEvidence,
  emptyFishbone,
  emptyFiveWhys,
  rootCauseOf,
  toggleVote,
  validateFishbone,
  validateFiveWhys,
} from './analysis.ts';
import {
  FishboneBodySchema,
  FiveWhysBodySchema,
  type Analysis,
  type AnalysisKind,
  type Evidence,
  type EvidenceKind,
  type FishboneBody,
  type FiveWhysBody,
} from './schemas.ts';
import {
  analysesOfIncident,
  analysisHistory,
  findAnalysis,
  insertAnalysis,
  insertAnalysisHistory,
  setAcceptedAnalysis,
  updateAnalysis,
  type AnalysisRow,
} from './repository.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    'rca.root_cause_accepted': { incidentId: string; analysisId: string; rootCause: string };
  }
}

/** Checks that a piece of evidence names a real record of this incident; returns why not, or null. */
export type EvidenceResolver = (evidence: Evidence, incidentId: string) => Promise<string | null>;

/** Turns a recommendation into a tracked action item; provided by the capability that tracks action items. */
export type ActionItemCreator = (input: {
  incidentId: string;
  title: string;
  owner: string;
  priority: string;
  dueDate: string;
  source: string;
  actor: string;
}) => Promise<{ id: string }>;

type Row = AnalysisRow;

export class RcaService {
  private readonly db: Database['db'];
  private readonly resolvers = new Map<EvidenceKind, EvidenceResolver>();
  private actionItemCreator: ActionItemCreator | undefined;

  constructor(
    private readonly database: Database,
    private readonly incidents: IncidentService,
    private readonly catalog: CatalogService,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db;
    this.registerEvidenceResolver('timeline_entry', async (evidence, incidentId) => {
      if (evidence.kind !== 'timeline_entry') return null;
      const entryIncident = await incidentRepository.incidentOfTimelineEntry(this.db, evidence.entry_id);
      return entryIncident === incidentId ? null : `timeline entry ${evidence.entry_id} is not on incident ${incidentId}`;
    });
    this.registerEvidenceResolver('llm_stats_window', async (evidence) => {
      if (evidence.kind !== 'llm_stats_window') return null;
      if (Date.parse(evidence.from) >= Date.parse(evidence.to)) return 'the window must end after it starts';
      const known = await this.catalog.servicesById([evidence.service]);
      return known.has(evidence.service) ? null : `service ${evidence.service} does not exist`;
    });
    this.registerEvidenceResolver('link', async () => null);
  }

  /** Capabilities that own records (alerts, plan executions) register how to check references to them. */
  registerEvidenceResolver(kind: EvidenceKind, resolver: EvidenceResolver): void {
    this.resolvers.set(kind, resolver);
  }

  setActionItemCreator(creator: ActionItemCreator): void {
    this.actionItemCreator = creator;
  }

  async create(incidentId: string, input: { kind: AnalysisKind; title?: string; problem?: string; template?: string }, actor: string): Promise<Analysis> {
    const incident = await this.incidents.get(incidentId);
    if (input.template && input.kind !== 'five_whys') {
      throw new AppError('validation_failed', 'template: templates exist for 5 whys only', { field: 'template' });
    }
    const problem = input.problem ?? incident.title;
    const body = input.kind === 'five_whys' ? emptyFiveWhys(problem, input.template) : emptyFishbone(problem);
    const now = this.clock().toISOString();
    const row: Row = {
      id: randomUUID(),
      incident_id: incidentId,
      kind: input.kind,
      title: input.title ?? (input.kind === 'five_whys' ? `5 whys: ${problem}` : `Fishbone: ${problem}`),
      author: actor,
      status: 'draft',
      accepted: 0,
      root_cause: null,
      body: toJson(body),
      created_at: now,
      updated_at: now,
      version: 1,
    };
    await this.db.transaction().execute(async (trx) => {
      await insertAnalysis(trx, row);
      await this.recordHistory(trx, row, actor, 'created');
    });
    await this.incidents.appendTimeline(incidentId, [{ kind: 'rca_started', summary: `${actor} started ${row.title}`, data: { analysis_id: row.id, kind: row.kind } }], actor);
    return fromRow(row);
  }

  async list(incidentId: string): Promise<Analysis[]> {
    await this.incidents.get(incidentId);
    const rows = await analysesOfIncident(this.db, incidentId);
    return rows.map(fromRow);
  }

  async get(id: string): Promise<Analysis> {
    const row = await findAnalysis(this.db, id);
    if (!row) throw notFound('analysis', id);
    return fromRow(row);
  }

  async update(id: string, input: { version: number; title?: string; body: unknown }, actor: string): Promise<Analysis> {
    const current = await this.get(id);
    const body = await this.validateBody(current.kind, input.body, current.incident_id);
    return this.write(current, input.version, actor, 'edited', { title: input.title ?? current.title, body });
  }

  async review(id: string, version: number | undefined, actor: string): Promise<Analysis> {
    const current = await this.get(id);
    if (current.status === 'reviewed') throw new AppError('conflict', `analysis ${id} is already reviewed`);
    return this.write(current, version ?? current.version, actor, 'reviewed', { status: 'reviewed' });
  }

  /** Makes this analysis's root cause the incident's root cause (and so input to correlation by cause). */
  async accept(id: string, actor: string): Promise<Analysis> {
    const current = await this.get(id);
    const rootCause = rootCauseOf(current.body);
    if (!rootCause) {
      throw new AppError('conflict', `analysis ${id} has no root cause yet: ${current.kind === 'five_whys' ? 'choose the last why of a branch' : 'choose a cause'}`);
    }
    for (let attempt = 0; ; attempt++) {
      const incident = await this.incidents.get(current.incident_id);
      try {
        if (incident.root_cause !== rootCause) await this.incidents.update(incident.id, { root_cause: rootCause }, incident.version, actor);
        break;
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'version_conflict' && attempt < 5)) throw error;
      }
    }
    await this.db.transaction().execute(async (trx) => {
      await setAcceptedAnalysis(trx, current.incident_id, id, { updated_at: this.clock().toISOString(), version: current.version + 1 });
      await this.recordHistory(trx, { ...toRow(current), accepted: 1, version: current.version + 1 }, actor, `accepted root cause: ${rootCause}`);
    });
    await this.incidents.appendTimeline(
      current.incident_id,
      [{ kind: 'root_cause_accepted', summary: `root cause accepted from ${current.title}: ${rootCause}`, data: { analysis_id: id, root_cause: rootCause } }],
      actor,
    );
    return this.get(id);
  }

  async vote(id: string, causeId: string, actor: string): Promise<Analysis> {
    const current = await this.get(id);
    if (current.kind !== 'fishbone') throw new AppError('conflict', 'votes are cast on fishbone causes');
    const body = toggleVote(current.body as FishboneBody, causeId, actor);
    return this.write(current, current.version, actor, `vote on ${causeId}`, { body });
  }

  async history(id: string): Promise<{ id: number; analysis_id: string; at: string; actor: string; change: string; version: number; snapshot: unknown }[]> {
    await this.get(id);
    const rows = await analysisHistory(this.db, id);
    return rows.map((r) => ({ ...r, id: Number(r.id), snapshot: fromJson<unknown>(r.snapshot, null) }));
  }

  async createActionItem(
    id: string,
    recommendationId: string,
    input: { owner: string; priority: string; due_date: string },
    actor: string,
  ): Promise<{ analysis: Analysis; action_item_id: string }> {
    const current = await this.get(id);
    if (current.kind !== 'five_whys') throw new AppError('conflict', 'recommendations belong to 5-whys analyses');
    const body = structuredClone(current.body as FiveWhysBody);
    const recommendation = body.recommendations?.find((r) => r.id === recommendationId);
    if (!recommendation) throw notFound('recommendation', recommendationId);
    if (recommendation.action_item_id) throw new AppError('conflict', `recommendation ${recommendationId} is already action item ${recommendation.action_item_id}`);
    if (!this.actionItemCreator) throw new AppError('conflict', 'action items are not available: the recovery capability is not installed');
    const item = await this.actionItemCreator({
      incidentId: current.incident_id,
      title: recommendation.text,
      owner: input.owner,
      priority: input.priority,
      dueDate: input.due_date,
      source: `analysis ${id} recommendation ${recommendationId}`,
      actor,
    });
    recommendation.action_item_id = item.id;
    const analysis = await this.write(current, current.version, actor, `recommendation ${recommendationId} became action item ${item.id}`, { body });
    return { analysis, action_item_id: item.id };
  }

  private async validateBody(kind: AnalysisKind, raw: unknown, incidentId: string): Promise<FiveWhysBody | FishboneBody> {
    let body: FiveWhysBody | FishboneBody;
    if (kind === 'five_whys') {
      body = parseWithSchema(FiveWhysBodySchema, raw, 'body');
      validateFiveWhys(body);
    } else {
      body = parseWithSchema(FishboneBodySchema, raw, 'body');
      validateFishbone(body);
    }
    for (const { path, evidence } of collectEvidence(body)) {
      const resolver = this.resolvers.get(evidence.kind);
      const problem = resolver
        ? await resolver(evidence, incidentId)
        : `${evidence.kind} evidence cannot be checked: the capability that owns it is not installed`;
      if (problem) throw new AppError('unprocessable', `body.${path}: ${problem}`, { field: `body.${path}` });
    }
    return body;
  }

  private async write(
    current: Analysis,
    expectedVersion: number,
    actor: string,
    change: string,
    patch: Partial<Pick<Analysis, 'title' | 'status' | 'body'>>,
  ): Promise<Analysis> {
    if (expectedVersion !== current.version) {
      throw new AppError('version_conflict', `analysis ${current.id} is at version ${current.version}, not ${expectedVersion}; reload and retry`, { field: 'version' });
    }
    const next: Analysis = { ...current, ...patch, updated_at: this.clock().toISOString(), version: current.version + 1 };
    next.root_cause = rootCauseOf(next.body);
    const row = toRow(next);
    await this.db.transaction().execute(async (trx) => {
      const updated = await updateAnalysis(trx, current.id, current.version, {
        title: row.title,
        status: row.status,
        body: row.body,
        root_cause: row.root_cause,
        updated_at: row.updated_at,
        version: row.version,
      });
      if (!updated) throw new AppError('version_conflict', `analysis ${current.id} was changed concurrently; reload and retry`);
      await this.recordHistory(trx, row, actor, change);
    });
    return next;
  }

  private async recordHistory(trx: Executor, row: Row, actor: string, change: string): Promise<void> {
    await insertAnalysisHistory(trx, {
      analysis_id: row.id,
      at: row.updated_at,
      actor,
      change,
      version: row.version,
      snapshot: toJson({ title: row.title, status: row.status, body: JSON.parse(row.body) }),
    });
  }
}

function fromRow(row: Row): Analysis {
  return { ...row, accepted: Boolean(row.accepted), body: fromJson<FiveWhysBody | FishboneBody>(row.body, { problem: '', whys: [] }) };
}

function toRow(analysis: Analysis): Row {
  return { ...analysis, accepted: analysis.accepted ? 1 : 0, body: toJson(analysis.body) };
}
