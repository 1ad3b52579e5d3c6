import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AppError } from '../shared/errors.ts';
import type { DomainEvents } from '../shared/events.ts';
import { fromJson, isUniqueViolation, viewAs, type Database } from '../storage/index.ts';
import type { CatalogService, Service } from '../catalog/index.ts';
import { incidentRepository, type Incident, type IncidentService, type IncidentTables } from '../incidents/index.ts';
import {
  bucketOf,
  causeKey,
  labelKeys,
  PROXIMITY_HOURS,
  rootCauseKey,
  scoreCandidate,
  serviceKey,
  type CandidateEvidence,
} from './correlation.ts';
import { linkFromRow } from './schema.ts';
import * as repository from './repository.ts';
import type { CreateLinkInput, IncidentLink, RelatedCandidate } from './schemas.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    'incident.linked': { link: IncidentLink };
  }
}

const CATALOG_CACHE_MS = 5000;
const MAX_CANDIDATE_ROWS = 5000;
export const MIN_RELATED_SCORE = 0.15;


/** Another incident that followed the same change as the one asked about, with how strongly it points at both. */
export interface SharedChangeEvidence {
  incident_id: string;
  /** E.g. "the model change chg_… on chat-api (a → b)". */
  description: string;
  /** 0–1: the lower of the change's suspect scores for the two incidents. */
  strength: number;
}

/** Registered by the change capability (which comes after this one): the incidents that followed this incident's suspect changes. */
export type SharedChangeSource = (incident: Incident) => Promise<SharedChangeEvidence[]>;

/**
 * Keeps the correlation index current and answers "which incidents belong with this one" from it.
 * Every write is incremental (the keys of one incident); every read touches the keys of one incident
 * within a few hour buckets, so the cost does not grow with the number of stored incidents.
 */
export class CorrelationService {
  private readonly db: Kysely<object>;
  private services: { byId: Map<string, Service>; dependents: Map<string, string[]>; loadedMs: number } | null = null;
  private readonly sharedChangeSources: SharedChangeSource[] = [];

  constructor(
    database: Database,
    private readonly incidents: IncidentService,
    private readonly catalog: CatalogService,
    private readonly events: DomainEvents,
    private readonly clock: () => Date,
    private readonly log: Logger,
  ) {
    this.db = database.db;
  }

  /**
   * Registers a source of incidents that followed the same change, a correlation signal (`shared_change`). A hook
   * like rca's evidence resolvers: change tracking loads after ingest and plugs in here when it is installed.
   */
  registerSharedChangeSource(source: SharedChangeSource): void {
    this.sharedChangeSources.push(source);
  }

  /** Subscribes to incident changes so incidents opened or edited anywhere (API, plans, alerts) are indexed. */
  listen(): void {
    const run = (what: string, work: () => Promise<void>) => {
      work().catch((error: unknown) => this.log.error({ err: error }, `correlation index: ${what} failed`));
    };
    this.events.on('incident.created', ({ incident }) => run('indexing a new incident', () => this.indexIncident(this.db, incident)));
    this.events.on('incident.updated', ({ incident, previous }) => {
      const servicesChanged = incident.services.join('\0') !== previous.services.join('\0');
      if (servicesChanged || incident.root_cause !== previous.root_cause) run('re-indexing an incident', () => this.reindexIncident(incident));
    });
  }

  /** Adds an incident's own keys (services, root cause). Idempotent. */
  async indexIncident(db: object, incident: Pick<Incident, 'id' | 'services' | 'detected_at' | 'root_cause'>): Promise<void> {
    const keys = incident.services.map(serviceKey);
    const rc = rootCauseKey(incident.root_cause);
    if (rc) keys.push(rc);
    await this.addKeys(db, incident.id, incident.detected_at, keys);
  }

  async indexAlertLabels(db: object, incidentId: string, detectedAt: string, labels: Readonly<Record<string, string>>): Promise<void> {
    await this.addKeys(db, incidentId, detectedAt, labelKeys(labels));
  }

  /** `executor` is any capability's handle or transaction: keys are written inside the caller's transaction. */
  async addKeys(executor: object, incidentId: string, detectedAt: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await repository.addCorrelationKeys(viewAs<object>(executor), incidentId, bucketOf(detectedAt), detectedAt, [...new Set(keys)]);
  }

