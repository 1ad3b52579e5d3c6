import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AppError, notFound } from '../shared/errors.ts';
import type { DomainEvents } from '../shared/events.ts';
import { GroupCommit, fromJson, isUniqueViolation, toJson, viewAs, type Database } from '../storage/index.ts';
import { catalogRepository, type CatalogService } from '../catalog/index.ts';
import {
  ACTIVE_STATUSES,
  isActiveStatus,
  severityRank,
  type Severity,
  type CreatedIncident,
  type IncidentService,
  type IncidentStatus,
  incidentRepository,
  type IncidentTables,
  type TimelineDraft,
  type TimelineEntry,
} from '../incidents/index.ts';
import type { AlertSink, InternalAlert } from '../shared/alert-sink.ts';
import { ALERT_TO_INCIDENT_SEVERITY, EMPTY_RULE_SET, routeAlert, type CompiledRuleSet, type RoutingDecision } from './routing.ts';
import type { RoutingRulesService } from './rules-service.ts';
import type { CorrelationService } from './correlation-service.ts';
import { groupAcceptsAt, groupKeys } from './grouping.ts';
import { labelKeys as labelKeysOf } from './correlation.ts';
import { signalFromInternal, type AlertSignal } from './normalize.ts';
import { alertFromRow, alertFromWritten, type AlertRow } from './schema.ts';
import * as repository from './repository.ts';
import type { Alert, AlertDecision, AlertStatus, IncidentAlertSummary, Integration, ListAlertsQuery } from './schemas.ts';

declare module '../shared/events.ts' {
  interface DomainEventMap {
    /** A new alert was stored (not a repeat). */
    'alert.received': { alert: Alert };
    /** A repeat of an open alert was counted. Light on purpose: it fires thousands of times a second in a storm. */
    'alert.repeated': { alertId: string; dedupKey: string; service: string; incidentId: string | null; occurrences: number; at: string };
    'alert.acknowledged': { alert: Alert };
    'alert.resolved': { alert: Alert };
    /** An alert joined an incident: it opened it, was grouped into it, or a rule attached it. */
    'alert.attached': { alert: Alert; incidentId: string; how: 'opened' | 'grouped' | 'attached' };
  }
}

export type IngestOutcomeKind = 'created' | 'repeated' | 'acknowledged' | 'resolved' | 'ignored';

export interface IngestOutcome {
  alert_id: string | null;
  dedup_key: string;
  status: Alert['status'];
  outcome: IngestOutcomeKind;
  incident_id: string | null;
  decision: string;
  rule: string;
  occurrences: number;
}

/** Who sent a signal: an integration (its id scopes dedup keys), or Firebreak itself. */
export interface IngestOrigin {
  /** Dedup keys are unique within a scope: the integration's id, or `internal`. */
  scope: string;
  /** The integration that sent it; its service is the alert's service unless the payload names another. */
  integration: Integration | null;
  actor: string;
}

export function originOf(integration: Integration): IngestOrigin {
  return { scope: integration.id, integration, actor: `integration:${integration.name}` };
}

const INTERNAL_SCOPE = 'internal';
const MAX_ATTEMPTS = 6;

/** The longest a coalesced delivery waits for more of its sender's events (see `AlertService.ingestCoalesced`). */
const COALESCE_LINGER_MS = 1;
/**
 * The fewest events in flight for which a sender's delivery waits for its siblings. With fewer, it is
 * written at once and shares the group commit with other senders' events (measured: waiting at 1–3 in
 * flight per sender, with ten senders, split that sharing and cost ~15 % more CPU per event).
 */
const COALESCE_LINGER_MIN = 8;
/** The most events a coalesced delivery waits for. */
const MAX_COALESCED = 256;

/** Events of one sender waiting to be written together (see `AlertService.ingestCoalesced`). */
interface CoalescingBatch {
  origin: IngestOrigin;
  signals: AlertSignal[];
  waiters: { resolve: (outcome: IngestOutcome) => void; reject: (error: unknown) => void }[];
  /** How many events to wait for (see `AlertService.ingestCoalesced`). */
  expected: number;
  /** Whether the batch may be written: the turn it started in has ended and the sender's previous delivery is written. */
  eligible: boolean;
  linger: NodeJS.Timeout | null;
}

/** The transaction a piece of ingestion runs in (any capability's tables: it is passed on to their repositories). */
type Trx = Kysely<object>;

/** Thrown inside a transaction when another writer changed what it decided on; the transaction is retried. */
class RetryTransaction extends Error {}

interface Pending {
  /** The rule set in force, read before the transaction (reading it inside would wait on our own connection on SQLite). */
  rules: CompiledRuleSet;
  created: CreatedIncident | null;
  timeline: TimelineEntry[];
  events: (() => void)[];
  autoResolve: { incidentId: string; rule: string } | null;
  /** A grouped or attached alert more severe than its incident raises the incident's severity after the commit. */
  raiseSeverity?: { incidentId: string; severity: Severity; alertId: string };
}

/**
 * Alert ids end in 6 random bytes, drawn from a pool refilled 4 KiB at a time: a call into the CSPRNG
 * per alert cost more, in a storm, than routing the alert.
 */
const idRandom = { pool: Buffer.alloc(0), offset: 0 };

function newAlertId(): string {
  if (idRandom.offset + 6 > idRandom.pool.length) {
    idRandom.pool = randomBytes(4096);
    idRandom.offset = 0;
  }
  const random = idRandom.pool.toString('hex', idRandom.offset, idRandom.offset + 6);
  idRandom.offset += 6;
  return `alt_${Date.now().toString(36)}${random}`;
}

/**
 * The stored row of a newly firing alert. `expired` is the silenced alert of the same key that it takes over, whose
 * first sighting, signal time, occurrences and creation carry on; the batch and one-by-one paths both write this.
 */
