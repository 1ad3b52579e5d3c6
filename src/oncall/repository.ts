import type { Insertable, Selectable, Updateable } from 'kysely';
import { PreparedInsert, PreparedQuery, viewAs, type Executor } from '../storage/index.ts';
import type { OnCallTables } from './schema.ts';

const tables = (executor: Executor) => viewAs<OnCallTables>(executor);

export type PolicyRow = OnCallTables['oncall_escalation_policies'];
export type EscalationRow = Omit<OnCallTables['oncall_escalations'], 'id'> & { id: number };

// ---- incident roles ------------------------------------------------------------------------------

export async function rolesOfIncident(executor: Executor, incidentId: string): Promise<OnCallTables['oncall_incident_roles'][]> {
  return tables(executor).selectFrom('oncall_incident_roles').selectAll().where('incident_id', '=', incidentId).orderBy('assigned_at').orderBy('role').execute();
}

export async function holdersOfRole(executor: Executor, incidentId: string, role: string): Promise<string[]> {
  const rows = await tables(executor).selectFrom('oncall_incident_roles').select('user_name').where('incident_id', '=', incidentId).where('role', '=', role).execute();
  return rows.map((r) => r.user_name);
}

/** Removes the role's holders (all, or only `user`) and returns who was removed. */
export async function removeRoleHolders(executor: Executor, incidentId: string, role: string, user?: string): Promise<string[]> {
  let q = tables(executor).deleteFrom('oncall_incident_roles').where('incident_id', '=', incidentId).where('role', '=', role);
  if (user) q = q.where('user_name', '=', user);
  return (await q.returning('user_name').execute()).map((r) => r.user_name);
}

export async function insertRole(executor: Executor, role: Insertable<OnCallTables['oncall_incident_roles']>): Promise<void> {
  await tables(executor).insertInto('oncall_incident_roles').values(role).execute();
}

/** Adds the holder unless they already hold the role. */
export async function insertRoleIfAbsent(executor: Executor, role: Insertable<OnCallTables['oncall_incident_roles']>): Promise<void> {
  await tables(executor)
    .insertInto('oncall_incident_roles')
    .values(role)
    .onConflict((oc) => oc.columns(['incident_id', 'role', 'user_name']).doNothing())
    .execute();
}

// ---- escalation policies and escalations ---------------------------------------------------------

export async function scheduleExists(executor: Executor, id: string): Promise<boolean> {
  return !!(await tables(executor).selectFrom('oncall_schedules').select('id').where('id', '=', id).executeTakeFirst());
}

export async function insertPolicy(executor: Executor, policy: Insertable<OnCallTables['oncall_escalation_policies']>): Promise<void> {
  await tables(executor).insertInto('oncall_escalation_policies').values(policy).execute();
}

