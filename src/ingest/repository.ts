import { sql, type Insertable, type Selectable } from 'kysely';
import { PreparedInsert, PreparedQuery, preparedPerShape, viewAs, type Executor, type PreparedValue } from '../storage/index.ts';
import { ALERT_COLUMNS, type AlertRow, type IngestTables } from './schema.ts';
import type { AlertStatus, ListAlertsQuery } from './schemas.ts';

/**
 * Every query on ingest's tables (integrations, alerts, routing rule sets, alert groups, the correlation index and
 * incident links). Services call these with the executor to run on: the plain handle, or their open transaction.
 * Incidents and catalogue services are reached through those capabilities' repositories, never here.
 */

const tables = (executor: Executor) => viewAs<IngestTables>(executor);

export type IntegrationRow = IngestTables['integrations'];
export type RoutingRuleSetRow = IngestTables['routing_rule_sets'];
export type LinkRow = Selectable<IngestTables['incident_links']>;
export type RepeatRow = Pick<AlertRow, 'id' | 'incident_id' | 'status' | 'decision' | 'rule' | 'occurrences' | 'service'>;
export type AlertGroupRow = IngestTables['alert_groups'];

// ------------------------------------------------------------------------------------------------ integrations

export async function insertIntegration(executor: Executor, row: IntegrationRow): Promise<void> {
  await tables(executor).insertInto('integrations').values(row).execute();
}

export async function listIntegrations(executor: Executor, service?: string): Promise<IntegrationRow[]> {
  let query = tables(executor).selectFrom('integrations').selectAll().orderBy('created_at').orderBy('id');
  if (service) query = query.where('service', '=', service);
  return query.execute();
}

