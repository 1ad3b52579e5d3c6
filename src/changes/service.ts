import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CatalogService } from '../catalog/index.ts';
import type { CatalogTables } from '../catalog/index.ts';
import type { Incident, IncidentService, IncidentTables } from '../incidents/index.ts';
import { SecretBox } from '../shared/crypto.ts';
import { AppError, notFound } from '../shared/errors.ts';
import type { DomainEvents } from '../shared/events.ts';
import { viewAs, type Database } from '../storage/index.ts';
import {
  HALF_LIFE_MINUTES,
  KIND_WEIGHTS,
  PROXIMITY_WEIGHTS,
  SCORE_FORMULA,
  affectedServices,
  dependencyDistances,
  rankChanges,
  type ChangeDraft,
  type ServiceDistance,
} from './domain.ts';
import { ChangeRepository, type ChangeDb } from './repository.ts';
import type { ChangeTables } from './schema.ts';
import type { Change, ChangeSource, CreateChangeInput, ListChangesQuery, SuspectsResponse } from './schemas.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    'change.recorded': { change: Change };
  }
}

/** A change more than this far ahead of the server clock is a clock or input error. */
const MAX_FUTURE_MS = 5 * 60_000;
/** Candidates read per service for one incident, newest first: far more than anyone reads. */
const CANDIDATES_PER_SERVICE = 500;
export const DEFAULT_WINDOW_HOURS = 24;
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

type Follower = { id: string; detected_at: string; services: string[] };

/** Options for a ranking; `db` runs it inside a caller's transaction (plans read suspects while holding one). */
export interface SuspectOptions {
  windowHours?: number | undefined;
  limit?: number | undefined;
  /** Also count the other incidents that followed each change (reads all services and incidents). */
  withFollowers?: boolean;
  db?: object;
}

export class ChangeService {
  readonly repository: ChangeRepository;
  private box: SecretBox | undefined;

  constructor(private readonly deps: ChangeServiceDeps) {
    this.repository = new ChangeRepository(deps.database.db.withTables<ChangeTables>());
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
    const result = await this.repository.insert(id, { ...draft, at: new Date(atMs).toISOString() }, source, integrationId, this.now().toISOString());
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
    const change = await this.repository.get(id);
    if (!change) throw notFound('change', id);
    return change;
  }

  async list(query: ListChangesQuery): Promise<{ items: Change[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    if (query.from && query.to && Date.parse(query.from) > Date.parse(query.to)) throw new AppError('validation_failed', 'to: must not be before from', { field: 'to' });
    const rows = await this.repository.list({
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
    return this.repository.lastVersionOf(target, at);
  }

  // ---- suspects ---------------------------------------------------------------------------------

  /** The incident's services and their dependencies, nearest first, read level by level (works inside a transaction). */
  private async distances(services: readonly string[], db?: object, catalogue?: ReadonlyMap<string, readonly string[]>): Promise<ServiceDistance[]> {
    if (catalogue) return dependencyDistances(services, catalogue);
    const dependsOn = new Map<string, readonly string[]>();
    let frontier = [...services];
    for (let depth = 0; depth < PROXIMITY_WEIGHTS.length - 1 && frontier.length; depth++) {
      const known = await this.deps.catalog.servicesById(frontier, db ? viewAs<CatalogTables>(db) : undefined);
      const next: string[] = [];
      for (const id of frontier) {
        const deps = known.get(id)?.depends_on ?? [];
        dependsOn.set(id, deps);
        for (const d of deps) if (!dependsOn.has(d)) next.push(d);
      }
      frontier = next;
    }
    return dependencyDistances(services, dependsOn);
  }

  async suspects(incidentOrId: string | Incident, options: SuspectOptions = {}): Promise<SuspectsResponse> {
    const db = options.db ? viewAs<ChangeTables>(options.db) : undefined;
    const incident = typeof incidentOrId === 'string' ? await this.deps.incidents.get(incidentOrId, db ? viewAs<IncidentTables>(db) : undefined) : incidentOrId;
    const windowHours = options.windowHours ?? DEFAULT_WINDOW_HOURS;
    const detectedMs = Date.parse(incident.detected_at);
    const from = new Date(detectedMs - windowHours * 3_600_000).toISOString();
    const to = new Date(detectedMs).toISOString();
    // Outside a transaction the whole catalogue is read once: the dependency walk and the followers both use it.
    const catalogue = db ? undefined : new Map((await this.deps.catalog.listServices()).map((s) => [s.id, s.depends_on] as const));
    const distances = await this.distances(incident.services, db, catalogue);
    const candidates = await this.repository.inWindow(
      distances.map((d) => d.service),
      from,
      to,
      CANDIDATES_PER_SERVICE,
      db as ChangeDb | undefined,
    );
    const ranked = rankChanges(candidates, detectedMs, distances).slice(0, options.limit ?? 10);
    const followers = options.withFollowers && catalogue ? await this.followers(ranked.map((r) => r.change), incident.id, windowHours, catalogue) : new Map<string, Follower[]>();
    return {
      incident_id: incident.id,
      detected_at: incident.detected_at,
      window: { from, to, hours: windowHours },
      services: distances,
      scoring: { half_life_minutes: HALF_LIFE_MINUTES, proximity: Object.fromEntries(PROXIMITY_WEIGHTS.map((w, i) => [String(i), w])), kinds: { ...KIND_WEIGHTS }, formula: SCORE_FORMULA },
      considered: candidates.length,
      items: ranked.map((r, i) => {
        const followed = followers.get(r.change.id) ?? [];
        return { rank: i + 1, score: r.score, change: r.change, parts: r.parts, reason: r.reason, followed_by: { count: followed.length, incidents: followed.slice(0, 10) } };
      }),
    };
  }

  /** Incidents other than `exceptId` detected within the window after each change, on a service the change can affect. */
  private async followers(changes: readonly Change[], exceptId: string, windowHours: number, dependsOn: ReadonlyMap<string, readonly string[]>): Promise<Map<string, Follower[]>> {
    const out = new Map<string, Follower[]>();
    if (changes.length === 0) return out;
    const windowMs = windowHours * 3_600_000;
    const first = Math.min(...changes.map((c) => Date.parse(c.at)));
    const last = Math.max(...changes.map((c) => Date.parse(c.at)));
    const incidents = await this.deps.incidents.timesDetectedBetween(new Date(first).toISOString(), new Date(last + windowMs).toISOString());
    for (const change of changes) {
      const affected = affectedServices(change.service, dependsOn);
      const atMs = Date.parse(change.at);
      const list = incidents
        .filter((i) => i.id !== exceptId && Date.parse(i.detected_at) >= atMs && Date.parse(i.detected_at) <= atMs + windowMs && i.services.some((s) => affected.has(s)))
        .sort((a, b) => a.detected_at.localeCompare(b.detected_at))
        .map((i) => ({ id: i.id, detected_at: i.detected_at, services: [...i.services] }));
      out.set(change.id, list);
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
    await this.repository.putWebhookSecret(integrationId, this.secretBox().seal(value, WEBHOOK_SECRET_PURPOSE), at, actor);
    return { integration_id: integrationId, secret: value, created_at: at };
  }

  async webhookSecret(integrationId: string): Promise<string | null> {
    const sealed = await this.repository.webhookSecret(integrationId);
    return sealed ? this.secretBox().open(sealed, WEBHOOK_SECRET_PURPOSE) : null;
  }
}
