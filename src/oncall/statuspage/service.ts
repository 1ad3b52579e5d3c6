import type { Kysely } from 'kysely';
import { AppError, notFound } from '../../shared/errors.ts';
import { checkVersion } from '../../shared/concurrency.ts';
import { fromJson, isUniqueViolation, toJson, type Database } from '../../storage/index.ts';
import { incidentRepository, isActiveStatus, type IncidentService, type Severity, type IncidentStatus } from '../../incidents/index.ts';
import type { CatalogService } from '../../catalog/index.ts';
import type { OnCallTables } from '../store.ts';
import { computePublicStatus, HISTORY_DAYS, type PublishedIncident } from './compute.ts';
import type { CreatePublicUpdateInput, CreateStatusPageInput, PatchStatusPageInput, PublicStatus, PublicUpdate, StatusPage } from './schemas.ts';

type PageRow = OnCallTables['status_pages'];

export class StatusPageService {
  private readonly db: Kysely<OnCallTables>;

  constructor(
    database: Database,
    private readonly incidents: IncidentService,
    private readonly catalog: CatalogService,
    private readonly clock: () => Date,
  ) {
    this.db = database.db.withTables<OnCallTables>();
  }

  private async assertServices(services: readonly string[]): Promise<void> {
    const known = await this.catalog.servicesById(services);
    services.forEach((service, i) => {
      if (!known.has(service)) throw new AppError('unprocessable', `services[${i}]: service ${service} does not exist`, { field: `services[${i}]` });
    });
  }

  async create(input: CreateStatusPageInput): Promise<StatusPage> {
    await this.assertServices(input.services);
    const now = this.clock().toISOString();
    try {
      await this.db
        .insertInto('status_pages')
        .values({ id: input.id, title: input.title, description: input.description ?? '', services: toJson(input.services), created_at: now, updated_at: now, version: 1 })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `status page ${input.id} already exists`, { field: 'id' });
      throw error;
    }
    return this.get(input.id);
  }

  async update(id: string, patch: PatchStatusPageInput, expectedVersion: number | undefined): Promise<StatusPage> {
    const current = await this.row(id);
    checkVersion('status page', id, current.version, expectedVersion ?? patch.version, true);
    if (patch.services) await this.assertServices(patch.services);
    const result = await this.db
      .updateTable('status_pages')
      .set({
        title: patch.title ?? current.title,
        description: patch.description ?? current.description,
        services: patch.services ? toJson(patch.services) : current.services,
        updated_at: this.clock().toISOString(),
        version: current.version + 1,
      })
      .where('id', '=', id)
      .where('version', '=', current.version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new AppError('version_conflict', `status page ${id} was changed concurrently; reload and retry`);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    const result = await this.db.deleteFrom('status_pages').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('status page', id);
  }

  private async row(id: string): Promise<PageRow> {
    const row = await this.db.selectFrom('status_pages').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('status page', id);
    return row;
  }

  async get(id: string): Promise<StatusPage> {
    return pageFromRow(await this.row(id));
  }

  async list(): Promise<StatusPage[]> {
    return (await this.db.selectFrom('status_pages').selectAll().orderBy('id').execute()).map(pageFromRow);
  }

  async addPublicUpdate(incidentId: string, input: CreatePublicUpdateInput, actor: string): Promise<PublicUpdate> {
    await this.incidents.get(incidentId);
    const previous = await this.db
      .selectFrom('status_public_updates')
      .select('title')
      .where('incident_id', '=', incidentId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const title = input.title ?? previous?.title;
    if (!title) {
      throw new AppError('validation_failed', 'title: the first public update of an incident needs a public title (the internal title is never shown)', { field: 'title' });
    }
    const row = await this.db
      .insertInto('status_public_updates')
      .values({ incident_id: incidentId, title, status: input.status, message: input.message, author: actor, created_at: this.clock().toISOString() })
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.incidents.appendTimeline(
      incidentId,
      [{ kind: 'public_update', summary: `public update (${input.status}): ${input.message}`, data: { public_update_id: Number(row.id), title } }],
      actor,
    );
    return updateFromRow(row);
  }

  async publicUpdates(incidentId: string): Promise<PublicUpdate[]> {
    await this.incidents.get(incidentId);
    const rows = await this.db.selectFrom('status_public_updates').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute();
    return rows.map(updateFromRow);
  }

  /** The public view of a page: computed from public updates and coarse incident facts only. */
  async publicStatus(id: string): Promise<PublicStatus> {
    const page = await this.get(id);
    const now = this.clock();
    const catalogue = await this.catalog.servicesById(page.services);
    const services = page.services.filter((s) => catalogue.has(s)).map((s) => ({ id: s, name: catalogue.get(s)!.name }));
    const horizon = new Date(now.getTime() - HISTORY_DAYS * 86_400_000).toISOString();
    // Only incidents with at least one public update are shown, and only coarse facts about them.
    const candidates = await incidentRepository.coarseIncidentsOfServicesSince(
      this.db,
      services.map((s) => s.id),
      horizon,
    );
    const updates = candidates.length
      ? await this.db
          .selectFrom('status_public_updates')
          .select(['id', 'incident_id', 'title', 'status', 'message', 'created_at'])
          .where(
            'incident_id',
            'in',
            candidates.map((r) => r.id),
          )
          .orderBy('id')
          .execute()
      : [];
    const withUpdates = new Set(updates.map((u) => u.incident_id));
    const rows = candidates.filter((r) => withUpdates.has(r.id));
    const published: PublishedIncident[] = rows.map((r) => ({
      severity: r.severity as Severity,
      active: isActiveStatus(r.status as IncidentStatus),
      services: fromJson<string[]>(r.services, []),
      detected_at: r.detected_at,
      resolved_at: r.resolved_at,
      updates: updates
        .filter((u) => u.incident_id === r.id)
        .map((u) => ({ id: Number(u.id), title: u.title, status: u.status as PublicUpdate['status'], message: u.message, created_at: u.created_at })),
    }));
    published.sort((a, b) => a.updates[0]!.id - b.updates[0]!.id);
    return computePublicStatus({ id: page.id, title: page.title, description: page.description }, services, published, now);
  }
}

function pageFromRow(row: PageRow): StatusPage {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    services: fromJson<string[]>(row.services, []),
    url: `/status/${row.id}`,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

function updateFromRow(row: { id: number; incident_id: string; title: string; status: string; message: string; author: string; created_at: string }): PublicUpdate {
  return {
    id: Number(row.id),
    incident_id: row.incident_id,
    title: row.title,
    status: row.status as PublicUpdate['status'],
    message: row.message,
    author: row.author,
    created_at: row.created_at,
  };
}
