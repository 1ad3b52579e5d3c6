import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CatalogService } from '../catalog/index.ts';
import type { CatalogTables } from '../catalog/index.ts';
import type { Incident, IncidentService, IncidentTables } from '../incidents/index.ts';
import type { SharedChangeEvidence } from '../ingest/index.ts';
import { SecretBox } from '../shared/crypto.ts';
import { AppError, notFound } from '../shared/errors.ts';
import type { DomainEvents } from '../shared/events.ts';
import { viewAs, type Database, type Executor } from '../storage/index.ts';
import {
  HALF_LIFE_MINUTES,
  KIND_WEIGHTS,
  PROXIMITY_WEIGHTS,
  SCORE_FORMULA,
  dependencyDistances,
  rankChanges,
  scoreChange,
  type ChangeDraft,
  type ServiceDistance,
} from './domain.ts';
import * as repository from './repository.ts';
import type { Change, ChangeSource, CreateChangeInput, ListChangesQuery, SuspectsResponse } from './schemas.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    'change.recorded': { change: Change };
  }
}

/** A change more than this far ahead of the server clock is a clock or input error. */
const MAX_FUTURE_MS = 5 * 60_000;
export const DEFAULT_WINDOW_HOURS = 24;
/** Related incidents look at the incidents that followed this many of an incident's first suspects. */
export const SHARED_CHANGE_SUSPECTS = 3;
const WEBHOOK_SECRET_PURPOSE = 'change-webhook-secret';

export interface ChangeServiceDeps {
  database: Database;
  catalog: CatalogService;
  incidents: IncidentService;
  events: DomainEvents;
  secretKey: string | undefined;
  clock: () => Date;
  log: Logger;
}