export async function findPolicy(executor: Executor, id: string): Promise<PolicyRow | undefined> {
  return tables(executor).selectFrom('oncall_escalation_policies').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPolicyOfTeam(executor: Executor, team: string): Promise<PolicyRow | undefined> {
  return tables(executor).selectFrom('oncall_escalation_policies').selectAll().where('team', '=', team).executeTakeFirst();
}

export async function listPolicies(executor: Executor): Promise<PolicyRow[]> {
  return tables(executor).selectFrom('oncall_escalation_policies').selectAll().orderBy('team').execute();
}

/** The levels of every policy (schedules check they are not referenced before deletion). */
export async function policyLevels(executor: Executor): Promise<{ id: string; levels: string }[]> {
  return tables(executor).selectFrom('oncall_escalation_policies').select(['id', 'levels']).execute();
}

export async function updatePolicy(executor: Executor, id: string, expectedVersion: number, changes: Updateable<OnCallTables['oncall_escalation_policies']>): Promise<boolean> {
  const result = await tables(executor).updateTable('oncall_escalation_policies').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deletePolicy(executor: Executor, id: string): Promise<boolean> {
  const result = await tables(executor).deleteFrom('oncall_escalation_policies').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function findEscalation(executor: Executor, incidentId: string): Promise<EscalationRow | undefined> {
  const row = await tables(executor).selectFrom('oncall_escalations').selectAll().where('incident_id', '=', incidentId).executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** Starts an escalation unless the incident has one. */
export async function insertEscalationIfAbsent(executor: Executor, escalation: Insertable<OnCallTables['oncall_escalations']>): Promise<void> {
  await tables(executor)
    .insertInto('oncall_escalations')
    .values(escalation)
    .onConflict((oc) => oc.column('incident_id').doNothing())
    .execute();
}

/** Changes an escalation read at `expectedVersion`; false when it changed since. */
export async function updateEscalation(executor: Executor, id: number, expectedVersion: number, changes: Updateable<OnCallTables['oncall_escalations']>): Promise<boolean> {
  const result = await tables(executor).updateTable('oncall_escalations').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Stops the incident's active escalation; false when none was active. */
export async function stopActiveEscalation(executor: Executor, incidentId: string, reason: string, now: string): Promise<boolean> {
  const result = await tables(executor)
    .updateTable('oncall_escalations')
    .set((eb) => ({ status: 'stopped', due_at: null, stopped_reason: reason, updated_at: now, version: eb('version', '+', 1) }))
    .where('incident_id', '=', incidentId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function activeEscalationTimers(executor: Executor): Promise<{ incident_id: string; due_at: string }[]> {
  const rows = await tables(executor).selectFrom('oncall_escalations').select(['incident_id', 'due_at']).where('status', '=', 'active').where('due_at', 'is not', null).execute();
  return rows.map((r) => ({ incident_id: r.incident_id, due_at: r.due_at! }));
}

// ---- the timeline dispatcher's own bookkeeping ---------------------------------------------------

// The dispatcher runs these for every burst of new timeline entries, so they are built and compiled once.
const dispatchCursorQuery = new PreparedQuery<never, { last_entry_id: number }>((_slot, executor) =>
  tables(executor).selectFrom('oncall_dispatch_cursor').select('last_entry_id').where('name', '=', 'timeline'),
);

export async function dispatchCursor(executor: Executor): Promise<number> {
  const [row] = await dispatchCursorQuery.execute(executor, {});
  return Number(row?.last_entry_id ?? 0);
}

/** Moves the cursor forward to `upTo`, never back. */
export async function advanceDispatchCursor(executor: Executor, upTo: number): Promise<void> {
  await tables(executor)
    .insertInto('oncall_dispatch_cursor')
    .values({ name: 'timeline', last_entry_id: upTo })
    .onConflict((oc) => oc.column('name').doUpdateSet({ last_entry_id: upTo }).where('oncall_dispatch_cursor.last_entry_id', '<', upTo))
    .execute();
}

const dispatchedBetweenQuery = new PreparedQuery<'after' | 'upTo', { entry_id: number }>((slot, executor) =>
  tables(executor)
    .selectFrom('oncall_dispatched_entries')
    .select('entry_id')
    .where('entry_id', '>', slot('after') as unknown as number)
    .where('entry_id', '<=', slot('upTo') as unknown as number),
);

/** The timeline entry ids in (afterId, upToId] that were dispatched already: one range read for a page of entries. */
export async function dispatchedBetween(executor: Executor, afterId: number, upToId: number): Promise<Set<number>> {
  if (upToId <= afterId) return new Set();
  const rows = await dispatchedBetweenQuery.execute(executor, { after: afterId, upTo: upToId });
  return new Set(rows.map((r) => Number(r.entry_id)));
}

const dispatchedTallyQuery = new PreparedQuery<'after' | 'upTo', { marks: number | string; id_sum: number | string | null }>((slot, executor) =>
  tables(executor)
    .selectFrom('oncall_dispatched_entries')
    .select((eb) => [eb.fn.countAll<number | string>().as('marks'), eb.fn.sum<number | string | null>('entry_id').as('id_sum')])
    .where('entry_id', '>', slot('after') as unknown as number)
    .where('entry_id', '<=', slot('upTo') as unknown as number),
);

/** How many entries with ids in (afterId, upToId] are marked dispatched, and the sum of their ids (see incidents' timelineTally). */
export async function dispatchedTally(executor: Executor, afterId: number, upToId: number): Promise<{ count: number; idSum: number }> {
  const [row] = await dispatchedTallyQuery.execute(executor, { after: afterId, upTo: upToId });
  return { count: Number(row?.marks ?? 0), idSum: Number(row?.id_sum ?? 0) };
}

const insertDispatchMarks = new PreparedInsert<'entry_id' | 'dispatched_at', { entry_id: number }>(['entry_id', 'dispatched_at'], (rows, executor) =>
  tables(executor)
    .insertInto('oncall_dispatched_entries')
    .values(rows as unknown as OnCallTables['oncall_dispatched_entries'][])
    .onConflict((oc) => oc.column('entry_id').doNothing())
    .returning('entry_id'),
);

/** Marks entries dispatched; returns the ids this call marked (not those marked already by another process or tick). */
export async function markDispatched(executor: Executor, entryIds: readonly number[], at: string): Promise<Set<number>> {
  if (entryIds.length === 0) return new Set();
  const marked = await insertDispatchMarks.execute(executor, entryIds.map((id) => [id, at]));
  return new Set(marked.map((r) => Number(r.entry_id)));
}

// ---- the notification outbox, as responders see it -----------------------------------------------

/** The latest notifications about an incident, newest first. */
export async function notificationsOfIncident(executor: Executor, incidentId: string, limit: number) {
  return tables(executor)
    .selectFrom('notify_outbox')
    .select(['id', 'event', 'channel_id', 'recipient', 'status', 'attempts', 'created_at', 'delivered_at', 'last_error'])
    .where('incident_id', '=', incidentId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

// ---- people's contact methods and notification rules ---------------------------------------------

export async function allContactMethods(executor: Executor) {
  return tables(executor).selectFrom('oncall_contact_methods').selectAll().orderBy('id').execute();
}

export async function allNotificationRules(executor: Executor) {
  return tables(executor).selectFrom('oncall_notification_rules').selectAll().orderBy('id').execute();
}

export async function insertContactMethod(executor: Executor, method: Insertable<OnCallTables['oncall_contact_methods']>) {
  return tables(executor).insertInto('oncall_contact_methods').values(method).returningAll().executeTakeFirstOrThrow();
}

export async function deleteContactMethod(executor: Executor, user: string, id: number): Promise<boolean> {
  const result = await tables(executor).deleteFrom('oncall_contact_methods').where('id', '=', id).where('user_name', '=', user).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function contactMethodExists(executor: Executor, user: string, id: number): Promise<boolean> {
  return !!(await tables(executor).selectFrom('oncall_contact_methods').select('id').where('id', '=', id).where('user_name', '=', user).executeTakeFirst());
}

export async function insertNotificationRule(executor: Executor, rule: Insertable<OnCallTables['oncall_notification_rules']>) {
  return tables(executor).insertInto('oncall_notification_rules').values(rule).returningAll().executeTakeFirstOrThrow();
}

export async function deleteNotificationRule(executor: Executor, user: string, id: number): Promise<boolean> {
  const result = await tables(executor).deleteFrom('oncall_notification_rules').where('id', '=', id).where('user_name', '=', user).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// ---- schedules and overrides ---------------------------------------------------------------------

export type ScheduleRow = OnCallTables['oncall_schedules'];

export async function insertSchedule(executor: Executor, schedule: Insertable<ScheduleRow>): Promise<void> {
  await tables(executor).insertInto('oncall_schedules').values(schedule).execute();
}

export async function updateSchedule(executor: Executor, id: string, expectedVersion: number, changes: Updateable<ScheduleRow>): Promise<boolean> {
  const result = await tables(executor).updateTable('oncall_schedules').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes a schedule with its overrides; false when there was no such schedule. */
export async function deleteSchedule(executor: Executor, id: string): Promise<boolean> {
  await tables(executor).deleteFrom('oncall_overrides').where('schedule_id', '=', id).execute();
  const result = await tables(executor).deleteFrom('oncall_schedules').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function findSchedule(executor: Executor, id: string): Promise<ScheduleRow | undefined> {
  return tables(executor).selectFrom('oncall_schedules').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listSchedules(executor: Executor, team?: string): Promise<ScheduleRow[]> {
  let q = tables(executor).selectFrom('oncall_schedules').selectAll().orderBy('team').orderBy('id');
  if (team) q = q.where('team', '=', team);
  return q.execute();
}

/** The overrides of these schedules, earliest first. */
export async function overridesOf(executor: Executor, scheduleIds: readonly string[]) {
  if (scheduleIds.length === 0) return [];
  return tables(executor).selectFrom('oncall_overrides').selectAll().where('schedule_id', 'in', [...scheduleIds]).orderBy('starts_at').execute();
}

export async function insertOverride(executor: Executor, override: Insertable<OnCallTables['oncall_overrides']>) {
  return tables(executor).insertInto('oncall_overrides').values(override).returningAll().executeTakeFirstOrThrow();
}

export async function deleteOverride(executor: Executor, scheduleId: string, id: number): Promise<boolean> {
  const result = await tables(executor).deleteFrom('oncall_overrides').where('id', '=', id).where('schedule_id', '=', scheduleId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// ---- notification channels, templates and the outbox ---------------------------------------------

export type ChannelRow = OnCallTables['notify_channels'];
export type TemplateRow = OnCallTables['notify_templates'];
export type OutboxRow = Selectable<OnCallTables['notify_outbox']>;
export type AttemptRow = Selectable<OnCallTables['notify_attempts']>;

export async function insertChannel(executor: Executor, channel: Insertable<ChannelRow>): Promise<void> {
  await tables(executor).insertInto('notify_channels').values(channel).execute();
}

export async function channelsOfKind(executor: Executor, kind: string): Promise<ChannelRow[]> {
  return tables(executor).selectFrom('notify_channels').selectAll().where('kind', '=', kind).execute();
}

export async function listChannels(executor: Executor): Promise<ChannelRow[]> {
  return tables(executor).selectFrom('notify_channels').selectAll().orderBy('id').execute();
}

// Read for every incident event the dispatcher notifies about.
const enabledChannelsQuery = new PreparedQuery<never, ChannelRow>((_slot, executor) =>
  tables(executor).selectFrom('notify_channels').selectAll().where('enabled', '=', 1).orderBy('id'),
);

export async function enabledChannels(executor: Executor): Promise<ChannelRow[]> {
  return enabledChannelsQuery.execute(executor, {});
}

export async function findChannel(executor: Executor, id: string): Promise<ChannelRow | undefined> {
  return tables(executor).selectFrom('notify_channels').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateChannel(executor: Executor, id: string, expectedVersion: number, changes: Updateable<ChannelRow>): Promise<boolean> {
  const result = await tables(executor).updateTable('notify_channels').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteChannel(executor: Executor, id: string): Promise<boolean> {
  const result = await tables(executor).deleteFrom('notify_channels').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The people with a contact method on the channel. */
export async function usersOfChannel(executor: Executor, channelId: string): Promise<string[]> {
  const rows = await tables(executor).selectFrom('oncall_contact_methods').select(['user_name']).where('channel_id', '=', channelId).execute();
  return rows.map((r) => r.user_name);
}

export async function contactMethodsOf(executor: Executor, user: string) {
  return tables(executor).selectFrom('oncall_contact_methods').selectAll().where('user_name', '=', user).orderBy('id').execute();
}

export async function notificationRulesOf(executor: Executor, user: string) {
  return tables(executor).selectFrom('oncall_notification_rules').selectAll().where('user_name', '=', user).execute();
}

export async function listTemplates(executor: Executor) {
  return tables(executor).selectFrom('notify_templates').selectAll().execute();
}

export async function findTemplate(executor: Executor, event: string) {
  return tables(executor).selectFrom('notify_templates').selectAll().where('event', '=', event).executeTakeFirst();
}

export async function insertTemplate(executor: Executor, template: Insertable<OnCallTables['notify_templates']>): Promise<void> {
  await tables(executor).insertInto('notify_templates').values(template).execute();
}

export async function updateTemplate(executor: Executor, event: string, expectedVersion: number, changes: Updateable<OnCallTables['notify_templates']>): Promise<boolean> {
  const result = await tables(executor).updateTable('notify_templates').set(changes).where('event', '=', event).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteTemplate(executor: Executor, event: string): Promise<void> {
  await tables(executor).deleteFrom('notify_templates').where('event', '=', event).execute();
}

/** Writes outbox rows and returns their ids, in order. */
export async function insertOutboxRows(executor: Executor, rows: readonly Insertable<OnCallTables['notify_outbox']>[]): Promise<number[]> {
  const inserted = await tables(executor)
    .insertInto('notify_outbox')
    .values([...rows])
    .returning('id')
    .execute();
  return inserted.map((r) => Number(r.id));
}

/** Outbox rows still to deliver, or being delivered. */
export async function undeliveredOutboxRows(executor: Executor) {
  return tables(executor).selectFrom('notify_outbox').select(['id', 'status', 'next_attempt_at']).where('status', 'in', ['pending', 'sending']).execute();
}

/** Marks a pending (or interrupted) outbox row as being sent and counts the attempt; undefined when it is done already or gone. */
export async function startDeliveryAttempt(executor: Executor, id: number): Promise<OutboxRow | undefined> {
  return tables(executor)
    .updateTable('notify_outbox')
    .set((eb) => ({ status: 'sending', attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'sending'])
    .returningAll()
    .executeTakeFirst();
}

export async function insertAttempt(executor: Executor, attempt: Insertable<OnCallTables['notify_attempts']>): Promise<void> {
  await tables(executor).insertInto('notify_attempts').values(attempt).execute();
}

export async function updateOutboxRow(executor: Executor, id: number, changes: Updateable<OnCallTables['notify_outbox']>): Promise<void> {
  await tables(executor).updateTable('notify_outbox').set(changes).where('id', '=', id).execute();
}

export async function listOutbox(executor: Executor, filter: { incident_id?: string | undefined; channel_id?: string | undefined; status?: string | undefined }, limit: number): Promise<OutboxRow[]> {
  let q = tables(executor).selectFrom('notify_outbox').selectAll();
  if (filter.incident_id) q = q.where('incident_id', '=', filter.incident_id);
  if (filter.channel_id) q = q.where('channel_id', '=', filter.channel_id);
  if (filter.status) q = q.where('status', '=', filter.status);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

export async function findOutboxRow(executor: Executor, id: number): Promise<OutboxRow | undefined> {
  return tables(executor).selectFrom('notify_outbox').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function attemptsOf(executor: Executor, outboxId: number): Promise<AttemptRow[]> {
  return tables(executor).selectFrom('notify_attempts').selectAll().where('outbox_id', '=', outboxId).orderBy('attempt').execute();
}

// ---- status pages and public updates -------------------------------------------------------------

export type PageRow = OnCallTables['status_pages'];

export async function insertStatusPage(executor: Executor, page: Insertable<PageRow>): Promise<void> {
  await tables(executor).insertInto('status_pages').values(page).execute();
}

export async function updateStatusPage(executor: Executor, id: string, expectedVersion: number, changes: Updateable<PageRow>): Promise<boolean> {
  const result = await tables(executor).updateTable('status_pages').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteStatusPage(executor: Executor, id: string): Promise<boolean> {
  const result = await tables(executor).deleteFrom('status_pages').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function findStatusPage(executor: Executor, id: string): Promise<PageRow | undefined> {
  return tables(executor).selectFrom('status_pages').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listStatusPages(executor: Executor): Promise<PageRow[]> {
  return tables(executor).selectFrom('status_pages').selectAll().orderBy('id').execute();
}

/** The public title of the incident's latest public update, if it has one. */
export async function latestPublicTitle(executor: Executor, incidentId: string): Promise<string | undefined> {
  const row = await tables(executor).selectFrom('status_public_updates').select('title').where('incident_id', '=', incidentId).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.title;
}

export async function insertPublicUpdate(executor: Executor, update: Insertable<OnCallTables['status_public_updates']>) {
  return tables(executor).insertInto('status_public_updates').values(update).returningAll().executeTakeFirstOrThrow();
}

/** The public updates of these incidents, oldest first. */
export async function publicUpdatesOf(executor: Executor, incidentIds: readonly string[]) {
  if (incidentIds.length === 0) return [];
  return tables(executor).selectFrom('status_public_updates').selectAll().where('incident_id', 'in', [...incidentIds]).orderBy('id').execute();
}