export async function findIntegration(executor: Executor, id: string): Promise<IntegrationRow | undefined> {
  return tables(executor).selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteIntegration(executor: Executor, id: string): Promise<void> {
  await tables(executor).deleteFrom('integrations').where('id', '=', id).execute();
}

export async function integrationByKeyHash(executor: Executor, keyHash: string): Promise<IntegrationRow | undefined> {
  return tables(executor).selectFrom('integrations').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
}

/** What each of these integrations has delivered: alerts, events (occurrences), open alerts, the last arrival and resolution. */
export async function alertActivityOfIntegrations(executor: Executor, integrationIds: readonly string[]) {
  return tables(executor)
    .selectFrom('alerts')
    .select((eb) => [
      'integration_id',
      eb.fn.countAll().as('alerts'),
      eb.fn.sum('occurrences').as('events'),
      eb.fn.sum(eb.case().when('status', '<>', 'resolved').then(1).else(0).end()).as('open_alerts'),
      eb.fn.max('last_seen_at').as('last_seen_at'),
      eb.fn.max('resolved_at').as('last_resolved_at'),
    ])
    .where('integration_id', 'in', integrationIds)
    .groupBy('integration_id')
    .execute();
}

// ------------------------------------------------------------------------------------------------ routing rules

export async function lastRuleSetYamlFromFile(executor: Executor): Promise<string | undefined> {
  const row = await tables(executor).selectFrom('routing_rule_sets').select(['yaml']).where('source', '=', 'file').orderBy('version', 'desc').limit(1).executeTakeFirst();
  return row?.yaml;
}

export async function latestRuleSet(executor: Executor): Promise<RoutingRuleSetRow | undefined> {
  return tables(executor).selectFrom('routing_rule_sets').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function latestRuleSetVersion(executor: Executor): Promise<number> {
  const row = await tables(executor).selectFrom('routing_rule_sets').select('version').orderBy('version', 'desc').limit(1).executeTakeFirst();
  return row?.version ?? 0;
}

export async function ruleSetYaml(executor: Executor, version: number): Promise<string> {
  return (await tables(executor).selectFrom('routing_rule_sets').select(['yaml']).where('version', '=', version).executeTakeFirstOrThrow()).yaml;
}

export async function ruleSetHistory(executor: Executor, limit: number): Promise<{ version: number; source: string; created_at: string; created_by: string }[]> {
  return tables(executor).selectFrom('routing_rule_sets').select(['version', 'source', 'created_at', 'created_by']).orderBy('version', 'desc').limit(limit).execute();
}

export async function insertRuleSet(executor: Executor, row: RoutingRuleSetRow): Promise<void> {
  await tables(executor).insertInto('routing_rule_sets').values(row).execute();
}

// ------------------------------------------------------------------------------------------------ alerts: the hot path

/** A repeat of an open alert, counted in one statement (unless its silence ran out, which needs routing again). */
const countRepeatQuery = new PreparedQuery<'now' | 'summary' | 'raw' | 'scope' | 'key', RepeatRow>((slot, executor) =>
  tables(executor)
    .updateTable('alerts')
    .set((eb) => ({ occurrences: eb('occurrences', '+', 1), last_seen_at: slot('now'), updated_at: slot('now'), summary: slot('summary'), raw: slot('raw') }))
    .where('dedup_scope', '=', slot('scope'))
    .where('dedup_key', '=', slot('key'))
    .where('status', '<>', 'resolved')
    .where((eb) => eb.or([eb('suppressed_until', 'is', null), eb('suppressed_until', '>', slot('now'))]))
    .returning(['id', 'incident_id', 'status', 'decision', 'rule', 'occurrences', 'service']),
);

export async function countRepeat(executor: Executor, values: { now: string; summary: string; raw: string; scope: string; key: string }): Promise<RepeatRow | undefined> {
  const [row] = await countRepeatQuery.execute(executor, values);
  return row;
}

const openAlertQuery = new PreparedQuery<'scope' | 'key', AlertRow>((slot, executor) =>
  tables(executor).selectFrom('alerts').selectAll().where('dedup_scope', '=', slot('scope')).where('dedup_key', '=', slot('key')).where('status', '<>', 'resolved'),
);

/** The open (not resolved) alert with this dedup key, if any. */
export async function openAlert(executor: Executor, scope: string, key: string): Promise<AlertRow | undefined> {
  const [row] = await openAlertQuery.execute(executor, { scope, key });
  return row;
}

/** Keys per open-alert lookup: a delivery's keys are looked up in chunks of at most this many. */
const OPEN_LOOKUP_CHUNK = 512;

/**
 * The open-alert lookup of a delivery, compiled once per power-of-two key count (so at most ten shapes):
 * Kysely building and compiling a fresh IN list on every delivery cost more than the lookup itself.
 */
const openLookupFor = preparedPerShape((size: number) => {
  const keySlots = (slot: (name: string) => string) => Array.from({ length: size }, (_, i) => slot(`k${i}`));
  return new PreparedQuery<string, Pick<AlertRow, 'dedup_key' | 'suppressed_until'>>((slot, executor) =>
    tables(executor).selectFrom('alerts').select(['dedup_key', 'suppressed_until']).where('dedup_scope', '=', slot('scope')).where('dedup_key', 'in', keySlots(slot)).where('status', '<>', 'resolved'),
  );
});

/** The open alerts among these dedup keys (a delivery's), in one statement per 512 keys. */
export async function openAlertsOfKeys(executor: Executor, scope: string, keys: readonly string[]): Promise<Pick<AlertRow, 'dedup_key' | 'suppressed_until'>[]> {
  const rows: Pick<AlertRow, 'dedup_key' | 'suppressed_until'>[] = [];
  for (let i = 0; i < keys.length; i += OPEN_LOOKUP_CHUNK) {
    const chunk = keys.slice(i, i + OPEN_LOOKUP_CHUNK);
    let size = 1;
    while (size < chunk.length) size <<= 1;
    // The list is padded with its last key up to the shape's size: a key named twice in IN matches once.
    const values: Record<string, PreparedValue> = { scope };
    for (let k = 0; k < size; k++) values[`k${k}`] = chunk[Math.min(k, chunk.length - 1)]!;
    rows.push(...(await openLookupFor(size).execute(executor, values)));
  }
  return rows;
}

const insertAlertRows = new PreparedInsert<(typeof ALERT_COLUMNS)[number], never>(ALERT_COLUMNS, (rows, executor) => tables(executor).insertInto('alerts').values(rows as unknown as AlertRow[]));

/** New alerts, as multi-row inserts compiled once per row count (see PreparedInsert). */
export async function insertAlerts(executor: Executor, rows: readonly AlertRow[]): Promise<void> {
  if (rows.length === 0) return;
  await insertAlertRows.execute(executor, rows.map((row) => ALERT_COLUMNS.map((column) => row[column])));
}

/** An alert whose silence ran out, routed again: written only while it is still as it was read. */
export async function rerouteExpiredAlert(
  executor: Executor,
  id: string,
  expected: { suppressed_until: string | null; status: AlertStatus },
  changes: Omit<AlertRow, 'id' | 'occurrences'>,
): Promise<boolean> {
  const result = await tables(executor)
    .updateTable('alerts')
    .set((eb) => ({ ...changes, status: expected.status, occurrences: eb('occurrences', '+', 1) }))
    .where('id', '=', id)
    .where('suppressed_until', '=', expected.suppressed_until)
    .where('status', '=', expected.status)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A source's acknowledge or resolve for its open alert with this dedup key, when it applies (see AlertService). */
export async function setStatusFromSource(
  executor: Executor,
  scope: string,
  key: string,
  status: 'acknowledged' | 'resolved',
  appliesTo: readonly AlertStatus[],
  nowIso: string,
): Promise<AlertRow | undefined> {
  const stamp = status === 'acknowledged' ? { acknowledged_at: nowIso } : { resolved_at: nowIso };
  return tables(executor)
    .updateTable('alerts')
    .set({ status, ...stamp, updated_at: nowIso, last_seen_at: nowIso })
    .where('dedup_scope', '=', scope)
    .where('dedup_key', '=', key)
    .where('status', 'in', appliesTo)
    .returningAll()
    .executeTakeFirst();
}

/** How many alerts an incident has, and how many of them are still open. */
export async function alertCountsOfIncident(executor: Executor, incidentId: string): Promise<{ total: number; open: number }> {
  const db = tables(executor);
  const counts = await db
    .selectFrom('alerts')
    .select([db.fn.countAll<number>().as('total'), sql<number>`sum(case when status <> 'resolved' then 1 else 0 end)`.as('open')])
    .where('incident_id', '=', incidentId)
    .executeTakeFirstOrThrow();
  return { total: Number(counts.total), open: Number(counts.open ?? 0) };
}

/** Resolves every open alert of an incident; returns them. */
export async function resolveAlertsOfIncident(executor: Executor, incidentId: string, nowIso: string): Promise<AlertRow[]> {
  return tables(executor)
    .updateTable('alerts')
    .set({ status: 'resolved', resolved_at: nowIso, updated_at: nowIso })
    .where('incident_id', '=', incidentId)
    .where('status', '<>', 'resolved')
    .returningAll()
    .execute();
}

/** The newest alert with this dedup key, open or not. */
export async function latestAlertOfKey(executor: Executor, scope: string, key: string): Promise<AlertRow | undefined> {
  return tables(executor).selectFrom('alerts').selectAll().where('dedup_scope', '=', scope).where('dedup_key', '=', key).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
}

export async function findAlert(executor: Executor, id: string): Promise<AlertRow | undefined> {
  return tables(executor).selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** One page of alerts, newest first, after the cursor `(created_at, id)`; one row more than `limit` says there is a next page. */
export async function listAlerts(executor: Executor, query: ListAlertsQuery, after: [string, string] | null, limit: number): Promise<AlertRow[]> {
  let q = tables(executor).selectFrom('alerts').selectAll();
  if (query.status?.length) q = q.where('status', 'in', query.status);
  if (query.severity?.length) q = q.where('severity', 'in', query.severity);
  if (query.decision?.length) q = q.where('decision', 'in', query.decision);
  if (query.service) q = q.where('service', '=', query.service);
  if (query.incident_id) q = q.where('incident_id', '=', query.incident_id);
  if (query.integration_id) q = q.where('integration_id', '=', query.integration_id);
  if (query.source) q = q.where('source', '=', query.source);
  if (after) {
    const [createdAt, id] = after;
    q = q.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
}

/** Alerts still firing (or acknowledged) for a service, not dropped: how many, and the latest `limit`. */
export async function openAlertsOfService(executor: Executor, service: string, limit: number): Promise<{ count: number; rows: AlertRow[] }> {
  const db = tables(executor);
  const base = db.selectFrom('alerts').where('service', '=', service).where('status', 'in', ['firing', 'acknowledged']).where('decision', '<>', 'dropped');
  const [{ count }, rows] = await Promise.all([
    base.select(db.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
    base.selectAll().orderBy('last_seen_at', 'desc').limit(limit).execute(),
  ]);
  return { count: Number(count), rows };
}

export async function alertSummaryOfIncident(
  executor: Executor,
  incidentId: string,
): Promise<{ alerts: number; open: number; occurrences: number; first_seen_at: string | null; last_seen_at: string | null }> {
  const db = tables(executor);
  const row = await db
    .selectFrom('alerts')
    .select([
      db.fn.countAll<number>().as('alerts'),
      sql<number>`coalesce(sum(case when status <> 'resolved' then 1 else 0 end), 0)`.as('open'),
      sql<number>`coalesce(sum(occurrences), 0)`.as('occurrences'),
      sql<string | null>`min(first_seen_at)`.as('first_seen_at'),
      sql<string | null>`max(last_seen_at)`.as('last_seen_at'),
    ])
    .where('incident_id', '=', incidentId)
    .executeTakeFirstOrThrow();
  return { alerts: Number(row.alerts), open: Number(row.open), occurrences: Number(row.occurrences), first_seen_at: row.first_seen_at ?? null, last_seen_at: row.last_seen_at ?? null };
}

export async function dedupScopeOfAlert(executor: Executor, id: string): Promise<string> {
  return (await tables(executor).selectFrom('alerts').select(['dedup_scope']).where('id', '=', id).executeTakeFirstOrThrow()).dedup_scope;
}

// ------------------------------------------------------------------------------------------------ grouping

/** A new alert's group lookups, compiled once per number of group keys (an alert has one or a few). */
const groupQueriesFor = preparedPerShape((keyCount: number) => {
  const keySlots = (slot: (name: string) => string) => Array.from({ length: keyCount }, (_, i) => slot(`k${i}`));
  return {
    find: new PreparedQuery<string, AlertGroupRow>((slot, executor) =>
      tables(executor).selectFrom('alert_groups').select(['group_key', 'incident_id', 'last_alert_at']).where('group_key', 'in', keySlots(slot)),
    ),
    touch: new PreparedQuery<string, never>((slot, executor) =>
      tables(executor).updateTable('alert_groups').set({ last_alert_at: slot('now') }).where('group_key', 'in', keySlots(slot)).where('incident_id', '=', slot('incident')),
    ),
  };
});

function keySlotValues(keys: readonly string[]): Record<string, PreparedValue> {
  const values: Record<string, PreparedValue> = {};
  keys.forEach((key, i) => (values[`k${i}`] = key));
  return values;
}

/** The groups these keys belong to now, if any. */
export async function groupsOfKeys(executor: Executor, keys: readonly string[]): Promise<AlertGroupRow[]> {
  return groupQueriesFor(keys.length).find.execute(executor, keySlotValues(keys));
}

/** A new alert joined the group: its window starts again. */
export async function touchGroups(executor: Executor, keys: readonly string[], incidentId: string, nowIso: string): Promise<void> {
  const values = keySlotValues(keys);
  values.now = nowIso;
  values.incident = incidentId;
  await groupQueriesFor(keys.length).touch.execute(executor, values);
}

export async function insertGroups(executor: Executor, rows: readonly AlertGroupRow[]): Promise<void> {
  if (rows.length > 0) await tables(executor).insertInto('alert_groups').values([...rows]).execute();
}

/** Moves a group from the incident it was read with to another; false when another writer moved it first. */
export async function claimGroup(executor: Executor, key: string, previousIncident: string, incidentId: string, nowIso: string): Promise<boolean> {
  const result = await tables(executor)
    .updateTable('alert_groups')
    .set({ incident_id: incidentId, last_alert_at: nowIso })
    .where('group_key', '=', key)
    .where('incident_id', '=', previousIncident)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertAlertIncident(executor: Executor, row: IngestTables['alert_incidents']): Promise<void> {
  await tables(executor).insertInto('alert_incidents').values(row).execute();
}

export async function alertIncident(executor: Executor, incidentId: string): Promise<IngestTables['alert_incidents'] | undefined> {
  return tables(executor).selectFrom('alert_incidents').selectAll().where('incident_id', '=', incidentId).executeTakeFirst();
}

// ------------------------------------------------------------------------------------------------ correlation

/** Keys of one incident are inserted in one statement, compiled once per number of keys. */
const addKeysQueryFor = preparedPerShape(
  (count: number) =>
    new PreparedQuery<string, never>((slot, db) =>
      tables(db)
        .insertInto('correlation_index')
        .values(Array.from({ length: count }, (_, i) => ({ key: slot(`k${i}`), incident_id: slot('incident'), bucket: slot('bucket') as unknown as number, at: slot('at') })))
        .onConflict((oc) => oc.columns(['key', 'incident_id']).doNothing()),
    ),
);

export async function addCorrelationKeys(executor: Executor, incidentId: string, bucket: number, at: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const query = addKeysQueryFor(keys.length);
  const values = keySlotValues(keys);
  values.incident = incidentId;
  values.bucket = bucket;
  values.at = at;
  await query.execute(executor, values);
}

/** Removes an incident's service and root-cause keys (before they are written again). */
export async function deleteServiceAndRootCauseKeys(executor: Executor, incidentId: string): Promise<void> {
  await tables(executor)
    .deleteFrom('correlation_index')
    .where('incident_id', '=', incidentId)
    .where((eb) => eb.or([eb('key', 'like', 'svc:%'), eb('key', 'like', 'rc:%')]))
    .execute();
}

export async function deleteCorrelationKey(executor: Executor, incidentId: string, key: string): Promise<void> {
  await tables(executor).deleteFrom('correlation_index').where('incident_id', '=', incidentId).where('key', '=', key).execute();
}

export async function correlationKeysOf(executor: Executor, incidentId: string): Promise<string[]> {
  return (await tables(executor).selectFrom('correlation_index').select('key').where('incident_id', '=', incidentId).execute()).map((r) => r.key);
}

/** Other incidents' rows for these keys within the hour buckets [from, to], at most `limit`. */
export async function correlationRowsNear(
  executor: Executor,
  keys: readonly string[],
  fromBucket: number,
  toBucket: number,
  excludeIncident: string,
  limit: number,
): Promise<{ key: string; incident_id: string; at: string }[]> {
  return tables(executor)
    .selectFrom('correlation_index')
    .select(['key', 'incident_id', 'at'])
    .where('key', 'in', keys)
    .where('bucket', '>=', fromBucket)
    .where('bucket', '<=', toBucket)
    .where('incident_id', '<>', excludeIncident)
    .limit(limit)
    .execute();
}

/** Other incidents' rows for these keys however far apart, newest buckets first. */
export async function correlationRowsNewest(executor: Executor, keys: readonly string[], excludeIncident: string, limit: number): Promise<{ key: string; incident_id: string; at: string }[]> {
  return tables(executor)
    .selectFrom('correlation_index')
    .select(['key', 'incident_id', 'at'])
    .where('key', 'in', keys)
    .where('incident_id', '<>', excludeIncident)
    .orderBy('bucket', 'desc')
    .limit(limit)
    .execute();
}

/** How many label keys each of these incidents has. */
export async function labelKeyCounts(executor: Executor, incidentIds: readonly string[]): Promise<{ incident_id: string; count: number }[]> {
  const db = tables(executor);
  const rows = await db
    .selectFrom('correlation_index')
    .select(['incident_id', db.fn.countAll<number>().as('count')])
    .where('incident_id', 'in', incidentIds)
    .where('key', 'like', 'lbl:%')
    .groupBy('incident_id')
    .execute();
  return rows.map((r) => ({ incident_id: r.incident_id, count: Number(r.count) }));
}

// ------------------------------------------------------------------------------------------------ incident links

export async function insertLink(executor: Executor, row: Insertable<IngestTables['incident_links']>): Promise<LinkRow> {
  return tables(executor).insertInto('incident_links').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findLink(executor: Executor, id: number): Promise<LinkRow | undefined> {
  return tables(executor).selectFrom('incident_links').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteLink(executor: Executor, id: number): Promise<void> {
  await tables(executor).deleteFrom('incident_links').where('id', '=', id).execute();
}

export async function linksOfIncident(executor: Executor, incidentId: string): Promise<LinkRow[]> {
  return tables(executor)
    .selectFrom('incident_links')
    .selectAll()
    .where((eb) => eb.or([eb('from_incident', '=', incidentId), eb('to_incident', '=', incidentId)]))
    .orderBy('id')
    .execute();
}

export async function linkedPairs(executor: Executor): Promise<{ from_incident: string; to_incident: string }[]> {
  return tables(executor).selectFrom('incident_links').select(['from_incident', 'to_incident']).orderBy('id').execute();
}
