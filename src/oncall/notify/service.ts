import type { EgressClient } from '../../egress/index.ts';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, isAppError, notFound } from '../../shared/errors.ts';
import { checkVersion } from '../../shared/concurrency.ts';
import { SecretBox } from '../../shared/crypto.ts';
import { fromJson, isUniqueViolation, toJson, JobQueue, type ClaimedJob, type Database, type Executor } from '../../storage/index.ts';
import { SEVERITIES, severityRank, type Incident, type IncidentService, type Severity } from '../../incidents/index.ts';
import type { CatalogService } from '../../catalog/index.ts';
import * as repository from '../repository.ts';
import type { AttemptRow, ChannelRow, OutboxRow } from '../repository.ts';
import { DEFAULT_TEMPLATES, renderMessage, validateTemplate, type RenderedMessage, type TemplateText } from './messages.ts';
import { sendMessage, type OpenChannel, type SendResult } from './transport.ts';
import {
  NOTIFY_EVENTS,
  type Channel,
  type ChannelKind,
  type CreateChannelInput,
  type ListNotificationsQuery,
  type Notification,
  type NotifyEvent,
  type PatchChannelInput,
  type PutTemplateInput,
  type Template,
} from './schemas.ts';

/** What other capabilities pass to `ctx.services.notifications.notify`. */
export interface NotifyRequest {
  event: NotifyEvent;
  /** The incident the message is about: its fields fill `{{incident.*}}`, and delivery shows on its timeline. */
  incidentId?: string;
  /** That incident as the caller already read it in the same transaction, to spare reading it again. */
  incident?: Incident;
  /** Send to exactly these channels. */
  channelIds?: string[];
  /** Send to this team's channels (and team-less ones) subscribed to the event; default: the incident's team. */
  team?: string;
  /** Page these people through their contact methods and severity rules. */
  users?: string[];
  /** Extra template values, e.g. `{ postmortem: { title, summary, url } }`. */
  context?: Record<string, unknown>;
  /** Severity for routing when there is no incident. */
  severity?: Severity;
  actor?: string;
}

export interface EnqueueOutcome {
  ids: number[];
  /** People who could not be reached, and why (no contact method for the severity…). */
  unreachable: string[];
  recipients: string[];
}


export const RETRY_BASE_SECONDS = 10;
export const MAX_RETRY_DELAY_SECONDS = 15 * 60;
export const DEFAULT_MAX_ATTEMPTS = 8;
const SECRET_PURPOSE = 'notify.channel';

/** Exponential backoff: 10 s, 20 s, 40 s … capped at 15 minutes. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(RETRY_BASE_SECONDS * 2 ** Math.max(0, attempt - 1), MAX_RETRY_DELAY_SECONDS);
}

export interface NotificationServiceOptions {
  database: Database;
  incidents: IncidentService;
  catalog: CatalogService;
  clock: () => Date;
  log: Logger;
  secretKey: string | undefined;
  publicUrl: string | undefined;
  /** Each outbox row is delivered by a job of kind DELIVERY_JOB keyed by its id. */
  jobs: JobQueue;
  egress: EgressClient;
  /** Wakes this server's job worker (deliveries are its jobs). */
  wakeWorker(): void;
}

export const DELIVERY_JOB = 'oncall.delivery';
/** Deliveries one server makes at once. */
export const DELIVERY_CONCURRENCY = 64;
export const DELIVERY_LEASE_MS = 120_000;

export class NotificationService {
  private readonly db: Database['db'];
  private readonly clock: () => Date;
  private readonly openCache = new Map<string, OpenChannel>();
  constructor(private readonly options: NotificationServiceOptions) {
    this.db = options.database.db;
    this.clock = options.clock;
  }

  /** Call after a commit that enqueued something, so the worker delivers without waiting for its next poll. */
  onEnqueued(): void {
    this.options.wakeWorker();
  }

  private box(): SecretBox {
    return new SecretBox(this.options.secretKey);
  }

  // ---- channels -------------------------------------------------------------------------------

