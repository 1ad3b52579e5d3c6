import { sql } from 'kysely';
import { PreparedQuery, preparedPerShape, fromJson, isUniqueViolation, toJson, viewAs, type Executor, type PreparedValue } from '../storage/index.ts';
import type { ChangeDraft } from './domain.ts';
import type { Change, ChangeKind, ChangeSource } from './schemas.ts';
import type { ChangeTables } from './schema.ts';

const tables = (executor: Executor) => viewAs<ChangeTables>(executor);
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

/** What ranking needs of a change. */
export type ChangeCandidate = Pick<Change, 'id' | 'service' | 'kind' | 'at'>;
type ChangeCandidateRow = Pick<ChangeRow, 'id' | 'service' | 'kind' | 'at'>;

/** Candidates read per service for one incident, newest first: far more than anyone reads. */
export const CANDIDATES_PER_SERVICE = 500;
/** Statements kept compiled, one per number of services an incident reaches (an incident names a few). */
const MAX_CACHED_SHAPES = 32;

export interface ChangeFilter {
  services?: readonly string[] | undefined;
  kinds?: readonly string[] | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Strictly older than this (at, id), newest first. */
  before?: { at: string; id: string } | undefined;
  limit: number;
}

/** Inserts the change, or returns the stored one when its (source, dedup key) is already there. */
export async function insertChange(
  executor: Executor,
  id: string,
  draft: ChangeDraft,
  source: ChangeSource,
  integrationId: string | null,
  createdAt: string,
): Promise<{ change: Change; created: boolean }> {
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
    await tables(executor).insertInto('changes').values(row).execute();
    return { change: changeFromRow(row), created: true };
  } catch (error) {
    if (!isUniqueViolation(error) || draft.dedup_key === null) throw error;
    const existing = await tables(executor).selectFrom('changes').selectAll().where('source', '=', source).where('dedup_key', '=', draft.dedup_key).executeTakeFirst();
    if (!existing) throw error;
    return { change: changeFromRow(existing), created: false };
  }
}

export async function findChange(executor: Executor, id: string): Promise<Change | null> {
  const row = await tables(executor).selectFrom('changes').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? changeFromRow(row) : null;
}

export async function findChanges(executor: Executor, ids: readonly string[]): Promise<Change[]> {
  if (ids.length === 0) return [];
  return (await tables(executor).selectFrom('changes').selectAll().where('id', 'in', [...ids]).execute()).map(changeFromRow);
}

/** Newest first; `limit + 1` rows so the caller knows whether a next page exists. */
export async function listChanges(executor: Executor, filter: ChangeFilter): Promise<Change[]> {
  let q = tables(executor).selectFrom('changes').selectAll();
  if (filter.services?.length) q = q.where('service', 'in', [...filter.services]);
  if (filter.kinds?.length) q = q.where('kind', 'in', [...filter.kinds]);
  if (filter.from) q = q.where('at', '>=', filter.from);
  if (filter.to) q = q.where('at', '<=', filter.to);
  const before = filter.before;
  if (before) q = q.where((eb) => eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]));
  const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).execute();
  return rows.map(changeFromRow);
}

function buildCandidateQuery(serviceCount: number): PreparedQuery<string, ChangeCandidateRow> {
  return new PreparedQuery<string, ChangeCandidateRow>((slot, executor) => {
    const arm = (i: number) =>
      tables(executor)
        .selectFrom('changes')
        .select(['id', 'service', 'kind', 'at'])
        .where('service', '=', slot(`s${i}`))
        .where('at', '>=', slot('from'))
        .where('at', '<=', slot('to'))
        .orderBy('at', 'desc')
        .limit(CANDIDATES_PER_SERVICE);
    // A UNION ALL of per-service scans: each arm is one index range scan on both databases.
    let union = tables(executor).selectFrom(arm(0).as('c0')).selectAll();
    for (let i = 1; i < serviceCount; i++) union = union.unionAll(tables(executor).selectFrom(arm(i).as(`c${i}`)).selectAll());
    return union;
  });
}

const cachedCandidateQuery = preparedPerShape(buildCandidateQuery);

/**
 * Every incident page asks for suspects: the statement is compiled once per number of services, not built each time
 * (up to MAX_CACHED_SHAPES services; a rare larger incident builds its own).
 */
function candidateQueryFor(serviceCount: number): PreparedQuery<string, ChangeCandidateRow> {
  return serviceCount <= MAX_CACHED_SHAPES ? cachedCandidateQuery(serviceCount) : buildCandidateQuery(serviceCount);
}

/**
 * Candidates for an incident: the ranking's columns of the changes on these services within [from, to],
 * newest first per service. One range scan per service over `changes_by_service_at_kind`, which holds
 * every column read (no table lookups), each capped at CANDIDATES_PER_SERVICE, so a service with a flood
 * of changes cannot crowd out the others or make the query slow.
 */
export async function candidatesInWindow(executor: Executor, services: readonly string[], from: string, to: string): Promise<ChangeCandidate[]> {
  if (services.length === 0) return [];
  const slots: Record<string, PreparedValue> = { from, to };
  services.forEach((service, i) => (slots[`s${i}`] = service));
  const rows = await candidateQueryFor(services.length).execute(executor, slots);
  return rows.map((r) => ({ id: r.id, service: r.service, kind: r.kind as ChangeKind, at: r.at }));
}

/** The version a target was last deployed at, for senders that only say the new one. */
export async function lastVersionOf(executor: Executor, target: string, before: string): Promise<string | null> {
  const row = await tables(executor)
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

// ---- telemetry series values --------------------------------------------------------------------

export type SeriesValueRow = ChangeTables['change_series_values'];

export async function seriesValues(executor: Executor, seriesKeys: readonly string[]): Promise<SeriesValueRow[]> {
  if (seriesKeys.length === 0) return [];
  return tables(executor).selectFrom('change_series_values').selectAll().where('series_key', 'in', [...seriesKeys]).execute();
}

export async function saveSeriesValues(executor: Executor, rows: readonly SeriesValueRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tables(executor)
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

// ---- webhook secrets ----------------------------------------------------------------------------

export async function putWebhookSecret(executor: Executor, integrationId: string, sealed: string, at: string, actor: string): Promise<void> {
  await tables(executor)
    .insertInto('change_webhook_secrets')
    .values({ integration_id: integrationId, sealed, created_at: at, created_by: actor })
    .onConflict((oc) => oc.column('integration_id').doUpdateSet({ sealed, created_at: at, created_by: actor }))
    .execute();
}

export async function webhookSecret(executor: Executor, integrationId: string): Promise<string | null> {
  const row = await tables(executor).selectFrom('change_webhook_secrets').select('sealed').where('integration_id', '=', integrationId).executeTakeFirst();
  return row?.sealed ?? null;
}