function firingAlertRow(
  a: {
    id: string;
    scope: string;
    origin: IngestOrigin;
    signal: AlertSignal;
    service: string;
    labels: Record<string, string>;
    signalAt: string;
    decision: ReturnType<typeof routeAlert>;
    placement: Awaited<ReturnType<AlertService['place']>>;
    reason: string;
    nowIso: string;
  },
  expired?: Pick<AlertRow, 'first_seen_at' | 'signal_at' | 'occurrences' | 'created_at'>,
): AlertRow {
  const { signal, decision, placement, nowIso } = a;
  return {
    id: a.id,
    dedup_scope: a.scope,
    dedup_key: signal.dedupKey,
    integration_id: a.origin.integration?.id ?? null,
    format: signal.format,
    source: signal.source,
    service: a.service,
    summary: signal.summary,
    severity: decision.severity,
    status: 'firing',
    labels: toJson(a.labels),
    details: toJson(signal.details),
    links: toJson(signal.links),
    first_seen_at: expired?.first_seen_at ?? nowIso,
    last_seen_at: nowIso,
    signal_at: expired?.signal_at ?? a.signalAt,
    acknowledged_at: null,
    resolved_at: null,
    occurrences: (expired ? Number(expired.occurrences) : 0) + 1,
    raw: signal.raw,
    incident_id: placement.incidentId,
    decision: placement.decision,
    rule: decision.rule,
    reason: a.reason,
    suppressed_until: placement.decision === 'suppressed' ? (decision.suppressedUntil ?? null) : null,
    created_at: expired?.created_at ?? nowIso,
    updated_at: nowIso,
  };
}

function scopeOf(origin: IngestOrigin): string {
  return origin.scope;
}

/**
 * The alert pipeline: dedup, routing, grouping into incidents. A repeat of an open alert is one
 * conditional UPDATE; a new alert is stored with the incident it opens or joins, in a savepoint of its
 * own. Events that arrive together share one transaction (group commit), and each caller hears back only
 * after that transaction committed.
 */
export class AlertService implements AlertSink {
  private readonly db: Kysely<object>;
  private readonly commits: GroupCommit<object>;

  constructor(
    database: Database,
    private readonly incidents: IncidentService,
    private readonly catalog: CatalogService,
    private readonly rules: RoutingRulesService,
    private readonly correlation: CorrelationService,
    private readonly events: DomainEvents,
    private readonly clock: () => Date,
    private readonly log: Logger,
  ) {
    this.db = database.db;
    // Grouping pays on SQLite (in-process, one connection, commits are the cost); on PostgreSQL the
    // pool's concurrent transactions do better on their own (see GroupCommitOptions.grouped).
    this.commits = new GroupCommit(this.db, { grouped: database.dialect === 'sqlite' });
  }

  /** When a responder resolves an incident, its open alerts are resolved with it (as PagerDuty does), so a new trigger opens a new incident. */
  listen(): void {
    this.events.on('incident.updated', ({ incident, previous }) => {
      if (incident.status === 'resolved' && isActiveStatus(previous.status)) {
        this.resolveAlertsOfIncident(incident.id).catch((error: unknown) =>
          this.log.error({ err: error, incident: incident.id }, 'resolving the alerts of a resolved incident failed'),
        );
      }
    });
  }

  // ------------------------------------------------------------------------------------------
  // AlertSink: Firebreak's own detectors

  async raise(alert: InternalAlert): Promise<{ alertId: string; incidentId: string | null }> {
    const outcome = await this.ingest({ scope: INTERNAL_SCOPE, integration: null, actor: alert.source }, signalFromInternal(alert));
    return { alertId: outcome.alert_id!, incidentId: outcome.incident_id };
  }

  async resolve(dedupKey: string, at: string, details?: Record<string, unknown>): Promise<void> {
    await this.ingest(
      { scope: INTERNAL_SCOPE, integration: null, actor: 'firebreak' },
      {
        action: 'resolve',
        dedupKey,
        format: 'internal',
        source: 'firebreak',
        summary: '',
        severity: 'info',
        labels: {},
        details: details ?? {},
        links: [],
        signalAt: at,
        serviceHint: null,
        raw: JSON.stringify({ dedupKey, at, details }),
      },
    );
  }

  // ------------------------------------------------------------------------------------------
  // Ingestion

  async ingest(origin: IngestOrigin, signal: AlertSignal): Promise<IngestOutcome> {
    for (let attempt = 1; ; attempt++) {
      // Read before the transaction: reading it inside would wait on the shared transaction itself on SQLite.
      const rules = signal.action === 'trigger' ? await this.rules.rules() : EMPTY_RULE_SET;
      try {
        // Events arriving together share one commit; each is answered only after it (see GroupCommit).
        const fresh = (): Pending => ({ rules, created: null, timeline: [], events: [], autoResolve: null });
        const { outcome, pending } = await this.commits.run(
          async (trx) => {
            const pending = fresh();
            return { outcome: await this.applyInTransaction(trx, origin, signal, pending), pending };
          },
          // The hot path: most triggers repeat an open alert, which one statement counts.
          signal.action === 'trigger'
            ? async (trx) => {
                const pending = fresh();
                const repeated = await this.countRepeat(trx, origin, signal, pending);
                return repeated ? { outcome: repeated, pending } : null;
              }
            : undefined,
        );
        this.afterCommit(pending);
        if (pending.autoResolve) await this.autoResolveIncident(pending.autoResolve.incidentId, pending.autoResolve.rule);
        if (pending.raiseSeverity) await this.raiseIncidentSeverity(pending.raiseSeverity, origin.actor);
        return outcome;
      } catch (error) {
        const retryable = error instanceof RetryTransaction || isUniqueViolation(error) || isBusy(error);
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** The coalesced delivery of each sender being written now (see `ingestCoalesced`); it never rejects. */
  private readonly coalescedWriting = new Map<string, Promise<void>>();

  /** Events waiting to be written together, per sender (see `ingestCoalesced`). */
  private readonly coalescing = new Map<string, CoalescingBatch>();

  /** The size of each sender's last coalesced delivery. */
  private readonly coalescedSizes = new Map<string, number>();

  /**
   * One event of a sender that sends many at once (the Events API in a storm): events of the same sender
   * that arrive in the same turn of the event loop, or while that sender's previous delivery is being
   * written, are written together as the next delivery (multi-row inserts, one timeline entry per
   * incident), so the busier the sender, the fewer transactions per event. If that delivery fails, each
   * event is retried on its own, so a bad event still fails alone and the others are stored.
   *
   * A commit costs several times what one more event in it does, so, as PostgreSQL's `commit_delay` does,
   * a delivery may wait a little for its siblings. The sender's events in flight are those of its last
   * delivery (just answered, so their senders are sending the next ones) and those that arrived while it
   * was written; until as many have arrived, the delivery waits, at most COALESCE_LINGER_MS. Only a
   * sender with at least COALESCE_LINGER_MIN events in flight waits; one with a few is written at once.
   */
  ingestCoalesced(origin: IngestOrigin, signal: AlertSignal): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      const scope = origin.scope;
      let batch = this.coalescing.get(scope);
      if (!batch) {
        const created: CoalescingBatch = { origin, signals: [], waiters: [], expected: 1, eligible: false, linger: null };
        batch = created;
        this.coalescing.set(scope, created);
        const writing = this.coalescedWriting.get(scope);
        const last = this.coalescedSizes.get(scope) ?? 1;
        if (writing) {
          void writing.then(() => {
            created.expected = Math.min(last + created.signals.length, MAX_COALESCED);
            this.flushCoalescedWhenFull(created);
          });
        } else {
          created.expected = last;
          setImmediate(() => this.flushCoalescedWhenFull(created));
        }
      }
      batch.signals.push(signal);
      batch.waiters.push({ resolve, reject });
      if (batch.eligible && batch.signals.length >= batch.expected) this.flushCoalescedNow(batch);
    });
  }