  async createChannel(input: CreateChannelInput): Promise<Channel & { signing_secret?: string }> {
    if (input.team) await this.assertTeam(input.team, 'team');
    if (input.kind === 'email') this.options.egress.policy.assertHost(input.smtp.host, input.smtp.port, 'smtp.host');
    else this.options.egress.policy.assertUrl(input.url, 'url');
    const { settings, secrets } = splitChannelConfig(input);
    let generated: string | undefined;
    if (input.kind === 'webhook' && !input.signing_secret) {
      generated = randomBytes(32).toString('base64url');
      secrets.signing_secret = generated;
    }
    const now = this.clock().toISOString();
    try {
      await repository.insertChannel(this.db, {
          id: input.id,
          name: input.name ?? input.id,
          kind: input.kind,
          team: input.team ?? null,
          events: toJson(input.events ?? NOTIFY_EVENTS.filter((e) => e !== 'message')),
          min_severity: input.min_severity ?? 'low',
          settings: toJson(settings),
          sealed_secrets: this.box().seal(JSON.stringify(secrets), SECRET_PURPOSE),
          enabled: 1,
          created_at: now,
          updated_at: now,
          version: 1,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `channel ${input.id} already exists`, { field: 'id' });
      throw error;
    }
    const channel = await this.getChannel(input.id);
    return generated ? { ...channel, signing_secret: generated } : channel;
  }

  /**
   * Webhook channels made before their URLs were sealed kept the URL in the clear; this moves each into the
   * sealed secrets (once, at start), so the database no longer holds it readable either.
   */
  async sealLegacyWebhookUrls(): Promise<number> {
    if (!this.options.secretKey) return 0;
    const rows = await repository.channelsOfKind(this.db, 'webhook');
    let sealed = 0;
    for (const row of rows) {
      const { url, ...rest } = fromJson<Record<string, unknown>>(row.settings, {});
      if (typeof url !== 'string') continue;
      let secrets: Record<string, string>;
      try {
        secrets = JSON.parse(this.box().open(row.sealed_secrets, SECRET_PURPOSE)) as Record<string, string>;
      } catch (error) {
        this.options.log.warn({ err: error, channel: row.id }, 'cannot open the secrets of a webhook channel to seal its URL; it stays as it is');
        continue;
      }
      const updated = await repository.updateChannel(this.db, row.id, row.version, {
        settings: toJson({ ...rest, host: hostOf(url) }),
        sealed_secrets: this.box().seal(JSON.stringify({ ...secrets, url }), SECRET_PURPOSE),
        version: row.version + 1,
      });
      if (updated) sealed++;
    }
    return sealed;
  }

  async listChannels(): Promise<Channel[]> {
    return (await repository.listChannels(this.db)).map(channelFromRow);
  }

  async getChannel(id: string, db: Executor = this.db): Promise<Channel> {
    return channelFromRow(await this.channelRow(id, db));
  }

  private async channelRow(id: string, db: Executor = this.db): Promise<ChannelRow> {
    const row = await repository.findChannel(db, id);
    if (!row) throw notFound('channel', id);
    return row;
  }

  async updateChannel(id: string, patch: PatchChannelInput, expectedVersion: number | undefined): Promise<Channel> {
    const current = await this.channelRow(id);
    checkVersion('channel', id, current.version, expectedVersion ?? patch.version, true);
    if (patch.team) await this.assertTeam(patch.team, 'team');
    const updated = await repository.updateChannel(this.db, id, current.version, {
        name: patch.name ?? current.name,
        team: patch.team === undefined ? current.team : patch.team,
        events: patch.events ? toJson(patch.events) : current.events,
        min_severity: patch.min_severity ?? current.min_severity,
        enabled: patch.enabled === undefined ? current.enabled : patch.enabled ? 1 : 0,
        updated_at: this.clock().toISOString(),
      version: current.version + 1,
    });
    if (!updated) throw new AppError('version_conflict', `channel ${id} was changed concurrently; reload and retry`);
    return this.getChannel(id);
  }

  async deleteChannel(id: string): Promise<void> {
    const used = await repository.usersOfChannel(this.db, id);
    if (used.length > 0) {
      throw new AppError('conflict', `channel ${id} is a contact method of ${[...new Set(used)].join(', ')}; remove those first`);
    }
    if (!(await repository.deleteChannel(this.db, id))) throw notFound('channel', id);
  }

  /** Sends a real test message now, outside the outbox, and reports what the receiver said. */
  async testChannel(id: string, actor: string): Promise<{ channel_id: string; ok: boolean; detail: string; duration_ms: number }> {
    const row = await this.channelRow(id);
    const channel = this.open(row);
    const now = this.clock().toISOString();
    const message = renderMessage(
      'message',
      DEFAULT_TEMPLATES.message,
      { message: { title: `Firebreak test message for channel ${row.name}`, text: `Sent by ${actor} at ${now} to check that this channel works.` } },
      now,
    );
    const started = performance.now();
    const result = await sendMessage(this.options.egress, channel, message, { id: 0, attempt: 1, address: null });
    return { channel_id: id, ok: result.ok, detail: result.detail, duration_ms: Math.round(performance.now() - started) };
  }

  private open(row: ChannelRow): OpenChannel {
    const key = `${row.id}@${row.version}`;
    const cached = this.openCache.get(key);
    if (cached) return cached;
    const channel: OpenChannel = {
      id: row.id,
      kind: row.kind as ChannelKind,
      settings: fromJson<Record<string, unknown>>(row.settings, {}),
      secrets: JSON.parse(this.box().open(row.sealed_secrets, SECRET_PURPOSE)) as Record<string, string>,
    };
    this.openCache.set(key, channel);
    return channel;
  }

  private async assertTeam(team: string, field: string, db?: Executor): Promise<void> {
    try {
      await this.options.catalog.getTeam(team, db);
    } catch {
      throw new AppError('unprocessable', `${field}: team ${team} does not exist`, { field });
    }
  }

  // ---- templates ------------------------------------------------------------------------------

  async listTemplates(): Promise<Template[]> {
    const rows = await repository.listTemplates(this.db);
    return NOTIFY_EVENTS.map((event) => templateView(event, rows.find((r) => r.event === event)));
  }

  async getTemplate(event: NotifyEvent): Promise<Template> {
    return templateView(event, await repository.findTemplate(this.db, event));
  }

  async putTemplate(event: NotifyEvent, input: PutTemplateInput, actor: string): Promise<Template> {
    const text: TemplateText = { title: input.title, text: input.text, html: input.html ?? null };
    validateTemplate(text);
    const now = this.clock().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const current = await repository.findTemplate(trx, event);
      checkVersion('template', event, current?.version ?? 0, input.version, false);
      if (!current) {
        try {
          await repository.insertTemplate(trx, { event, ...text, updated_by: actor, updated_at: now, version: 1 });
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('version_conflict', `template ${event} was changed concurrently; reload and retry`);
          throw error;
        }
        return;
      }
      if (!(await repository.updateTemplate(trx, event, current.version, { ...text, updated_by: actor, updated_at: now, version: current.version + 1 }))) throw new AppError('version_conflict', `template ${event} was changed concurrently; reload and retry`);
    });
    return this.getTemplate(event);
  }

  async resetTemplate(event: NotifyEvent): Promise<Template> {
    await repository.deleteTemplate(this.db, event);
    return this.getTemplate(event);
  }

  private async templateFor(event: NotifyEvent, db: Executor): Promise<TemplateText> {
    const row = await repository.findTemplate(db, event);
    return row ? { title: row.title, text: row.text, html: row.html } : DEFAULT_TEMPLATES[event];
  }

  // ---- deciding: the outbox -------------------------------------------------------------------

  /**
   * Enqueues a notification for delivery (the public entry point for plans, recovery, postmortems).
   * The rows are committed before this returns; delivery happens in the background with retries.
   */
  async notify(request: NotifyRequest): Promise<EnqueueOutcome> {
    const outcome = await this.db.transaction().execute((trx) => this.enqueueInTransaction(trx, request));
    if (outcome.ids.length) this.onEnqueued();
    return outcome;
  }

  /**
   * The same inside a caller's transaction, so the decision and its notifications commit together. Call `onEnqueued` after commit.
   * `channels`: the enabled channels read earlier in the same transaction, so a burst reads them once.
   */
  async enqueueInTransaction(executor: Executor, request: NotifyRequest, channels?: readonly ChannelRow[]): Promise<EnqueueOutcome> {
    const trx = executor;
    const preloaded = request.incident && request.incident.id === request.incidentId ? request.incident : null;
    const incident =
      preloaded ??
      (request.incidentId
        ? await this.options.incidents.get(request.incidentId, trx).catch((error: unknown) => {
            if (isAppError(error) && error.code === 'not_found') return null;
            throw error;
          })
        : null);
    if (request.incidentId && !incident) {
      throw new AppError('unprocessable', `incident_id: incident ${request.incidentId} does not exist`, { field: 'incident_id' });
    }
    const now = this.clock().toISOString();
    const view: Record<string, unknown> = {
      ...(request.context ?? {}),
      event: request.event,
      actor: request.actor ?? 'firebreak',
      at: now,
      incident: incident ? this.incidentView(incident) : (request.context?.incident ?? {}),
    };
    const severity = (incident?.severity ?? request.severity ?? null) as Severity | null;

    const targets: { channel_id: string; recipient: string | null; address: string | null }[] = [];
    const unreachable: string[] = [];
    const recipients: string[] = [];
    if (request.channelIds) {
      for (const [i, id] of request.channelIds.entries()) {
        if (!(await repository.findChannel(trx, id))) throw new AppError('unprocessable', `channel_ids[${i}]: channel ${id} does not exist`, { field: `channel_ids[${i}]` });
        targets.push({ channel_id: id, recipient: null, address: null });
      }
    }
    if (!request.channelIds && !request.users) {
      const team = request.team ?? incident?.team ?? null;
      if (request.team) await this.assertTeam(request.team, 'team', trx);
      for (const channel of channels ?? (await repository.enabledChannels(trx))) {
        if (channel.team !== null && channel.team !== team) continue;
        if (!fromJson<string[]>(channel.events, []).includes(request.event)) continue;
        if (severity && severityRank(severity) < severityRank(channel.min_severity as Severity)) continue;
        // An e-mail channel without its own recipients only reaches people through their contact methods.
        if (channel.kind === 'email' && fromJson<{ to?: string[] }>(channel.settings, {}).to?.length === 0) continue;
        targets.push({ channel_id: channel.id, recipient: null, address: null });
      }
    }
    for (const user of request.users ?? []) {
      const contacts = await this.contactsFor(trx, user, severity);
      if (contacts.length === 0) unreachable.push(`${user} has no contact method${severity ? ` for ${severity} incidents` : ''}`);
      else recipients.push(user);
      for (const contact of contacts) targets.push({ channel_id: contact.channel_id, recipient: user, address: contact.address });
    }
    const ids: number[] = [];
    if (targets.length > 0) {
      // Rendered only when someone will receive it: most incidents of a busy server reach no channel.
      const message = renderMessage(request.event, await this.templateFor(request.event, trx), view, now);
      const inserted = await repository.insertOutboxRows(
        trx,
        targets.map((t) => ({
            incident_id: incident?.id ?? null,
            event: request.event,
            channel_id: t.channel_id,
            recipient: t.recipient,
            address: t.address,
            message: toJson(message),
            status: 'pending',
            attempts: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            next_attempt_at: now,
            lease_until: null,
            last_error: null,
            created_at: now,
            delivered_at: null,
          })),
      );
      ids.push(...inserted);
      await this.options.jobs.adopt(JobQueue.in(trx), DELIVERY_JOB, ids.map((id) => ({ key: String(id), runAt: now })));
    }
    return { ids, unreachable, recipients };
  }

  /**
   * A person's contact methods for a severity. With no rules, every contact method applies; with rules,
   * only those whose minimum severity the incident reaches.
   */
  private async contactsFor(trx: Executor, user: string, severity: Severity | null): Promise<{ channel_id: string; address: string | null }[]> {
    const methods = await repository.contactMethodsOf(trx, user);
    const rules = await repository.notificationRulesOf(trx, user);
    if (rules.length === 0) return methods;
    const rank = severity ? severityRank(severity) : SEVERITIES.length;
    const allowed = new Set(rules.filter((r) => rank >= severityRank(r.min_severity as Severity)).map((r) => Number(r.contact_method_id)));
    return methods.filter((m) => allowed.has(Number(m.id)));
  }

  incidentView(incident: Incident): Record<string, unknown> {
    const base = this.options.publicUrl?.replace(/\/$/, '');
    return {
      id: incident.id,
      title: incident.title,
      description: incident.description,
      severity: incident.severity,
      status: incident.status,
      team: incident.team,
      services: incident.services.join(', '),
      assignee: incident.assignee,
      acknowledged_by: incident.acknowledged_by,
      resolution: incident.resolution,
      root_cause: incident.root_cause,
      detected_at: incident.detected_at,
      url: base ? `${base}/api/v1/incidents/${encodeURIComponent(incident.id)}` : null,
    };
  }

  // ---- delivering ---------------------------------------------------------------------------

  /** Outbox rows written before deliveries were jobs: pending ones, and ones a stopped server was sending. */
  async adoptStoredDeliveries(): Promise<void> {
    const rows = await repository.undeliveredOutboxRows(this.db);
    await this.options.jobs.adopt(
      this.options.jobs.db,
      DELIVERY_JOB,
      rows.map((r) => ({ key: String(r.id), runAt: r.next_attempt_at, interruptedOwner: r.status === 'sending' ? 'unknown' : null })),
    );
  }

  /**
   * Makes one delivery attempt for a claimed job. The attempt, the outbox row's new state and the job's
   * end (or its next attempt, with backoff) commit together, only while this claim still holds the job,
   * so each attempt is recorded once even if a slow send outlived its lease.
   */
  async deliver(job: ClaimedJob): Promise<void> {
    const id = Number(job.key);
    const claimed = await repository.startDeliveryAttempt(this.db, id);
    if (!claimed) {
      // Delivered or dead already (or gone): nothing to send.
      await this.options.jobs.complete(this.options.jobs.db, job);
      return;
    }
    const row: OutboxRow = claimed;
    const message = fromJson<RenderedMessage>(row.message, {} as RenderedMessage);
    const startedAt = this.clock().toISOString();
    const started = performance.now();
    const channelRow = await repository.findChannel(this.db, row.channel_id);
    let result: SendResult;
    if (!channelRow) result = { ok: false, permanent: true, detail: `channel ${row.channel_id} no longer exists` };
    else if (!channelRow.enabled) result = { ok: false, permanent: true, detail: `channel ${row.channel_id} is disabled` };
    else {
      let channel: OpenChannel | null = null;
      try {
        channel = this.open(channelRow);
      } catch (error) {
        result = { ok: false, permanent: false, detail: (error as Error).message };
      }
      result = channel ? await sendMessage(this.options.egress, channel, message, { id, attempt: row.attempts, address: row.address }) : result!;
    }
    const duration = Math.round(performance.now() - started);
    const now = this.clock();
    const dead = !result.ok && (result.permanent || row.attempts >= row.max_attempts);
    const nextAttempt = new Date(now.getTime() + retryDelaySeconds(row.attempts) * 1000).toISOString();
    const recorded = await this.db.transaction().execute(async (trx) => {
      if (!(await this.options.jobs.complete(JobQueue.in(trx), job, result.ok || dead ? undefined : { runAt: nextAttempt, error: result.detail }))) return false;
      await repository.insertAttempt(trx, {
        outbox_id: id,
        attempt: row.attempts,
        started_at: startedAt,
        duration_ms: duration,
        outcome: result.ok ? 'delivered' : 'failed',
        detail: result.detail,
      });
      await repository.updateOutboxRow(
        trx,
        id,
        result.ok
          ? { status: 'delivered', delivered_at: now.toISOString(), lease_until: null, last_error: null }
          : { status: dead ? 'dead' : 'pending', next_attempt_at: dead ? row.next_attempt_at : nextAttempt, lease_until: null, last_error: result.detail },
      );
      return true;
    });
    if (!recorded) {
      this.options.log.warn({ notification: id }, 'delivery result dropped: its job was taken over by another server');
      return;
    }
    if (row.incident_id) {
      const to = `${row.channel_id}${row.recipient ? ` (${row.recipient})` : ''}`;
      const summary = result.ok
        ? `${message.event} notification delivered to ${to} on attempt ${row.attempts}`
        : dead
          ? `${message.event} notification to ${to} failed for good after ${row.attempts} attempt(s): ${result.detail}`
          : `${message.event} notification to ${to} failed (attempt ${row.attempts} of ${row.max_attempts}): ${result.detail}; retrying at ${nextAttempt}`;
      await this.options.incidents
        .appendTimeline(
          row.incident_id,
          [{ kind: result.ok ? 'notification_delivered' : dead ? 'notification_dead' : 'notification_failed', summary, data: { notification_id: id, channel: row.channel_id, recipient: row.recipient, attempt: row.attempts } }],
          'firebreak',
        )
        .catch((error: unknown) => this.options.log.warn({ err: error, incident: row.incident_id }, 'could not record delivery on the timeline'));
    }
  }

  // ---- reading the outbox -------------------------------------------------------------------

  async list(query: ListNotificationsQuery): Promise<Notification[]> {
    const rows = await repository.listOutbox(this.db, query, query.limit ?? 100);
    return rows.map((r) => notificationFromRow(r));
  }

  async get(id: number): Promise<Notification> {
    const row = await repository.findOutboxRow(this.db, id);
    if (!row) throw notFound('notification', String(id));
    const attempts = await repository.attemptsOf(this.db, id);
    return notificationFromRow(row, attempts);
  }
}

