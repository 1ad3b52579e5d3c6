import { sql, type Selectable, type SelectQueryBuilder } from 'kysely';
import { PreparedInsert, PreparedQuery, preparedPerShape, fromJson, toJson, viewAs, type Executor, type PreparedValue } from '../storage/index.ts';
import type { IncidentCountsQuery, IncidentSort, ListIncidentsQuery } from './schemas.ts';
import { ACTIVE_STATUSES as ACTIVE, SEVERITIES, type IncidentStatus } from './lifecycle.ts';
import type { IncidentRow, IncidentTables } from './schema.ts';

export type TimelineRow = Selectable<IncidentTables['timeline_entries']>;

const tables = (executor: Executor) => viewAs<IncidentTables>(executor);

/**
 * Allocates the day's next `count` incident numbers atomically: the counter row is created at `count`
 * or incremented by it, and RETURNING gives the last number allocated. The upsert takes a row lock
 * (PostgreSQL) or the write lock (SQLite) until commit, so concurrent creators, in one process or
 * several, never share a number.
 */
const allocateNumbers = new PreparedQuery<'day' | 'count', { last_number: number }>((slot, executor) => {
  const count = slot('count') as unknown as number;
  return tables(executor)
    .insertInto('incident_counters')
    .values({ day: slot('day'), last_number: count })
    .onConflict((oc) => oc.column('day').doUpdateSet((eb) => ({ last_number: eb('incident_counters.last_number', '+', count) })))
    .returning('last_number');
});

/** Returns the last of the `count` numbers allocated. */
export async function allocateIncidentNumbers(executor: Executor, day: string, count: number): Promise<number> {
  const [counter] = await allocateNumbers.execute(executor, { day, count });
  return Number(counter!.last_number);
}

/** Every column of an incident row, in one fixed order, for the prepared insert of incident creation. */
const INCIDENT_COLUMNS = [
  'id',
  'title',
  'description',
  'severity',
  'status',
  'impact_users_affected',
  'impact_revenue',
  'impact_description',
  'services',
  'team',
  'assignee',
  'detected_at',
  'acknowledged_at',
  'acknowledged_by',
  'resolved_at',
  'actions_taken',
  'root_cause',
  'resolution',
  'lessons_learned',
  'labels',
  'created_by',
  'created_at',
  'updated_at',
  'version',
] as const satisfies readonly (keyof IncidentRow)[];

/** The columns a timeline append writes (the id is generated), in the order PreparedInsert rows give them. */
const TIMELINE_COLUMNS = ['incident_id', 'at', 'actor', 'kind', 'summary', 'data'] as const satisfies readonly (keyof IncidentTables['timeline_entries'])[];

// Incident creation is the API's hottest write: its statements are built and compiled once (see PreparedQuery, PreparedInsert).
const insertIncidents = new PreparedInsert<(typeof INCIDENT_COLUMNS)[number], never>(INCIDENT_COLUMNS, (rows, executor) =>
  tables(executor).insertInto('incidents').values(rows as unknown as IncidentRow[]),
);
const insertIncidentServices = new PreparedInsert<'incident_id' | 'service', never>(['incident_id', 'service'], (rows, executor) =>
  tables(executor).insertInto('incident_services').values(rows),
);
const insertTimelineRows = new PreparedInsert<(typeof TIMELINE_COLUMNS)[number], TimelineRow>(TIMELINE_COLUMNS, (rows, executor) =>
  tables(executor).insertInto('timeline_entries').values(rows).returningAll(),
);

export async function insertIncidentRows(executor: Executor, rows: readonly IncidentRow[]): Promise<void> {
  await insertIncidents.execute(executor, rows.map((row) => INCIDENT_COLUMNS.map((column) => row[column])));
}

/** Rows of (incident id, service). */
export async function insertIncidentServiceRows(executor: Executor, rows: readonly (readonly [string, string])[]): Promise<void> {
  if (rows.length > 0) await insertIncidentServices.execute(executor, rows);
}

/** Appends timeline rows (values in TIMELINE_COLUMNS order); returns them in the order given. */
export async function insertTimelineEntries(executor: Executor, rows: readonly (readonly PreparedValue[])[]): Promise<TimelineRow[]> {
  if (rows.length === 0) return [];
  const inserted = await insertTimelineRows.execute(executor, rows);
  // Ids are assigned in the order the rows were given; RETURNING's own order is not promised by either database.
  return inserted.sort((a, b) => Number(a.id) - Number(b.id));
}