  /** The batch may be written now: it is, once as many events as expected are in it or its linger ran out. */
  private flushCoalescedWhenFull(batch: CoalescingBatch): void {
    batch.eligible = true;
    if (batch.expected < COALESCE_LINGER_MIN) batch.expected = 1;
    if (batch.signals.length >= batch.expected) return this.flushCoalescedNow(batch);
    batch.linger ??= setTimeout(() => this.flushCoalescedNow(batch), COALESCE_LINGER_MS);
  }

  private flushCoalescedNow(batch: CoalescingBatch): void {
    const scope = batch.origin.scope;
    if (this.coalescing.get(scope) !== batch) return;
    if (batch.linger) clearTimeout(batch.linger);
    this.coalescing.delete(scope);
    this.coalescedSizes.set(scope, batch.signals.length);
    const flushed = this.flushCoalesced(batch);
    this.coalescedWriting.set(scope, flushed);
    void flushed.then(() => {
      if (this.coalescedWriting.get(scope) === flushed) this.coalescedWriting.delete(scope);
    });
  }

  private async flushCoalesced(batch: CoalescingBatch): Promise<void> {
    if (batch.signals.length > 1) {
      try {
        const outcomes = await this.ingestDelivery(batch.origin, batch.signals, { truncatedAlerts: 0, label: `${batch.signals.length} events received together` });
        batch.waiters.forEach((waiter, i) => waiter.resolve(outcomes[i]!));
        return;
      } catch {
        // One of them is at fault: each goes on its own below.
      }
    }
    // Events of one key one after another, in the order they came (a resolve must not overtake its
    // trigger: `ingest` reads the rules first for a trigger only); different keys at once, sharing commits.
    const byKey = new Map<string, Promise<void>>();
    await Promise.all(
      batch.signals.map((signal, i) => {
        const waiter = batch.waiters[i]!;
        const run = (byKey.get(signal.dedupKey) ?? Promise.resolve()).then(() => this.ingest(batch.origin, signal).then(waiter.resolve, waiter.reject));
        byKey.set(signal.dedupKey, run);
        return run;
      }),
    );
  }

  /**
   * A whole delivery (an Alertmanager group) at a storm's cost: the open alerts of all its keys are read
   * in one statement, catalogue services once, routing is in memory, new alerts are written with
   * multi-row inserts, and each incident the delivery touches gets one timeline entry that summarises it
   * (with the sender's `truncatedAlerts`, the alerts it left out), not one entry per alert. Repeats,
   * acknowledgements, resolutions and alerts whose silence ran out take the one-by-one path inside the
   * same transaction. The delivery commits or fails as one: a sender retries it whole, and retried
   * alerts count as repeats.
   */
  async ingestDelivery(origin: IngestOrigin, signals: readonly AlertSignal[], delivery: { truncatedAlerts: number; label: string }): Promise<IngestOutcome[]> {
    if (signals.length === 0) return [];
    // Deliveries of one sender run one after another in this process: concurrent ones carry the same
    // new alerts and would each open the incident, then all but one retry (on PostgreSQL, holding row
    // locks on each other for the length of a large transaction).
    const previous = this.deliveries.get(origin.scope) ?? Promise.resolve();
    const run = previous.then(() => this.writeDelivery(origin, signals, delivery));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.deliveries.set(origin.scope, settled);
    void settled.then(() => {
      if (this.deliveries.get(origin.scope) === settled) this.deliveries.delete(origin.scope);
    });
    return run;
  }

  private readonly deliveries = new Map<string, Promise<void>>();