function encodeCursor(change: Change): string {
  return Buffer.from(`${change.at}|${change.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || Number.isNaN(Date.parse(at))) throw new AppError('validation_failed', 'cursor: is not a cursor this endpoint returned', { field: 'cursor' });
  return { at, id };
}

/** An incident that followed a change; `reach` is what its own suspects would be drawn from. */
type Follower = { id: string; detected_at: string; services: string[]; reach: ReadonlyMap<string, ServiceDistance> };

/** Options for a ranking; `db` runs it inside a caller's transaction (plans read suspects while holding one). */
export interface SuspectOptions {
  windowHours?: number | undefined;
  limit?: number | undefined;
  /** Also count the other incidents that followed each change (reads all services and incidents). */
  withFollowers?: boolean;
  db?: object;
}

export class ChangeService {
  /** The plain handle; a caller's transaction is passed instead where one is open. */
  private readonly db: Executor;
  private box: SecretBox | undefined;

  constructor(private readonly deps: ChangeServiceDeps) {
    this.db = deps.database.db;
  }

  private now(): Date {
    return this.deps.clock();
  }

  /** Stores a change (once per source and dedup key) and announces it. */
  async record(draft: ChangeDraft, source: ChangeSource, integrationId: string | null): Promise<{ change: Change; created: boolean }> {
    const atMs = Date.parse(draft.at);
    if (Number.isNaN(atMs)) throw new AppError('validation_failed', 'at: is not a timestamp', { field: 'at' });
    if (atMs > this.now().getTime() + MAX_FUTURE_MS) {
      throw new AppError('validation_failed', `at: ${draft.at} is more than 5 minutes in the future`, { field: 'at' });
    }
    const id = `chg_${randomBytes(8).toString('hex')}`;
    const result = await repository.insertChange(this.db, id, { ...draft, at: new Date(atMs).toISOString() }, source, integrationId, this.now().toISOString());
    if (result.created) this.deps.events.emit('change.recorded', { change: result.change });
    return result;
  }

  /** The generic sender; the service must be in the catalogue so a typo is not silently stored. */
  async recordFromApi(input: CreateChangeInput, integrationId: string | null, actor: string): Promise<{ change: Change; created: boolean }> {
    const known = await this.deps.catalog.servicesById([input.service]);
    if (!known.has(input.service)) throw new AppError('validation_failed', `service: ${input.service} is not a catalogue service`, { field: 'service' });
    const at = input.at ?? this.now().toISOString();
    const draft: ChangeDraft = {
      service: input.service,
      kind: input.kind,
      summary: input.summary,
      version_from: input.version_from ?? null,
      version_to: input.version_to ?? null,
      author: input.author ?? actor,
      links: input.links ?? [],
      at,
      target: null,
      details: {},
      // An identical body with its own timestamp is a retry of the same change.
      dedup_key: input.at ? `api:${integrationId ?? actor}:${JSON.stringify(input)}` : null,
    };
    return this.record(draft, 'api', integrationId);
  }

  async get(id: string): Promise<Change> {
    const change = await repository.findChange(this.db, id);
    if (!change) throw notFound('change', id);
    return change;
  }

  /** The changes with these ids that exist (evidence and postmortems cite them by id). */
  findMany(ids: readonly string[]): Promise<Change[]> {
    return repository.findChanges(this.db, ids);
  }

  async list(query: ListChangesQuery): Promise<{ items: Change[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    if (query.from && query.to && Date.parse(query.from) > Date.parse(query.to)) throw new AppError('validation_failed', 'to: must not be before from', { field: 'to' });
    const rows = await repository.listChanges(this.db, {
      services: query.service,
      kinds: query.kind,
      from: query.from ? new Date(query.from).toISOString() : undefined,
      to: query.to ? new Date(query.to).toISOString() : undefined,
      before: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit,
    });
    const items = rows.slice(0, limit);
    return { items, next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null };
  }

  /** The version a target (repository@environment, Argo CD application) was at before `at`. */
  previousVersion(target: string, at: string): Promise<string | null> {
    return repository.lastVersionOf(this.db, target, at);
  }

  // ---- suspects ---------------------------------------------------------------------------------

  /**
   * `depends_on` of the services within the ranking's reach of `start`, read level by level (one query a
   * level, a few rows each: never the whole catalogue); works inside a transaction.
   */
  private async dependencyMap(start: Iterable<string>, db?: object): Promise<Map<string, readonly string[]>> {
    const dependsOn = new Map<string, readonly string[]>();
    let frontier = [...new Set(start)];
    for (let depth = 0; depth < PROXIMITY_WEIGHTS.length - 1 && frontier.length; depth++) {
      const known = await this.deps.catalog.servicesById(frontier, db ? viewAs<CatalogTables>(db) : undefined);
      const next = new Set<string>();
      for (const id of frontier) {
        const deps = known.get(id)?.depends_on ?? [];
        dependsOn.set(id, deps);
        for (const d of deps) if (!dependsOn.has(d)) next.add(d);
      }
      frontier = [...next].filter((d) => !dependsOn.has(d));
    }
    return dependsOn;
  }

  async suspects(incidentOrId: string | Incident, options: SuspectOptions = {}): Promise<SuspectsResponse> {
    const { incident, window, distances, considered, ranked, followers } = await this.rank(incidentOrId, options);
    return {
      incident_id: incident.id,
      detected_at: incident.detected_at,
      window,
      services: distances,
      scoring: { half_life_minutes: HALF_LIFE_MINUTES, proximity: Object.fromEntries(PROXIMITY_WEIGHTS.map((w, i) => [String(i), w])), kinds: { ...KIND_WEIGHTS }, formula: SCORE_FORMULA },
      considered,
      items: ranked.map((r, i) => {
        const followed = followers.get(r.change.id) ?? [];
        return {
          rank: i + 1,
          score: r.score,
          change: r.change,
          parts: r.parts,
          reason: r.reason,
          followed_by: { count: followed.length, incidents: followed.slice(0, 10).map((f) => ({ id: f.id, detected_at: f.detected_at, services: f.services })) },
        };
      }),
    };
  }

  /**
   * For related incidents: the other incidents that followed one of this incident's first suspects, each
   * with the change's suspect score for both (the lower of the two is how strongly it ties them).
   */
  async sharedChanges(incident: Incident): Promise<SharedChangeEvidence[]> {
    const { ranked, followers } = await this.rank(incident, { limit: SHARED_CHANGE_SUSPECTS, withFollowers: true });
    const out: SharedChangeEvidence[] = [];
    for (const suspect of ranked) {
      const { change } = suspect;
      for (const other of followers.get(change.id) ?? []) {
        const where = other.reach.get(change.service);
        if (!where) continue;
        const there = scoreChange(change, Date.parse(other.detected_at), where);
        const version = change.version_to ? ` (${change.version_from ? `${change.version_from} → ` : ''}${change.version_to})` : '';
        out.push({ incident_id: other.id, description: `the ${change.kind} change ${change.id} on ${change.service}${version}`, strength: Math.min(suspect.score, there.score) });
      }
    }
    return out;
  }

  private async rank(incidentOrId: string | Incident, options: SuspectOptions) {
    const db = options.db as Executor | undefined;
    const incident = typeof incidentOrId === 'string' ? await this.deps.incidents.get(incidentOrId, db ? viewAs<IncidentTables>(db) : undefined) : incidentOrId;
    const windowHours = options.windowHours ?? DEFAULT_WINDOW_HOURS;
    const detectedMs = Date.parse(incident.detected_at);
    const from = new Date(detectedMs - windowHours * 3_600_000).toISOString();
    const to = new Date(detectedMs).toISOString();
    const distances = dependencyDistances(incident.services, await this.dependencyMap(incident.services, db));
    // Ranked from the indexed columns alone; only the changes shown are read whole.
    const candidates = await repository.candidatesInWindow(db ?? this.db, distances.map((d) => d.service), from, to);
    const top = rankChanges(candidates, detectedMs, distances, options.limit ?? 10);
    const whole = new Map((await repository.findChanges(db ?? this.db, top.map((t) => t.change.id))).map((c) => [c.id, c]));
    const ranked = top.flatMap((t) => {
      const change = whole.get(t.change.id);
      return change ? [scoreChange(change, detectedMs, t.where)] : [];
    });
    const followers = options.withFollowers ? await this.followers(ranked.map((r) => r.change), incident.id, windowHours) : new Map<string, Follower[]>();
    return { incident, window: { from, to, hours: windowHours }, distances, considered: candidates.length, ranked, followers };
  }

  /**
   * Incidents other than `exceptId` detected within the window after each change, on a service the change
   * can affect: the change's service is within the ranking's reach of one of theirs (it would be their suspect).
   */
  private async followers(changes: readonly Change[], exceptId: string, windowHours: number): Promise<Map<string, Follower[]>> {
    const out = new Map<string, Follower[]>();
    if (changes.length === 0) return out;
    const windowMs = windowHours * 3_600_000;
    const first = Math.min(...changes.map((c) => Date.parse(c.at)));
    const last = Math.max(...changes.map((c) => Date.parse(c.at)));
    const incidents = (await this.deps.incidents.timesDetectedBetween(new Date(first).toISOString(), new Date(last + windowMs + 1).toISOString())).filter((i) => i.id !== exceptId);
    if (incidents.length === 0) return out;
    const dependsOn = await this.dependencyMap(incidents.flatMap((i) => i.services));
    const candidates = incidents
      .map((i) => ({ id: i.id, detected_at: i.detected_at, detectedMs: Date.parse(i.detected_at), services: [...i.services], reach: new Map(dependencyDistances(i.services, dependsOn).map((d) => [d.service, d])) }))
      .sort((a, b) => a.detectedMs - b.detectedMs);
    for (const change of changes) {
      const atMs = Date.parse(change.at);
      out.set(
        change.id,
        candidates.filter((i) => i.detectedMs >= atMs && i.detectedMs <= atMs + windowMs && i.reach.has(change.service)),
      );
    }
    return out;
  }

  /** The first-ranked change for an incident, or null; what plan templates read as `incident.suspect_change`. */
  async topSuspect(incident: Incident, db?: object): Promise<{ change: Change; score: number; reason: string } | null> {
    const result = await this.suspects(incident, { limit: 1, ...(db ? { db } : {}) });
    const top = result.items[0];
    return top ? { change: top.change, score: top.score, reason: top.reason } : null;
  }

  // ---- webhook secrets --------------------------------------------------------------------------

  private secretBox(): SecretBox {
    this.box ??= new SecretBox(this.deps.secretKey);
    return this.box;
  }

  /** Sets (or generates) the secret a signed webhook of this integration must be signed with; returned once. */
  async setWebhookSecret(integrationId: string, secret: string | undefined, actor: string): Promise<{ integration_id: string; secret: string; created_at: string }> {
    const value = secret ?? randomBytes(24).toString('base64url');
    const at = this.now().toISOString();
    await repository.putWebhookSecret(this.db, integrationId, this.secretBox().seal(value, WEBHOOK_SECRET_PURPOSE), at, actor);
    return { integration_id: integrationId, secret: value, created_at: at };
  }

  async webhookSecret(integrationId: string): Promise<string | null> {
    const sealed = await repository.webhookSecret(this.db, integrationId);
    return sealed ? this.secretBox().open(sealed, WEBHOOK_SECRET_PURPOSE) : null;
  }
}