function splitChannelConfig(input: CreateChannelInput): { settings: Record<string, unknown>; secrets: Record<string, string> } {
  switch (input.kind) {
    // Webhook URLs are often bearer credentials (a token in the path or query), as Slack's and Teams'
    // incoming-webhook URLs always are: only the host is kept in the clear.
    case 'webhook':
      return { settings: { host: new URL(input.url).host }, secrets: { url: input.url, ...(input.signing_secret ? { signing_secret: input.signing_secret } : {}) } };
    case 'slack':
    case 'teams':
      return { settings: { host: new URL(input.url).host }, secrets: { url: input.url } };
    case 'email': {
      const { password, ...smtp } = input.smtp;
      return { settings: { smtp, from: input.from, to: input.to ?? [] }, secrets: password ? { password } : {} };
    }
  }
}

function channelFromRow(row: ChannelRow): Channel {
  const settings = fromJson<Record<string, unknown>>(row.settings, {});
  // A webhook channel made before its URL was sealed shows only the host until it is resealed.
  if (row.kind === 'webhook' && typeof settings.url === 'string') {
    const { url, ...rest } = settings;
    return channelFromRow({ ...row, settings: toJson({ ...rest, host: hostOf(url) }) });
  }
  let stored: string[] = [];
  if (row.kind === 'webhook') stored = ['url', 'signing_secret'];
  if (row.kind === 'slack' || row.kind === 'teams') stored = ['url'];
  if (row.kind === 'email' && (settings.smtp as { username?: string } | undefined)?.username) stored = ['smtp.password'];
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ChannelKind,
    team: row.team,
    events: fromJson<string[]>(row.events, []),
    min_severity: row.min_severity,
    enabled: Boolean(row.enabled),
    settings,
    secrets_stored: stored,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

function templateView(event: NotifyEvent, row: repository.TemplateRow | undefined): Template {
  if (!row) return { event, ...DEFAULT_TEMPLATES[event], customized: false, updated_by: null, updated_at: null, version: 0 };
  return { event, title: row.title, text: row.text, html: row.html, customized: true, updated_by: row.updated_by, updated_at: row.updated_at, version: row.version };
}

function notificationFromRow(row: OutboxRow, attempts?: AttemptRow[]): Notification {
  const message = fromJson<{ title?: string }>(row.message, {});
  return {
    id: Number(row.id),
    incident_id: row.incident_id,
    event: row.event,
    channel_id: row.channel_id,
    recipient: row.recipient,
    status: row.status as Notification['status'],
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    next_attempt_at: row.next_attempt_at,
    last_error: row.last_error,
    created_at: row.created_at,
    delivered_at: row.delivered_at,
    title: message.title ?? '',
    ...(attempts
      ? {
          attempt_log: attempts.map((a) => ({
            attempt: a.attempt,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            outcome: a.outcome as 'delivered' | 'failed',
            detail: a.detail,
          })),
        }
      : {}),
  };
}