/** A timeline row's values in the order insertTimelineEntries takes them. */
export function timelineValues(entry: { incidentId: string; at: string; actor: string; kind: string; summary: string; data?: Record<string, unknown> | undefined }): PreparedValue[] {
  return [entry.incidentId, entry.at, entry.actor, entry.kind, entry.summary, toJson(entry.data ?? {})];
}

// Reads of one incident (GET, every mutation, the on-call dispatcher) run as one precompiled statement.
const incidentById = new PreparedQuery<'id', IncidentRow>((slot, executor) => tables(executor).selectFrom('incidents').selectAll().where('id', '=', slot('id')));

export async function findIncident(executor: Executor, id: string): Promise<IncidentRow | undefined> {
  const [row] = await incidentById.execute(executor, { id });
  return row;
}

/** The incidents among `ids` (in no particular order), in one statement per 500 ids: a dispatcher's burst reads its incidents at once. */
export async function findIncidents(executor: Executor, ids: readonly string[]): Promise<IncidentRow[]> {
  if (ids.length === 1) return findIncident(executor, ids[0]!).then((row) => (row ? [row] : []));
  const rows: IncidentRow[] = [];
  for (let i = 0; i < ids.length; i += 500) rows.push(...(await tables(executor).selectFrom('incidents').selectAll().where('id', 'in', ids.slice(i, i + 500)).execute()));
  return rows;
}

/** A few columns of the incidents among `ids` (correlation's candidates), in one statement per 500 ids. */
export async function incidentSummaries(
  executor: Executor,
  ids: readonly string[],
): Promise<Pick<IncidentRow, 'id' | 'title' | 'status' | 'severity' | 'services' | 'detected_at'>[]> {
  const rows: Pick<IncidentRow, 'id' | 'title' | 'status' | 'severity' | 'services' | 'detected_at'>[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    rows.push(...(await tables(executor).selectFrom('incidents').select(['id', 'title', 'status', 'severity', 'services', 'detected_at']).where('id', 'in', ids.slice(i, i + 500)).execute()));
  }
  return rows;
}

/** Unacknowledged first. */
const ACK_RANK = sql<number>`(case when acknowledged_at is null then 0 else 1 end)`;
/** Critical first, from the one list of severities. */
const SEVERITY_RANK = sql<number>`(case severity ${sql.join(
  [...SEVERITIES].reverse().map((severity, rank) => sql`when ${sql.lit(severity)} then ${sql.lit(rank)}`),
  sql` `,
)} else ${sql.lit(SEVERITIES.length)} end)`;