  private async reindexIncident(incident: Incident): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await repository.deleteServiceAndRootCauseKeys(trx, incident.id);
      await this.indexIncident(trx, incident);
    });
  }

  async link(fromId: string, input: CreateLinkInput, actor: string): Promise<IncidentLink> {
    if (fromId === input.to) throw new AppError('unprocessable', 'to: an incident cannot be linked to itself', { field: 'to' });
    const from = await this.incidents.get(fromId);
    let to: Incident;
    try {
      to = await this.incidents.get(input.to);
    } catch {
      throw new AppError('unprocessable', `to: incident ${input.to} does not exist`, { field: 'to' });
    }
    const now = this.clock().toISOString();
    const words = { related: 'related to', duplicate_of: 'a duplicate of', caused_by: 'caused by' }[input.kind];
    let link: IncidentLink;
    let timeline;
    try {
      ({ link, timeline } = await this.db.transaction().execute(async (trx) => {
        const row = await repository.insertLink(trx, { from_incident: from.id, to_incident: to.id, kind: input.kind, note: input.note ?? '', created_by: actor, created_at: now });
        if (input.kind === 'caused_by') await this.addKeys(trx, from.id, from.detected_at, [causeKey(to.id)]);
        const data = { link_id: Number(row.id), kind: input.kind, from: from.id, to: to.id, ...(input.note ? { note: input.note } : {}) };
        const entries = [
          ...(await this.incidents.appendTimeline(from.id, [{ kind: 'linked', summary: `marked as ${words} ${to.id}${input.note ? `: ${input.note}` : ''}`, data }], actor, viewAs<IncidentTables>(trx))),
          ...(await this.incidents.appendTimeline(to.id, [{ kind: 'linked', summary: `${from.id} marked as ${words} this incident`, data }], actor, viewAs<IncidentTables>(trx))),
        ];
        return { link: linkFromRow(row), timeline: entries };
      }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `${from.id} is already linked to ${to.id} as ${input.kind}`, { field: 'kind' });
      throw error;
    }
    for (const entry of timeline) this.events.emit('timeline.appended', { entry });
    this.events.emit('incident.linked', { link });
    return link;
  }

  async unlink(incidentId: string, linkId: number, actor: string): Promise<IncidentLink> {
    const row = await repository.findLink(this.db, linkId);
    if (!row || (row.from_incident !== incidentId && row.to_incident !== incidentId)) throw new AppError('not_found', `incident ${incidentId} has no link ${linkId}`);
    const link = linkFromRow(row);
    const entries = await this.db.transaction().execute(async (trx) => {
      await repository.deleteLink(trx, linkId);
      if (link.kind === 'caused_by') await repository.deleteCorrelationKey(trx, link.from_incident, causeKey(link.to_incident));
      const data = { link_id: link.id, kind: link.kind, from: link.from_incident, to: link.to_incident };
      const summary = `link ${link.from_incident} ${link.kind} ${link.to_incident} removed`;
      return [
        ...(await this.incidents.appendTimeline(link.from_incident, [{ kind: 'unlinked', summary, data }], actor, viewAs<IncidentTables>(trx))),
        ...(await this.incidents.appendTimeline(link.to_incident, [{ kind: 'unlinked', summary, data }], actor, viewAs<IncidentTables>(trx))),
      ];
    });
    for (const entry of entries) this.events.emit('timeline.appended', { entry });
    return link;
  }

  async links(incidentId: string): Promise<IncidentLink[]> {
    const rows = await repository.linksOfIncident(this.db, incidentId);
    return rows.map(linkFromRow);
  }

  /** Every responder-made link as a pair of incident ids (links are few: people make them one by one). */
  async linkedPairs(): Promise<[string, string][]> {
    const rows = await repository.linkedPairs(this.db);
    return rows.map((r) => [r.from_incident, r.to_incident]);
  }

  private async catalogue(): Promise<{ byId: Map<string, Service>; dependents: Map<string, string[]> }> {
    if (this.services && Date.now() - this.services.loadedMs < CATALOG_CACHE_MS) return this.services;
    const list = await this.catalog.listServices();
    const byId = new Map(list.map((s) => [s.id, s]));
    const dependents = new Map<string, string[]>();
    for (const s of list) for (const dep of s.depends_on) dependents.set(dep, [...(dependents.get(dep) ?? []), s.id]);
    this.services = { byId, dependents, loadedMs: Date.now() };
    return this.services;
  }

  /** Candidates related to an incident, best first, from the index only. */
  async related(incidentId: string, limit = 20): Promise<{ incident_id: string; candidates: RelatedCandidate[]; links: IncidentLink[] }> {
    const incident = await this.incidents.get(incidentId);
    let ownKeys = await repository.correlationKeysOf(this.db, incident.id);
    if (ownKeys.length === 0) {
      // Not yet indexed (created before this capability, or its listener has not run yet): index it now.
      await this.indexIncident(this.db, incident);
      ownKeys = await repository.correlationKeysOf(this.db, incident.id);
    }
    const labelSet = new Set(ownKeys.filter((k) => k.startsWith('lbl:')));
    const rootCauseKeys = ownKeys.filter((k) => k.startsWith('rc:') || k.startsWith('cause:'));
    const { byId, dependents } = await this.catalogue();

    // Services related through the catalogue: what ours depend on, and what depends on ours.
    const dependencyOf = new Map<string, { mine: string; direction: 'depends_on' | 'depended_on_by' }[]>();
    for (const mine of incident.services) {
      for (const dep of byId.get(mine)?.depends_on ?? []) dependencyOf.set(dep, [...(dependencyOf.get(dep) ?? []), { mine, direction: 'depends_on' }]);
      for (const dependent of dependents.get(mine) ?? []) {
        dependencyOf.set(dependent, [...(dependencyOf.get(dependent) ?? []), { mine, direction: 'depended_on_by' }]);
      }
    }
    const serviceKeys = new Set([...incident.services.map(serviceKey), ...[...dependencyOf.keys()].map(serviceKey)]);
    const nearKeys = [...serviceKeys, ...labelSet];
    const bucket = bucketOf(incident.detected_at);

    const rows: { key: string; incident_id: string; at: string }[] = [];
    if (nearKeys.length > 0) {
      rows.push(
        ...(await repository.correlationRowsNear(this.db, nearKeys, bucket - PROXIMITY_HOURS, bucket + PROXIMITY_HOURS, incident.id, MAX_CANDIDATE_ROWS)),
      );
    }
    if (rootCauseKeys.length > 0) {
      // A shared root cause relates incidents however far apart; the newest few hundred are enough.
      rows.push(
        ...(await repository.correlationRowsNewest(this.db, rootCauseKeys, incident.id, 500)),
      );
    }
    const [links, sharedChanges] = await Promise.all([this.links(incident.id), Promise.all(this.sharedChangeSources.map((source) => source(incident))).then((lists) => lists.flat())]);

    const evidence = new Map<string, CandidateEvidence>();
    const candidateFor = (id: string, at: string): CandidateEvidence => {
      let found = evidence.get(id);
      if (!found) {
        found = { id, detectedAt: at, sharedServices: [], dependencies: [], sharedLabels: [], candidateLabelCount: 0, sharedRootCause: false, sharedCause: [], sharedChanges: [], links: [] };
        evidence.set(id, found);
      }
      return found;
    };
    const ownServices = new Set(incident.services);
    for (const row of rows) {
      const candidate = candidateFor(row.incident_id, row.at);
      if (row.key.startsWith('svc:')) {
        const service = row.key.slice(4);
        if (ownServices.has(service)) candidate.sharedServices.push(service);
        for (const d of dependencyOf.get(service) ?? []) candidate.dependencies.push({ mine: d.mine, theirs: service, direction: d.direction });
      } else if (row.key.startsWith('lbl:')) candidate.sharedLabels.push(row.key);
      else if (row.key.startsWith('rc:')) candidate.sharedRootCause = true;
      else if (row.key.startsWith('cause:')) candidate.sharedCause.push(row.key.slice(6));
    }
    // Incidents that followed the same change may be hours apart, beyond the index's buckets.
    for (const shared of sharedChanges) {
      if (shared.incident_id !== incident.id) candidateFor(shared.incident_id, '').sharedChanges.push({ description: shared.description, strength: shared.strength });
    }
    for (const link of links) {
      const other = link.from_incident === incident.id ? link.to_incident : link.from_incident;
      const words = link.from_incident === incident.id ? link.kind : `${link.kind} (reverse)`;
      candidateFor(other, '').links.push(words);
    }

    const ids = [...evidence.keys()];
    const labelled = ids.filter((id) => evidence.get(id)!.sharedLabels.length > 0);
    if (labelled.length > 0) {
      const counts = await repository.labelKeyCounts(this.db, labelled.slice(0, 1000));
      for (const c of counts) evidence.get(c.incident_id)!.candidateLabelCount = c.count;
    }
    const details = new Map<string, Pick<IncidentTables['incidents'], 'id' | 'title' | 'status' | 'severity' | 'services' | 'detected_at'>>();
    for (const row of await incidentRepository.incidentSummaries(this.db, ids)) details.set(row.id, row);
    const subject = { id: incident.id, services: incident.services, detectedAt: incident.detected_at, labelKeys: labelSet };
    const candidates: RelatedCandidate[] = [];
    for (const candidate of evidence.values()) {
      const row = details.get(candidate.id);
      if (!row) continue;
      candidate.detectedAt = row.detected_at;
      const scored = scoreCandidate(subject, candidate);
      if (scored.score < MIN_RELATED_SCORE && candidate.links.length === 0) continue;
      candidates.push({
        incident_id: row.id,
        title: row.title,
        status: row.status,
        severity: row.severity,
        services: fromJson<string[]>(row.services, []),
        detected_at: row.detected_at,
        score: scored.score,
        evidence: scored.evidence,
        reason: scored.reason,
        links: candidate.links,
      });
    }
    candidates.sort((a, b) => b.score - a.score || (a.detected_at < b.detected_at ? 1 : -1));
    return { incident_id: incident.id, candidates: candidates.slice(0, limit), links };
  }
}
