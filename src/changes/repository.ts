import { sql, type Kysely } from 'kysely';
import { fromJson, isUniqueViolation, toJson } from '../storage/index.ts';
import type { ChangeDraft } from './domain.ts';
import type { Change, ChangeKind, ChangeSource } from './schemas.ts';
import type { ChangeTables } from './schema.ts';

export type ChangeDb = Kysely<ChangeTables>;
type ChangeRow = ChangeTables['changes'];

export function changeFromRow(row: ChangeRow): Change {
  return {
    id: row.id,
    service: row.service,
    kind: row.kind as ChangeKind,
    summary: row.summary,
    version_from: row.version_from,
    version_to: row.version_to,
    author: row.author,
    links: fromJson(row.links, []),
    at: row.at,
    source: row.source as ChangeSource,
    target: row.target,
    integration_id: row.integration_id,
    details: fromJson(row.details, {}),
    created_at: row.created_at,
  };
}

export interface ChangeFilter {
  services?: readonly string[] | undefined;
  kinds?: readonly string[] | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Strictly older than this (at, id), newest first. */
  before?: { at: string; id: string } | undefined;
  limit: number;
}

/** Every statement on the capability's tables. */
export class ChangeRepository {
  constructor(private readonly db: ChangeDb) {}

  /** Inserts the change, or returns the stored one when its (source, dedup key) is already there. */
  async insert(id: string, draft: ChangeDraft, source: ChangeSource, integrationId: string | null, createdAt: string): Promise<{ change: Change; created: boolean }> {
    const row: ChangeRow = {
      id,
      service: draft.service,
      kind: draft.kind,
      summary: draft.summary,
      version_from: draft.version_from,
      version_to: draft.version_to,
      author: draft.author,
      links: toJson(draft.links),
      at: draft.at,
      source,
      target: draft.target,
      integration_id: integrationId,
      dedup_key: draft.dedup_key,
      details: toJson(draft.details),
      created_at: createdAt,
    };
    try {
      await this.db.insertInto('changes').values(row).execute();
      return { change: changeFromRow(row), created: true };
    } catch (error) {
      if (!isUniqueViolation(error) || draft.dedup_key === null) throw error;
      const existing = await this.db.selectFrom('changes').selectAll().where('source', '=', source).where('dedup_key', '=', draft.dedup_key).executeTakeFirst();
      if (!existing) throw error;
      return { change: changeFromRow(existing), created: false };
    }
  }

  async get(id: string, db: ChangeDb = this.db): Promise<Change | null> {
    const row = await db.selectFrom('changes').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? changeFromRow(row) : null;
  }

  async getMany(ids: readonly string[]): Promise<Change[]> {
    if (ids.length === 0) return [];
    return (await this.db.selectFrom('changes').selectAll().where('id', 'in', [...ids]).execute()).map(changeFromRow);
  }

  /** Newest first; `limit + 1` rows so the caller knows whether a next page exists. */
  async list(filter: ChangeFilter, db: ChangeDb = this.db): Promise<Change[]> {
    let q = db.selectFrom('changes').selectAll();
    if (filter.services?.length) q = q.where('service', 'in', [...filter.services]);
    if (filter.kinds?.length) q = q.where('kind', 'in', [...filter.kinds]);
    if (filter.from) q = q.where('at', '>=', filter.from);
    if (filter.to) q = q.where('at', '<=', filter.to);
    const before = filter.before;
    if (before) q = q.where((eb) => eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]));
    const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).execute();
    return rows.map(changeFromRow);
  }

  /**
   * Candidates for an incident: changes on these services within [from, to]. One indexed range scan
   * per service (`changes_by_service_at`), each capped, so a service with a flood of changes cannot
   * crowd out the others or make the query slow.
   */
  async inWindow(services: readonly string[], from: string, to: string, perService: number, db: ChangeDb = this.db): Promise<Change[]> {
    if (services.length === 0) return [];
    const parts = services.map((service) =>
      db.selectFrom('changes').selectAll().where('service', '=', service).where('at', '>=', from).where('at', '<=', to).orderBy('at', 'desc').limit(perService),
    );
    // A UNION ALL of per-service scans: each arm uses the (service, at) index on both databases.
    let query = db.selectFrom(parts[0]!.as('c0')).selectAll();
    for (let i = 1; i < parts.length; i++) query = query.unionAll(db.selectFrom(parts[i]!.as(`c${i}`)).selectAll());
    return (await query.execute()).map(changeFromRow);
  }

  /** The version a target was last deployed at, for senders that only say the new one. */
  async lastVersionOf(target: string, before: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('changes')
      .select('version_to')
      .where('target', '=', target)
      .where('at', '<', before)
      .where('version_to', 'is not', null)
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.version_to ?? null;
  }

  async countAll(): Promise<number> {
    const row = await this.db.selectFrom('changes').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- telemetry series values ------------------------------------------------------------------

  async seriesValues(seriesKeys: readonly string[]): Promise<{ series_key: string; attribute: string; value: string; last_seen_at: string }[]> {
    if (seriesKeys.length === 0) return [];
    return this.db.selectFrom('change_series_values').selectAll().where('series_key', 'in', [...seriesKeys]).execute();
  }

  async saveSeriesValues(rows: readonly { series_key: string; attribute: string; value: string; last_seen_at: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('change_series_values')
      .values([...rows])
      .onConflict((oc) =>
        oc.columns(['series_key', 'attribute', 'value']).doUpdateSet((eb) => ({
          // Never moves back: another server may have seen a later call.
          last_seen_at: sql<string>`case when ${eb.ref('excluded.last_seen_at')} > ${eb.ref('change_series_values.last_seen_at')} then ${eb.ref('excluded.last_seen_at')} else ${eb.ref('change_series_values.last_seen_at')} end`,
        })),
      )
      .execute();
  }

  // ---- webhook secrets --------------------------------------------------------------------------

  async putWebhookSecret(integrationId: string, sealed: string, at: string, actor: string): Promise<void> {
    await this.db
      .insertInto('change_webhook_secrets')
      .values({ integration_id: integrationId, sealed, created_at: at, created_by: actor })
      .onConflict((oc) => oc.column('integration_id').doUpdateSet({ sealed, created_at: at, created_by: actor }))
      .execute();
  }

  async webhookSecret(integrationId: string): Promise<string | null> {
    const row = await this.db.selectFrom('change_webhook_secrets').select('sealed').where('integration_id', '=', integrationId).executeTakeFirst();
    return row?.sealed ?? null;
  }
}