/** The filters the list and its counts share. */
function filterIncidents<O>(q: SelectQueryBuilder<IncidentTables, 'incidents', O>, query: IncidentCountsQuery): SelectQueryBuilder<IncidentTables, 'incidents', O> {
  if (query.status?.length) q = q.where('status', 'in', query.status);
  if (query.severity?.length) q = q.where('severity', 'in', query.severity);
  if (query.team) q = q.where('team', '=', query.team);
  if (query.service) {
    const service = query.service;
    q = q.where('id', 'in', (eb) => eb.selectFrom('incident_services').select('incident_id').where('service', '=', service));
  }
  if (query.q) {
    const pattern = `%${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb(sql`lower(title)`, 'like', sql`${pattern} escape '\\'`),
        eb(sql`lower(id)`, 'like', sql`${pattern} escape '\\'`),
      ]),
    );
  }
  return q;
}

/** Where a page starts: after the last row of the previous page, in the page's own order. */
export type IncidentPageAfter =
  | { sort: 'urgency'; ackRank: number; severityRank: number; createdAt: string; id: string }
  | { sort: 'newest' | 'oldest'; createdAt: string; id: string };

/**
 * One page in the order `sort` names (urgency: unacknowledged first, then most severe, then oldest), with one row
 * more than `limit` when there is a next page.
 */
export async function listIncidents(
  executor: Executor,
  query: Omit<ListIncidentsQuery, 'cursor' | 'limit' | 'sort'>,
  page: { sort: IncidentSort; limit: number; after?: IncidentPageAfter | undefined },
): Promise<IncidentRow[]> {
  let q = filterIncidents(tables(executor).selectFrom('incidents').selectAll(), query);
  if (query.active !== undefined) {
    q = query.active ? q.where('status', 'in', [...ACTIVE]) : q.where('status', 'not in', [...ACTIVE]);
  }
  if (query.acknowledged !== undefined) q = q.where('acknowledged_at', query.acknowledged ? 'is not' : 'is', null);
  if (query.assignee) q = q.where('assignee', '=', query.assignee);
  const after = page.after;
  if (page.sort === 'urgency') {
    if (after?.sort === 'urgency') {
      q = q.where(sql<boolean>`(${ACK_RANK}, ${SEVERITY_RANK}, created_at, id) > (${after.ackRank}, ${after.severityRank}, ${after.createdAt}, ${after.id})`);
    }
    return q.orderBy(ACK_RANK).orderBy(SEVERITY_RANK).orderBy('created_at', 'asc').orderBy('id', 'asc').limit(page.limit + 1).execute();
  }
  const direction = page.sort === 'oldest' ? 'asc' : 'desc';
  if (after) {
    const beyond = direction === 'desc' ? '<' : '>';
    q = q.where((eb) => eb.or([eb('created_at', beyond, after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', beyond, after.id)])]));
  }
  return q.orderBy('created_at', direction).orderBy('id', direction).limit(page.limit + 1).execute();
}

/** How many incidents match the filters: all, active, active and unacknowledged, active and assigned to `mine`. */
export async function countIncidents(executor: Executor, query: IncidentCountsQuery, mine: string): Promise<{ total: number; active: number; triggered: number; mine: number }> {
  const active = sql`status in (${sql.join([...ACTIVE])})`;
  const row = await filterIncidents(tables(executor).selectFrom('incidents'), query)
    .select([
      sql<number>`count(*)`.as('total'),
      sql<number>`coalesce(sum(case when ${active} then 1 else 0 end), 0)`.as('active'),
      sql<number>`coalesce(sum(case when ${active} and acknowledged_at is null then 1 else 0 end), 0)`.as('triggered'),
      sql<number>`coalesce(sum(case when ${active} and assignee = ${mine} then 1 else 0 end), 0)`.as('mine'),
    ])
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), active: Number(row.active), triggered: Number(row.triggered), mine: Number(row.mine) };
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateIncident(executor: Executor, id: string, expectedVersion: number, set: Partial<IncidentRow>): Promise<boolean> {
  const result = await tables(executor).updateTable('incidents').set(set).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function replaceIncidentServices(executor: Executor, incidentId: string, services: readonly string[]): Promise<void> {
  await tables(executor).deleteFrom('incident_services').where('incident_id', '=', incidentId).execute();
  if (services.length) await tables(executor).insertInto('incident_services').values(services.map((service) => ({ incident_id: incidentId, service }))).execute();
}

export async function timelineOfIncident(executor: Executor, incidentId: string, options: { order?: 'asc' | 'desc'; kind?: string[] | undefined } = {}): Promise<TimelineRow[]> {
  let q = tables(executor).selectFrom('timeline_entries').selectAll().where('incident_id', '=', incidentId);
  if (options.kind?.length) q = q.where('kind', 'in', options.kind);
  return q.orderBy('id', options.order ?? 'asc').execute();
}

/** The stored timestamps of incidents detected in [from, to). */
export async function incidentTimesDetectedBetween(executor: Executor, from: string, to: string) {
  const rows = await tables(executor)
    .selectFrom('incidents')
    .select(['id', 'severity', 'status', 'team', 'services', 'detected_at', 'acknowledged_at', 'resolved_at'])
    .where('detected_at', '>=', from)
    .where('detected_at', '<', to)
    .execute();
  return rows.map((r) => ({ ...r, services: fromJson<string[]>(r.services, []) }));
}

/** The incident a timeline entry belongs to, or undefined when there is no such entry. */
export async function incidentOfTimelineEntry(executor: Executor, entryId: number): Promise<string | undefined> {
  const entry = await tables(executor).selectFrom('timeline_entries').select('incident_id').where('id', '=', entryId).executeTakeFirst();
  return entry?.incident_id;
}

/** Unresolved incidents per severity. */
export async function countActiveBySeverity(executor: Executor, active: readonly IncidentStatus[]): Promise<{ severity: string; count: number }[]> {
  const db = tables(executor);
  const rows = await db
    .selectFrom('incidents')
    .select(['severity', db.fn.countAll<number>().as('count')])
    .where('status', 'in', [...active])
    .groupBy('severity')
    .execute();
  return rows.map((r) => ({ severity: r.severity, count: Number(r.count) }));
}

/** Incidents detected in [from, to), oldest first, with the fields reliability metrics use. */
export async function incidentsDetectedBetween(executor: Executor, from: string, to: string) {
  return tables(executor)
    .selectFrom('incidents')
    .select(['id', 'severity', 'team', 'services', 'detected_at', 'created_at', 'acknowledged_at', 'resolved_at', 'root_cause'])
    .where('detected_at', '>=', from)
    .where('detected_at', '<', to)
    .orderBy('detected_at')
    .execute();
}

/** The timeline entries of one kind on the given incidents, in the order they were written. */
export async function timelineEntriesOfKind(executor: Executor, incidentIds: readonly string[], kind: string): Promise<Pick<TimelineRow, 'incident_id' | 'at' | 'data'>[]> {
  if (incidentIds.length === 0) return [];
  return tables(executor)
    .selectFrom('timeline_entries')
    .select(['incident_id', 'at', 'data'])
    .where('incident_id', 'in', [...incidentIds])
    .where('kind', '=', kind)
    .orderBy('id')
    .execute();
}

/**
 * Incidents on any of `services` that are unresolved or resolved since `horizon`, with coarse facts only
 * (never title, description, labels or timeline): what a public status page may learn from.
 */
export async function coarseIncidentsOfServicesSince(executor: Executor, services: readonly string[], horizon: string) {
  if (services.length === 0) return [];
  return tables(executor)
    .selectFrom('incidents')
    .select(['incidents.id', 'incidents.severity', 'incidents.status', 'incidents.services', 'incidents.detected_at', 'incidents.resolved_at'])
    .where('incidents.id', 'in', (eb) => eb.selectFrom('incident_services').select('incident_services.incident_id').where('incident_services.service', 'in', [...services]))
    .where((eb) => eb.or([eb('incidents.resolved_at', 'is', null), eb('incidents.resolved_at', '>=', horizon)]))
    .execute();
}

/** The dispatcher's page read, compiled once per list of kinds (a capability passes one constant list). */
const timelinePageQuery = preparedPerShape((kinds: readonly string[]) => {
  const fixedKinds = [...kinds];
  return new PreparedQuery<'after' | 'limit', TimelineRow>((slot, builder) =>
    tables(builder)
      .selectFrom('timeline_entries')
      .selectAll()
      .where('id', '>', slot('after') as unknown as number)
      .where('kind', 'in', fixedKinds)
      .orderBy('id')
      .limit(slot('limit') as unknown as number),
  );
});

/** Timeline entries of the given kinds after `afterId`, in id order: what a dispatcher reads, page by page. */
export async function timelineEntriesAfter(executor: Executor, afterId: number, kinds: readonly string[], limit: number): Promise<TimelineRow[]> {
  return timelinePageQuery(kinds).execute(executor, { after: afterId, limit });
}

const timelineTallyQuery = preparedPerShape((kinds: readonly string[]) => {
  const fixedKinds = [...kinds];
  return new PreparedQuery<'after' | 'upTo', { entries: number | string; id_sum: number | string | null }>((slot, builder) =>
    tables(builder)
      .selectFrom('timeline_entries')
      .select((eb) => [eb.fn.countAll<number | string>().as('entries'), eb.fn.sum<number | string | null>('id').as('id_sum')])
      .where('id', '>', slot('after') as unknown as number)
      .where('id', '<=', slot('upTo') as unknown as number)
      .where('kind', 'in', fixedKinds),
  );
});

/**
 * How many entries of the given kinds have ids in (afterId, upToId], and the sum of those ids: with the same tally of
 * the marks a dispatcher keeps, it shows that every entry of a range was dispatched without reading the entries.
 */
export async function timelineTally(executor: Executor, afterId: number, upToId: number, kinds: readonly string[]): Promise<{ count: number; idSum: number }> {
  const [row] = await timelineTallyQuery(kinds).execute(executor, { after: afterId, upTo: upToId });
  return { count: Number(row?.entries ?? 0), idSum: Number(row?.id_sum ?? 0) };
}

/** The first entry of the given kinds after `afterId` written at or after `at`, if any. */
export async function firstTimelineEntryFrom(executor: Executor, afterId: number, kinds: readonly string[], at: string): Promise<number | undefined> {
  const row = await tables(executor).selectFrom('timeline_entries').select('id').where('id', '>', afterId).where('kind', 'in', [...kinds]).where('at', '>=', at).orderBy('id').limit(1).executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

/** The highest entry id after `afterId` of entries written before `at`, if any. */
export async function lastTimelineEntryBefore(executor: Executor, afterId: number, at: string): Promise<number | undefined> {
  const row = await tables(executor)
    .selectFrom('timeline_entries')
    .select((eb) => eb.fn.max('id').as('max'))
    .where('id', '>', afterId)
    .where('at', '<', at)
    .executeTakeFirst();
  return row?.max == null ? undefined : Number(row.max);
}

/** The highest timeline entry id, 0 when there is none. */
export async function lastTimelineEntryId(executor: Executor): Promise<number> {
  const row = await tables(executor)
    .selectFrom('timeline_entries')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return Number(row?.max ?? 0);
}