  private async writeDelivery(origin: IngestOrigin, signals: readonly AlertSignal[], delivery: { truncatedAlerts: number; label: string }): Promise<IngestOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      const rules = signals.some((signal) => signal.action === 'trigger') ? await this.rules.rules() : EMPTY_RULE_SET;
      const pendings: Pending[] = [];
      try {
        const outcomes = await this.commits.run(async (trx) => {
          pendings.length = 0;
          return this.applyDelivery(trx, origin, signals, rules, delivery, pendings);
        });
        for (const pending of pendings) this.afterCommit(pending);
        for (const pending of pendings) {
          if (pending.autoResolve) await this.autoResolveIncident(pending.autoResolve.incidentId, pending.autoResolve.rule);
          if (pending.raiseSeverity) await this.raiseIncidentSeverity(pending.raiseSeverity, origin.actor);
        }
        return outcomes;
      } catch (error) {
        const retryable = error instanceof RetryTransaction || isUniqueViolation(error) || isBusy(error);
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async applyDelivery(
    trx: Trx,
    origin: IngestOrigin,
    signals: readonly AlertSignal[],
    rules: CompiledRuleSet,
    delivery: { truncatedAlerts: number; label: string },
    pendings: Pending[],
  ): Promise<IngestOutcome[]> {
    const fresh = (): Pending => ({ rules, created: null, timeline: [], events: [], autoResolve: null });
    const scope = scopeOf(origin);
    const now = this.clock();
    const nowIso = now.toISOString();
    const outcomes: (IngestOutcome | undefined)[] = new Array(signals.length);

    // Open alerts of every trigger's key, in one statement per 500 keys.
    const triggerKeys = [...new Set(signals.filter((s) => s.action === 'trigger').map((s) => s.dedupKey))];
    const open = new Map<string, Pick<AlertRow, 'dedup_key' | 'suppressed_until'>>();
    for (const row of await repository.openAlertsOfKeys(trx, scope, triggerKeys)) open.set(row.dedup_key, row);

    // New alerts: a trigger that is the first event of its key, which has no open alert. Everything else
    // goes one by one, in order after them; so an acknowledge or resolve that came before a key's trigger
    // finds nothing to act on, as it would have on its own.
    const newAlerts: number[] = [];
    const seen = new Set<string>();
    const oneByOne: number[] = [];
    signals.forEach((signal, index) => {
      const first = !seen.has(signal.dedupKey);
      seen.add(signal.dedupKey);
      if (first && signal.action === 'trigger' && !open.has(signal.dedupKey)) newAlerts.push(index);
      else oneByOne.push(index);
    });

    // Catalogue services named by the new alerts, read once.
    const named = new Set<string>();
    for (const index of newAlerts) {
      const hint = signals[index]!.serviceHint;
      if (hint) named.add(hint);
    }
    const known = new Set<string>(origin.integration ? [origin.integration.service] : []);
    if (named.size > 0) {
      for (const service of await catalogRepository.loadServices(trx, [...named])) known.add(service.id);
    }

    type Placed = Awaited<ReturnType<AlertService['place']>>;
    const placements = new Map<string, Placed>();
    const rows: AlertRow[] = [];
    const byIncident = new Map<string, { alerts: Alert[]; opened: Alert | null; labels: Set<string>; detectedAt: string; severity: Severity | null; worst: { severity: Severity; alertId: string } | null }>();
    const received = fresh();
    pendings.push(received);

    for (const index of newAlerts) {
      const signal = signals[index]!;
      let service: string;
      let note = '';
      if (signal.serviceHint && known.has(signal.serviceHint)) service = signal.serviceHint;
      else if (origin.integration) {
        service = origin.integration.service;
        if (signal.serviceHint && signal.serviceHint !== service) note = ` (label service=${signal.serviceHint} is not in the catalogue)`;
      } else {
        oneByOne.push(index);
        continue;
      }
      const baseService = service;
      const decision = routeAlert(rules, { service, severity: signal.severity, labels: signal.labels }, now);
      let reason = decision.reason + note;
      if (decision.service !== baseService) {
        if (!known.has(decision.service)) {
          if (await this.serviceExists(trx, decision.service)) known.add(decision.service);
        }
        if (known.has(decision.service)) service = decision.service;
        else reason += ` (rule ${decision.rule} names service ${decision.service}, which no longer exists; kept ${baseService})`;
      }
      const signalAt = signal.signalAt ?? nowIso;
      const alertId = newAlertId();
      const labels = labelsWith(signal.labels, service, decision.severity);
      // Alerts of one delivery that share group keys share one placement: the first opens or finds the
      // incident, the others join it without asking the database again.
      let placement: Placed;
      const groupBy = decision.action === 'open' || decision.action === 'attach' ? groupKeys(service, labels, decision.groupBy).join('\u0002') : '';
      const memoKey = `${decision.action}\u0001${decision.attachTo ?? ''}\u0001${decision.groupWindowMinutes}\u0001${groupBy}`;
      const memo = placements.get(memoKey);
      if (memo && memo.incidentId) {
        placement = { ...memo, decision: memo.decision === 'opened_incident' ? 'grouped' : memo.decision };
      } else {
        const pending = fresh();
        placement = await this.place(trx, origin, signal, decision, { alertId, service, signalAt, nowIso, now, labels }, pending);
        pendings.push(pending);
        if (placement.incidentId) placements.set(memoKey, placement);
      }
      reason = placement.reason ?? reason;
      const row = firingAlertRow({ id: alertId, scope, origin, signal, service, labels, signalAt, decision, placement, reason, nowIso });
      rows.push(row);
      const alert = alertFromWritten(row, labels, signal.details, signal.links);
      received.events.push(() => this.events.emit('alert.received', { alert }));
      outcomes[index] = outcomeOf(alert, 'created');
      if (placement.incidentId) {
        let touched = byIncident.get(placement.incidentId);
        if (!touched) {
          touched = { alerts: [], opened: null, labels: new Set(), detectedAt: placement.incidentDetectedAt!, severity: placement.incidentSeverity ?? null, worst: null };
          byIncident.set(placement.incidentId, touched);
        }
        touched.alerts.push(alert);
        if (placement.decision === 'opened_incident') touched.opened = alert;
        for (const key of labelKeysOf(labels)) touched.labels.add(key);
        const severity = ALERT_TO_INCIDENT_SEVERITY[decision.severity];
        if (placement.decision !== 'opened_incident' && touched.severity && severityRank(severity) > severityRank(touched.severity)) {
          if (!touched.worst || severityRank(severity) > severityRank(touched.worst.severity)) touched.worst = { severity, alertId };
        }
        const incidentId = placement.incidentId;
        const how = placement.decision === 'opened_incident' ? 'opened' : placement.decision === 'grouped' ? 'grouped' : 'attached';
        received.events.push(() => this.events.emit('alert.attached', { alert, incidentId, how }));
      }
    }

    await repository.insertAlerts(trx, rows);

    // One timeline entry per incident for the whole delivery.
    for (const [incidentId, touched] of byIncident) {
      const first = touched.opened ?? touched.alerts[0]!;
      const others = touched.alerts.length - 1;
      const opening = touched.opened ? `alert opened this incident: ${truncate(first.summary, 300)}` : `alert ${first.decision === 'attached' ? 'attached to' : 'grouped into'} this incident: ${truncate(first.summary, 300)}`;
      const summary =
        `${opening} (${first.severity}, ${first.source})` +
        (others > 0 ? `, with ${others} more alert${others > 1 ? 's' : ''} of the same delivery (${delivery.label})` : '') +
        (delivery.truncatedAlerts > 0 ? `; the sender left out ${delivery.truncatedAlerts} alerts of this group (truncatedAlerts)` : '');
      received.timeline.push(
        ...(await this.incidents.appendTimeline(
          incidentId,
          [
            {
              kind: 'alert_attached',
              summary,
              data: {
                alert_id: first.id,
                dedup_key: first.dedup_key,
                severity: first.severity,
                source: first.source,
                rule: first.rule,
                decision: first.decision,
                reason: first.reason,
                alerts: touched.alerts.length,
                alert_ids: touched.alerts.slice(0, 100).map((a) => a.id),
                delivery: delivery.label,
                ...(delivery.truncatedAlerts > 0 ? { truncated_alerts: delivery.truncatedAlerts } : {}),
              },
            },
          ],
          origin.actor,
          viewAs<IncidentTables>(trx),
        )),
      );
      const keys = [...touched.labels];
      for (let i = 0; i < keys.length; i += 100) await this.correlation.addKeys(trx, incidentId, touched.detectedAt, keys.slice(i, i + 100));
      if (touched.worst) {
        const raise = fresh();
        raise.raiseSeverity = { incidentId, severity: touched.worst.severity, alertId: touched.worst.alertId };
        pendings.push(raise);
      }
    }

    // Repeats, acknowledgements, resolutions, expired silences: one by one, in order.
    oneByOne.sort((a, b) => a - b);
    const truncationNoted = new Set<string>(byIncident.keys());
    for (const index of oneByOne) {
      const signal = signals[index]!;
      const pending = fresh();
      pendings.push(pending);
      const outcome =
        signal.action === 'trigger'
          ? ((await this.countRepeat(trx, origin, signal, pending)) ?? (await this.triggerNew(trx, origin, signal, pending)))
          : await this.applyInTransaction(trx, origin, signal, pending);
      outcomes[index] = outcome;
      // A group the sender truncated is recorded on each incident it touches, once per delivery.
      if (delivery.truncatedAlerts > 0 && outcome.incident_id && !truncationNoted.has(outcome.incident_id)) {
        truncationNoted.add(outcome.incident_id);
        pending.timeline.push(
          ...(await this.incidents.appendTimeline(
            outcome.incident_id,
            [{ kind: 'alerts_truncated', summary: `the sender left out ${delivery.truncatedAlerts} alerts of this group (${delivery.label}, truncatedAlerts)`, data: { truncated_alerts: delivery.truncatedAlerts, delivery: delivery.label } }],
            origin.actor,
            viewAs<IncidentTables>(trx),
          )),
        );
      }
    }
    return outcomes as IngestOutcome[];
  }

  /** The hot path: one statement counts a repeat of an open alert (unless its silence ran out, which needs routing again). */
  private async countRepeat(trx: Trx, origin: IngestOrigin, signal: AlertSignal, pending: Pending): Promise<IngestOutcome | null> {
    const now = this.clock().toISOString();
    const row = await repository.countRepeat(trx, { now, summary: signal.summary, raw: signal.raw, scope: scopeOf(origin), key: signal.dedupKey });
    if (!row) return null;
    const repeated = { alertId: row.id, dedupKey: signal.dedupKey, service: row.service, incidentId: row.incident_id, occurrences: Number(row.occurrences), at: now };
    pending.events.push(() => this.events.emit('alert.repeated', repeated));
    return {
      alert_id: row.id,
      dedup_key: signal.dedupKey,
      status: row.status,
      outcome: 'repeated',
      incident_id: row.incident_id,
      decision: row.decision,
      rule: row.rule,
      occurrences: Number(row.occurrences),
    };
  }

  private async applyInTransaction(trx: Trx, origin: IngestOrigin, signal: AlertSignal, pending: Pending): Promise<IngestOutcome> {
    switch (signal.action) {
      case 'trigger':
        // Runs after the hot path found no open alert to count (see ingest); triggerNew looks again, so
        // one committed since then counts as a repeat.
        return this.triggerNew(trx, origin, signal, pending);
      case 'acknowledge':
        return this.acknowledgeInTransaction(trx, origin, signal, pending);
      case 'resolve':
        return this.resolveInTransaction(trx, origin, signal, pending);
    }
  }

  private async serviceFor(trx: Trx, origin: IngestOrigin, signal: AlertSignal): Promise<{ service: string; note: string }> {
    if (signal.serviceHint && signal.serviceHint !== origin.integration?.service) {
      if (await this.serviceExists(trx, signal.serviceHint)) return { service: signal.serviceHint, note: '' };
      if (!origin.integration && signal.fallbackService && (await this.serviceExists(trx, signal.fallbackService))) {
        return { service: signal.fallbackService, note: ` (service ${signal.serviceHint} is not in the catalogue; it reports through an integration of ${signal.fallbackService})` };
      }
      if (!origin.integration) {
        throw new AppError('unprocessable', `service: service ${signal.serviceHint} does not exist in the catalogue`, { field: 'service' });
      }
      return { service: origin.integration.service, note: ` (label service=${signal.serviceHint} is not in the catalogue)` };
    }
    if (origin.integration) return { service: origin.integration.service, note: '' };
    throw new AppError('validation_failed', 'service: an internal alert must name its service', { field: 'service' });
  }

  private async triggerNew(trx: Trx, origin: IngestOrigin, signal: AlertSignal, pending: Pending): Promise<IngestOutcome> {
    const now = this.clock();
    const nowIso = now.toISOString();
    const scope = scopeOf(origin);
    // Every new alert looks for an open one with its dedup key first.
    const open = await repository.openAlert(trx, scope, signal.dedupKey);
    // An open alert the hot path skipped is either one whose silence has ended (routed again below) or
    // one another writer committed since our UPDATE ran (then this is just a repeat of it).
    const expired = open && open.suppressed_until !== null && open.suppressed_until <= nowIso ? open : undefined;
    if (open && !expired) {
      const repeated = await this.countRepeat(trx, origin, signal, pending);
      if (repeated) return repeated;
      throw new RetryTransaction('alert changed concurrently');
    }

    const { service: baseService, note } = await this.serviceFor(trx, origin, signal);
    const decision = routeAlert(pending.rules, { service: baseService, severity: signal.severity, labels: signal.labels }, now);
    let service = decision.service;
    let reason = decision.reason + note;
    if (service !== baseService) {
      if (!(await this.serviceExists(trx, service))) {
        reason += ` (rule ${decision.rule} names service ${service}, which no longer exists; kept ${baseService})`;
        service = baseService;
      }
    }
    const signalAt = signal.signalAt ?? nowIso;
    const alertId = expired?.id ?? newAlertId();
    const labels = labelsWith(signal.labels, service, decision.severity);
    const placement = await this.place(trx, origin, signal, decision, { alertId, service, signalAt, nowIso, now, labels }, pending);
    // Only when the alert is worse than the incident as this transaction saw it: the raise re-reads under its version check.
    const alertSeverity = ALERT_TO_INCIDENT_SEVERITY[decision.severity];
    if (placement.incidentId && placement.decision !== 'opened_incident' && placement.incidentSeverity && severityRank(alertSeverity) > severityRank(placement.incidentSeverity)) {
      pending.raiseSeverity = { incidentId: placement.incidentId, severity: alertSeverity, alertId };
    }
    reason = placement.reason ?? reason;

    const row = firingAlertRow({ id: alertId, scope, origin, signal, service, labels, signalAt, decision, placement, reason, nowIso }, expired);
    if (expired) {
      const { id: _id, occurrences: _occurrences, ...changes } = row;
      if (!(await repository.rerouteExpiredAlert(trx, alertId, { suppressed_until: expired.suppressed_until, status: expired.status }, changes))) {
        throw new RetryTransaction('alert changed concurrently');
      }
      row.status = expired.status;
      row.acknowledged_at = expired.acknowledged_at;
    } else {
      await repository.insertAlerts(trx, [row]);
    }
    const alert = alertFromRow(row);
    if (placement.incidentId) {
      const how = placement.decision === 'opened_incident' ? 'opened' : placement.decision === 'grouped' ? 'grouped' : 'attached';
      const verb = { opened: 'opened this incident', grouped: 'grouped into this incident', attached: 'attached to this incident' }[how];
      const drafts: TimelineDraft[] = [
        {
          kind: 'alert_attached',
          summary: `alert ${verb}: ${truncate(signal.summary, 300)} (${decision.severity}, ${signal.source})`,
          data: { alert_id: alertId, dedup_key: signal.dedupKey, severity: decision.severity, source: signal.source, rule: decision.rule, decision: placement.decision, reason },
        },
      ];
      pending.timeline.push(...(await this.incidents.appendTimeline(placement.incidentId, drafts, origin.actor, viewAs<IncidentTables>(trx))));
      await this.correlation.indexAlertLabels(trx, placement.incidentId, placement.incidentDetectedAt!, labels);
      const incidentId = placement.incidentId;
      pending.events.push(() => this.events.emit('alert.attached', { alert, incidentId, how }));
    }
    pending.events.unshift(() => this.events.emit('alert.received', { alert }));
    return outcomeOf(alert, expired ? 'repeated' : 'created');
  }

  /** Decides which incident, if any, a new alert belongs to, opening one when the rules say so. */
  private async place(
    trx: Trx,
    origin: IngestOrigin,
    signal: AlertSignal,
    decision: RoutingDecision,
    alert: { alertId: string; service: string; signalAt: string; nowIso: string; now: Date; labels: Record<string, string> },
    pending: Pending,
  ): Promise<{ decision: AlertDecision; incidentId: string | null; incidentDetectedAt?: string; incidentSeverity?: Severity; reason?: string }> {
    switch (decision.action) {
      case 'drop':
        return { decision: 'dropped', incidentId: null };
      case 'suppress':
        return { decision: 'suppressed', incidentId: null };
      case 'record':
        return { decision: 'recorded', incidentId: null };
      case 'attach': {
        const target = await incidentRepository.findIncident(trx, decision.attachTo!);
        if (target) return { decision: 'attached', incidentId: target.id, incidentDetectedAt: target.detected_at, incidentSeverity: target.severity };
        const fallback = await this.group(trx, origin, signal, decision, alert, pending);
        return { ...fallback, reason: `${decision.reason}, but ${decision.attachTo} does not exist; ${fallback.decision === 'grouped' ? 'grouped' : 'opened an incident'} instead` };
      }
      case 'open':
        return this.group(trx, origin, signal, decision, alert, pending);
    }
  }

  /** The groups of these keys with the state of the incident each belongs to (groups of an incident that no longer exists are left out). */
  private async groupsWithIncidents(trx: Trx, keys: readonly string[]) {
    const groups = await repository.groupsOfKeys(trx, keys);
    const incidents = new Map<string, { status: IncidentStatus; detected_at: string; severity: Severity }>();
    for (const id of new Set(groups.map((g) => g.incident_id))) {
      const incident = await incidentRepository.findIncident(trx, id);
      if (incident) incidents.set(id, incident);
    }
    return groups.flatMap((g) => {
      const incident = incidents.get(g.incident_id);
      return incident ? [{ ...g, status: incident.status, detected_at: incident.detected_at, severity: incident.severity }] : [];
    });
  }

  private async group(
    trx: Trx,
    origin: IngestOrigin,
    signal: AlertSignal,
    decision: RoutingDecision,
    alert: { alertId: string; service: string; signalAt: string; nowIso: string; now: Date; labels: Record<string, string> },
    pending: Pending,
  ): Promise<{ decision: AlertDecision; incidentId: string; incidentDetectedAt: string; incidentSeverity: Severity }> {
    const keys = groupKeys(alert.service, alert.labels, decision.groupBy);
    const groups = await this.groupsWithIncidents(trx, keys);
    const open = groups.find(
      (g) => (ACTIVE_STATUSES as readonly IncidentStatus[]).includes(g.status) && groupAcceptsAt(g.last_alert_at, decision.groupWindowMinutes, alert.now),
    );
    if (open) {
      await repository.touchGroups(trx, keys, open.incident_id, alert.nowIso);
      const claimed = new Set(groups.map((g) => g.group_key));
      // Joined through shared grouping labels from another service: that service's own alerts stay out
      // of this incident unless they share the labels too.
      const viaLabels = open.group_key.startsWith('lbl:');
      const unclaimed = keys.filter((k) => !claimed.has(k) && !(viaLabels && k.startsWith('svc:')));
      if (unclaimed.length) {
        await repository.insertGroups(trx, unclaimed.map((group_key) => ({ group_key, incident_id: open.incident_id, last_alert_at: alert.nowIso })));
      }
      return { decision: 'grouped', incidentId: open.incident_id, incidentDetectedAt: open.detected_at, incidentSeverity: open.severity };
    }

    // No active incident takes it: open one. detected_at is the alert's own time of first signal (never in the future).
    const detectedAt = alert.signalAt < alert.nowIso ? alert.signalAt : alert.nowIso;
    const created = await this.incidents.createInTransaction(
      viewAs<IncidentTables>(trx),
      {
        title: truncate(signal.summary, 500),
        description: `Opened by alert ${alert.alertId} (${signal.format}, source ${signal.source}${origin.integration ? `, integration ${origin.integration.name}` : ''}): ${decision.reason}.`,
        severity: ALERT_TO_INCIDENT_SEVERITY[decision.severity],
        services: [alert.service],
        detected_at: detectedAt,
      },
      origin.actor,
    );
    const incidentId = created.incident.id;
    // Claim the group keys; a writer that claimed one first makes us retry and join its incident instead.
    const existing = new Map(groups.map((g) => [g.group_key, g.incident_id]));
    for (const key of keys) {
      const previous = existing.get(key);
      if (previous === undefined) {
        await repository.insertGroups(trx, [{ group_key: key, incident_id: incidentId, last_alert_at: alert.nowIso }]);
      } else if (!(await repository.claimGroup(trx, key, previous, incidentId, alert.nowIso))) {
        throw new RetryTransaction('group claimed concurrently');
      }
    }
    await repository.insertAlertIncident(trx, { incident_id: incidentId, opened_by_alert: alert.alertId, rule: decision.rule, auto_resolve: decision.autoResolve ? 1 : 0, created_at: alert.nowIso });
    await this.correlation.indexIncident(trx, created.incident);
    pending.created = created;
    return { decision: 'opened_incident', incidentId, incidentDetectedAt: created.incident.detected_at, incidentSeverity: created.incident.severity };
  }

  /**
   * A source's acknowledge or resolve for its open alert with this dedup key: acknowledging applies only
   * to a firing alert, resolving to any alert not yet resolved. Undefined when there is none.
   */
  private async setStatusFromSource(trx: Trx, origin: IngestOrigin, signal: AlertSignal, status: 'acknowledged' | 'resolved') {
    const appliesTo: AlertStatus[] = status === 'acknowledged' ? ['firing'] : ['firing', 'acknowledged'];
    return repository.setStatusFromSource(trx, scopeOf(origin), signal.dedupKey, status, appliesTo, this.clock().toISOString());
  }

  private async acknowledgeInTransaction(trx: Trx, origin: IngestOrigin, signal: AlertSignal, pending: Pending): Promise<IngestOutcome> {
    const row = await this.setStatusFromSource(trx, origin, signal, 'acknowledged');
    if (!row) return this.ignored(trx, origin, signal.dedupKey);
    const alert = alertFromRow(row);
    if (alert.incident_id) {
      pending.timeline.push(
        ...(await this.incidents.appendTimeline(
          alert.incident_id,
          [{ kind: 'alert_acknowledged', summary: `alert acknowledged at its source: ${truncate(alert.summary, 300)}`, data: { alert_id: alert.id, dedup_key: alert.dedup_key } }],
          origin.actor,
          viewAs<IncidentTables>(trx),
        )),
      );
    }
    pending.events.push(() => this.events.emit('alert.acknowledged', { alert }));
    return outcomeOf(alert, 'acknowledged');
  }

  private async resolveInTransaction(trx: Trx, origin: IngestOrigin, signal: AlertSignal, pending: Pending): Promise<IngestOutcome> {
    const row = await this.setStatusFromSource(trx, origin, signal, 'resolved');
    if (!row) return this.ignored(trx, origin, signal.dedupKey);
    const alert = alertFromRow(row);
    if (alert.incident_id) await this.recordResolution(trx, alert.incident_id, [alert], origin.actor, pending, 'resolved at its source');
    pending.events.push(() => this.events.emit('alert.resolved', { alert }));
    return outcomeOf(alert, 'resolved');
  }

  /** Writes the resolutions on the incident's timeline, and says so when none of its alerts is still open. */
  private async recordResolution(trx: Trx, incidentId: string, alerts: Alert[], actor: string, pending: Pending, how: string): Promise<void> {
    const drafts: TimelineDraft[] = alerts.slice(0, 50).map((alert) => ({
      kind: 'alert_resolved',
      summary: `alert ${how}: ${truncate(alert.summary, 300)}`,
      data: { alert_id: alert.id, dedup_key: alert.dedup_key, occurrences: alert.occurrences },
    }));
    if (alerts.length > 50) drafts.push({ kind: 'alert_resolved', summary: `${alerts.length - 50} more alerts ${how}`, data: { count: alerts.length - 50 } });
    const counts = await repository.alertCountsOfIncident(trx, incidentId);
    const incident = await incidentRepository.findIncident(trx, incidentId);
    if (counts.open === 0 && incident && isActiveStatus(incident.status)) {
      const opened = await repository.alertIncident(trx, incidentId);
      const autoResolve = opened?.auto_resolve === 1;
      drafts.push({
        kind: 'alerts_all_resolved',
        summary: `all ${Number(counts.total)} alerts of this incident are resolved; ${
          autoResolve ? `rule ${opened!.rule} resolves the incident` : 'resolving the incident is a responder\u2019s decision'
        }`,
        data: { alerts: Number(counts.total), auto_resolve: autoResolve, ...(opened ? { rule: opened.rule } : {}) },
      });
      if (autoResolve) pending.autoResolve = { incidentId, rule: opened!.rule };
    }
    pending.timeline.push(...(await this.incidents.appendTimeline(incidentId, drafts, actor, viewAs<IncidentTables>(trx))));
  }

  /**
   * An incident is as severe as its worst alert: a critical page that joins a medium incident (opened by
   * a ticket-level alert, say) must not stay medium. Raised only, never lowered: a lower severity is a
   * responder's call. Runs after the alert's commit, with the incident's own version check.
   */
  private async raiseIncidentSeverity(raise: { incidentId: string; severity: Severity; alertId: string }, actor: string): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const incident = await this.incidents.get(raise.incidentId);
      if (severityRank(raise.severity) <= severityRank(incident.severity) || !isActiveStatus(incident.status)) return;
      try {
        await this.incidents.update(raise.incidentId, { severity: raise.severity }, incident.version, actor);
        return;
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'version_conflict')) throw error;
      }
    }
    this.log.warn({ incident: raise.incidentId, alert: raise.alertId }, 'incident kept changing; its severity was not raised to the alert’s');
  }

  private async autoResolveIncident(incidentId: string, rule: string): Promise<void> {
    try {
      await this.incidents.resolve(incidentId, { resolution: `all alerts resolved (rule ${rule} resolves incidents it opened)` }, `rule:${rule}`);
    } catch (error) {
      // A responder may have resolved it in the meantime; that is the outcome we wanted.
      if (!(error instanceof AppError && (error.code === 'invalid_transition' || error.code === 'version_conflict'))) throw error;
    }
  }

  private async resolveAlertsOfIncident(incidentId: string): Promise<void> {
    const pending: Pending = { rules: EMPTY_RULE_SET, created: null, timeline: [], events: [], autoResolve: null };
    await this.db.transaction().execute(async (trx) => {
      const nowIso = this.clock().toISOString();
      const rows = await repository.resolveAlertsOfIncident(trx, incidentId, nowIso);
      if (rows.length === 0) return;
      const alerts = rows.map(alertFromRow);
      const drafts: TimelineDraft[] = [
        { kind: 'alert_resolved', summary: `${alerts.length} open alert${alerts.length > 1 ? 's' : ''} resolved with the incident`, data: { alert_ids: alerts.slice(0, 100).map((a) => a.id) } },
      ];
      pending.timeline.push(...(await this.incidents.appendTimeline(incidentId, drafts, 'firebreak', viewAs<IncidentTables>(trx))));
      for (const alert of alerts) pending.events.push(() => this.events.emit('alert.resolved', { alert }));
    });
    this.afterCommit(pending);
  }

  /** Whether the catalogue has this service (read in the transaction: a rule or a label may name one just deleted). */
  private async serviceExists(trx: Trx, id: string): Promise<boolean> {
    return (await catalogRepository.loadServices(trx, [id])).length > 0;
  }

  private async ignored(trx: Trx, origin: IngestOrigin, dedupKey: string): Promise<IngestOutcome> {
    const latest = await repository.latestAlertOfKey(trx, scopeOf(origin), dedupKey);
    if (!latest) return { alert_id: null, dedup_key: dedupKey, status: 'resolved', outcome: 'ignored', incident_id: null, decision: 'none', rule: 'none', occurrences: 0 };
    return outcomeOf(alertFromRow(latest), 'ignored');
  }

  private afterCommit(pending: Pending): void {
    if (pending.created) this.incidents.announceCreated(pending.created);
    for (const entry of pending.timeline) this.events.emit('timeline.appended', { entry });
    for (const emit of pending.events) emit();
  }

  // ------------------------------------------------------------------------------------------
  // Responders acting on alerts through the API

  async acknowledgeById(id: string, actor: string): Promise<Alert> {
    const alert = await this.get(id);
    if (alert.status !== 'firing') throw new AppError('conflict', `alert ${id} is ${alert.status}; only a firing alert can be acknowledged`);
    await this.ingestById(alert, 'acknowledge', actor);
    return this.get(id);
  }

  async resolveById(id: string, actor: string): Promise<Alert> {
    const alert = await this.get(id);
    if (alert.status === 'resolved') throw new AppError('conflict', `alert ${id} is already resolved`);
    await this.ingestById(alert, 'resolve', actor);
    return this.get(id);
  }

  private async ingestById(alert: Alert, action: 'acknowledge' | 'resolve', actor: string): Promise<void> {
    const scope = await repository.dedupScopeOfAlert(this.db, alert.id);
    await this.ingest(
      { scope, integration: null, actor },
      { action, dedupKey: alert.dedup_key, format: alert.format as AlertSignal['format'], source: alert.source, summary: alert.summary, severity: alert.severity, labels: {}, details: {}, links: [], signalAt: null, serviceHint: null, raw: '{}' },
    );
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  async get(id: string): Promise<Alert> {
    const row = await repository.findAlert(this.db, id);
    if (!row) throw notFound('alert', id);
    return alertFromRow(row);
  }

  async getWithRaw(id: string): Promise<Alert & { raw: unknown }> {
    const row = await repository.findAlert(this.db, id);
    if (!row) throw notFound('alert', id);
    let raw: unknown = row.raw;
    try {
      raw = JSON.parse(row.raw);
    } catch {
      // stored as received
    }
    return { ...alertFromRow(row), raw };
  }

  async list(query: ListAlertsQuery): Promise<{ items: Alert[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    const rows = await repository.listAlerts(this.db, query, query.cursor ? decodeCursor(query.cursor) : null, limit);
    const items = rows.slice(0, limit).map(alertFromRow);
    const last = items[items.length - 1];
    return { items, next_cursor: rows.length > limit && last ? Buffer.from(JSON.stringify([last.created_at, last.id])).toString('base64url') : null };
  }

  async listByIncident(incidentId: string, limit = 500): Promise<Alert[]> {
    return (await this.list({ incident_id: incidentId, limit })).items;
  }

  /** Alerts still firing (or acknowledged) for a service; dropped ones are noise by decision and do not count. */
  async openForService(service: string, limit = 100): Promise<{ count: number; alerts: Alert[] }> {
    const { count, rows } = await repository.openAlertsOfService(this.db, service, limit);
    return { count, alerts: rows.map(alertFromRow) };
  }

  async summaryForIncident(incidentId: string): Promise<IncidentAlertSummary> {
    await this.incidents.get(incidentId);
    const row = await repository.alertSummaryOfIncident(this.db, incidentId);
    const alerts = Number(row.alerts);
    const open = Number(row.open);
    return {
      incident_id: incidentId,
      alerts,
      open,
      resolved: alerts - open,
      occurrences: Number(row.occurrences),
      first_seen_at: row.first_seen_at ?? null,
      last_seen_at: row.last_seen_at ?? null,
    };
  }
}

function outcomeOf(alert: Alert, outcome: IngestOutcomeKind): IngestOutcome {
  return {
    alert_id: alert.id,
    dedup_key: alert.dedup_key,
    status: alert.status,
    outcome,
    incident_id: alert.incident_id,
    decision: alert.decision,
    rule: alert.rule,
    occurrences: alert.occurrences,
  };
}

/**
 * The alert's labels with its service and severity. Copied and then set, not spread with the two keys:
 * on Node 20, keys added to a spread object literal take V8's slow path (about 2 µs each, per new alert).
 */
function labelsWith(labels: Readonly<Record<string, string>>, service: string, severity: string): Record<string, string> {
  const all: Record<string, string> = Object.assign({}, labels);
  all.service = service;
  all.severity = severity;
  return all;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === '40001' || code === '40P01';
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = fromJson<unknown>(Buffer.from(cursor, 'base64url').toString('utf8'), null);
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch {
    // fall through
  }
  throw new AppError('validation_failed', 'cursor: not a cursor returned by this API', { field: 'cursor' });
}
