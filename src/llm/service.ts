import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../shared/errors.ts';
import type { AlertSink, InternalAlert } from '../shared/alert-sink.ts';
import { JobQueue, type ClaimedJob, type Database } from '../storage/index.ts';
import {
  DEFAULT_DETECTOR_CONFIG,
  RATE_RULES,
  RateDetector,
  createAnomalyDetector,
  restoreAnomalyDetector,
  type AnomalyDetector,
  type AnomalyDetectorConfig,
  type Detection,
  type RateRule,
  type RateVerdict,
} from './detect/index.ts';
import {
  Bucket,
  availabilityBad,
  bucketFromRecord,
  bucketToRecord,
  seriesKey,
  statsOf,
  successes,
  type BucketRecord,
  type BucketTotals,
  type SeriesId,
  type StatsPoint,
} from './buckets.ts';
import { LIMITS, cleanLabel, rejectionReason, type LlmCall, type RejectionReason } from './records.ts';
import type { LlmMetricSample } from './otlp-metrics.ts';
import {
  LONGEST_RULE_MINUTES,
  MinuteCounters,
  alertLevel,
  errorBudgetRemaining,
  evaluateBurnRates,
  type RuleEvaluation,
  type SloDefinition,
} from './slo.ts';
import {
  countBuckets,
  countPartials,
  deleteOpenAlert,
  deletePartials,
  insertBuckets,
  loadBuckets,
  loadDetectorStates,
  loadOpenAlerts,
  loadOpenPartials,
  loadSeries,
  loadSeriesDetectorStates,
  loadServiceCounts,
  loadServiceSeries,
  lockPartials,
  saveDetectorStates,
  seriesWithPartialsBefore,
  updateSeries,
  upsertOpenAlert,
  writePartials,
  type BucketFilter,
  type OpenAlertRow,
  type SeriesArrival,
  type SeriesRow,
} from './repository.ts';

const MINUTE_MS = 60_000;
/** A series without calls for this long leaves memory; its detector state stays in the database. */
const SERIES_IDLE_MS = 24 * 3_600_000;
/** Job kinds: one job per series (merges its minutes, runs its detectors) and one per SLO'd service (burn rates). */
export const SERIES_JOB = 'llm.series';
export const SLO_JOB = 'llm.slo';
/** How often a series' job and a service's burn rates run (by the injected clock); the lease outlasts a run by far. */
const SERIES_INTERVAL_MS = 15_000;
const IDLE_SERIES_INTERVAL_MS = 60_000;
const SLO_INTERVAL_MS = 15_000;
const JOB_LEASE_MS = 60_000;
const JOBS_PER_CLAIM = 100;
/** Rollup rows one statistics query may merge (each holds two sketches): about a month of one series. */
export const MAX_ROWS_PER_QUERY = 50_000;

/** Signals without an SLO, each watched by a streaming detector per series. */
export const DETECTED_SIGNALS = ['cost_per_hour', 'tokens_per_second', 'ttft_p95_ms', 'safety_flag_rate'] as const;
export type DetectedSignal = (typeof DETECTED_SIGNALS)[number];

export interface LlmTelemetryOptions {
  /** Width of an aggregation bucket. */
  bucketSeconds: number;
  /**
   * Allowed lateness: a series' minute stays open until the series' event-time watermark is this far past
   * its end (calls of several exports in flight arrive out of order). Calls later than that still go into
   * the roll-ups, as an extra row, and are counted as late; the detectors have had that minute already.
   */
  allowedLatenessMs: number;
  /** Kept for configuration compatibility: calls are written to the database before each request is answered, so memory holds only a request's worth. */
  maxOpenBuckets: number;
  /** Distinct (service, provider, model) series; calls for new series beyond this are refused. */
  maxSeries: number;
  /** A detector point needs at least this many calls (closed buckets are combined until it has them). */
  minCallsPerPoint: number;
  /** Consecutive points back inside the normal band before a detector alert resolves. */
  resolveAfterPoints: number;
  /**
   * Points above the normal band, the detection included, before a detection raises an alert (1: at once).
   * A point is a minute or so of calls, and a quantile of a few dozen calls (TTFT p95) now and then
   * lands far out on noise alone: one such minute is not worth waking anyone, a regression stays up.
   */
  confirmAfterPoints: number;
  detector: Partial<AnomalyDetectorConfig>;
}

export const DEFAULT_LLM_OPTIONS: LlmTelemetryOptions = {
  bucketSeconds: 60,
  allowedLatenessMs: 5 * 60_000,
  maxOpenBuckets: 20_000,
  maxSeries: 5_000,
  minCallsPerPoint: 20,
  resolveAfterPoints: 10,
  // Two: without it a lone noisy minute paged about once every two weeks per TTFT p95 series
  // (bench/nab/noise-pages.ts --service, against --service --confirm; replay seeds 9 and 12), and a real
  // regression costs one more point to page.
  confirmAfterPoints: 2,
  // The one detector configuration (src/llm/detect), the one the NAB benchmarks score. Drops are scored
  // as NAB scores them; the service raises only rises (every watched signal hurts when it rises).
  detector: {},
};

/**
 * Stored detector states keep the learned baselines but take the shipped configuration: a state saved
 * under an earlier configuration (the service used to run its own threshold and learning period) runs
 * the one that is benchmarked.
 */

export interface IngestOutcome {
  accepted: number;
  rejections: { index: number; reason: RejectionReason }[];
}

/**
 * Observers of ingest (Prometheus counters); kept as a callback so the service has no metrics dependency.
 * Outcomes: `accepted`, `ignored_non_genai`, `rejected_<reason>`, and `late` (accepted calls whose minute
 * had already been closed and fed to the detectors: counted again under `late`).
 */
export type IngestSource = 'otlp' | 'otlp_metrics' | 'json';
export type IngestObserver = (source: IngestSource, outcome: string, count: number) => void;

/** A series in memory: its labels, its event-time watermark and where its telemetry came from. */
interface LiveSeries extends SeriesId {
  /** The newest call time seen (event time), never beyond the wall clock at arrival. */
  lastSeenMs: number;
  /** Wall-clock time the watermark last moved. */
  arrivedMs: number;
  /** The service of the integration whose key sent it: where its alerts go when `service` is not in the catalogue. */
  via: string | undefined;
}

interface PendingPoint {
  totals: Bucket;
  startMs: number;
  endMs: number;
  /** A minute of it was an outage (an error-rate or latency rule firing): judged, never learned from. */
  outage: boolean;
}

/** A rule's judgement of one minute: on closed minutes and, before they close, on open ones. */
interface JudgedMinute {
  minuteMs: number;
  firing: boolean;
}

/** What a series keeps between runs of its job, in `llm_series.state`. */
interface SeriesState extends Record<string, unknown> {
  /** Minutes closed into the rollups and not yet fed to the detectors (a run that died between the two). */
  unjudged?: number[];
  pending?: { totals: BucketRecord; startMs: number; endMs: number; outage: boolean };
  unconfirmed?: Record<string, UnconfirmedDetection>;
  /** Recent judgements per rate-rule alert key, oldest first. */
  rateRuns?: Record<string, JudgedMinute[]>;
}

/** A detection waiting for the points after it to stay above the normal band before it raises an alert. */
interface UnconfirmedDetection {
  alert: InternalAlert;
  state: DetectorAlertState;
  pointsAbove: number;
}

interface DetectorAlertState extends Record<string, unknown> {
  signal: DetectedSignal | RateRule;
  baseline: number;
  scale: number;
  normal_upper: number;
  calm_points: number;
}

export interface DetectorStatus {
  service: string;
  provider: string;
  model: string;
  signal: DetectedSignal | RateRule;
  /** `anomaly`: the streaming detector of a signal; `rate`: the error-rate or latency rule of a series. */
  kind: 'anomaly' | 'rate';
  points: number;
  learning: boolean;
  threshold: number;
  last_value: number | null;
  last_at: string | null;
  alert_open: boolean;
  /** Rate rules: whether the latest minute's verdict fired, the baseline share, and (latency) the usual p95. */
  firing: boolean | null;
  baseline_share: number | null;
  slower_than_ms: number | null;
}

export interface SloStatus {
  service: string;
  name: string;
  kind: string;
  objective: number;
  window_days: number;
  threshold_ms: number | null;
  min_bad_events: number;
  requests: number;
  bad: number;
  sli: number | null;
  error_budget_remaining: number;
  alert: 'page' | 'ticket' | null;
  burn_rates: RuleEvaluation[];
}

/**
 * Streaming aggregation of LLM calls, SLO burn-rate alerting and anomaly detection.
 * Calls are added to in-memory buckets synchronously; `maintain()` (serialised) closes due buckets
 * into the database, feeds the detectors and evaluates burn rates, raising and resolving alerts.
 */
export class LlmTelemetryService {
  private readonly db: Database['db'];
  private readonly postgres: boolean;
  private readonly jobs: JobQueue;
  /**
   * This process's partial rows are written under this id (random per start), so rows of several servers
   * never overwrite each other and a restarted server never adds to rows it may already have counted.
   */
  readonly writer: string;
  /** Calls accepted and not yet written to the database, per series and minute (a request's worth). */
  private open = new Map<string, Bucket>();
  /** The series those calls moved, with their watermarks, to write with them. */
  private arrivals = new Map<string, SeriesArrival>();
  /** Series seen recently, with the event time of their last call; idle ones are evicted (their detector state stays in the database). */
  private readonly series = new Map<string, LiveSeries>();
  private lastEvictionMs = Number.NEGATIVE_INFINITY;
  private lastSweepMs = Number.NEGATIVE_INFINITY;
  /** The last minute closed per series, as this process last heard (for counting late calls). */
  private readonly closedThrough = new Map<string, number>();
  /**
   * Per run of a series' job, the detectors and state of that series, loaded from the database at the start
   * and written back (compare and set) at the end: whichever server holds the series' lease judges it.
   */
  private readonly pending = new Map<string, PendingPoint>();
  private readonly detectors = new Map<string, AnomalyDetector>();
  /** Error-rate and latency rules per series (`key \u0001 rule`), on every series without configuration. */
  private readonly rateDetectors = new Map<string, RateDetector>();
  /** Recent judgements of the error-rate and latency rules by dedup key (a page needs `confirmAfterPoints` firing minutes in a row). */
  private readonly rateRuns = new Map<string, JudgedMinute[]>();
  private openAlerts = new Map<string, OpenAlertRow>();
  /** Detections not yet confirmed by the points after them, by dedup key (stored with the series). */
  private readonly unconfirmed = new Map<string, UnconfirmedDetection>();
  private readonly slosByService = new Map<string, { slo: SloDefinition }[]>();
  private readonly latencyThresholds = new Map<string, number[]>();
  /** Other capabilities watching the accepted calls (change tracking reads the response model and prompt version). */
  private readonly acceptedListeners: ((calls: readonly LlmCall[]) => void)[] = [];
  private maintenance: Promise<void> = Promise.resolve();
  private flushChain: Promise<void> = Promise.resolve();
  private nextFlush: Promise<void> | null = null;
  readonly counts = { outagePointsJudged: 0, latePartialBuckets: 0, lateCalls: 0, unconfirmedDetections: 0, seriesMaintenanceFailures: 0 };

  constructor(
    database: Database,
    private readonly clock: () => Date,
    private readonly log: Logger,
    readonly slos: readonly SloDefinition[],
    private readonly alertSink: () => AlertSink | undefined,
    readonly options: LlmTelemetryOptions = DEFAULT_LLM_OPTIONS,
    private readonly observe: IngestObserver = () => undefined,
    jobs?: { queue: JobQueue; owner: string },
  ) {
    this.db = database.db;
    this.postgres = database.dialect === 'postgres';
    this.jobs = jobs?.queue ?? new JobQueue(database, clock);
    this.writer = jobs?.owner ?? `llm:${randomUUID()}`;
    for (const slo of slos) {
      const list = this.slosByService.get(slo.service) ?? [];
      list.push({ slo });
      this.slosByService.set(slo.service, list);
      if (slo.kind === 'latency' && slo.thresholdMs !== null) {
        const thresholds = this.latencyThresholds.get(slo.service) ?? [];
        if (!thresholds.includes(slo.thresholdMs)) thresholds.push(slo.thresholdMs);
        this.latencyThresholds.set(slo.service, thresholds);
      }
    }
  }

  /** Makes sure every SLO'd service has its burn-rate job (series get theirs when their first calls are written). */
  async load(): Promise<void> {
    const nowIso = this.clock().toISOString();
    await this.jobs.adopt(
      this.jobs.db,
      SLO_JOB,
      [...this.slosByService.keys()].map((service) => ({ key: service, runAt: nowIso })),
    );
  }

  /**
   * The event time a service's windows end at: the newest watermark of its series, moved on by the
   * wall-clock time since that call arrived (so burn rates still fall and alerts resolve when traffic
   * stops), never past the wall clock. A service without telemetry is judged at the wall clock.
   */
  async eventTimeOf(service: string, nowMs = this.clock().getTime()): Promise<{ eventMs: number; via: string | undefined }> {
    let best: SeriesRow | undefined;
    for (const row of await loadServiceSeries(this.db, service)) if (!best || row.watermarkMs > best.watermarkMs) best = row;
    if (!best) return { eventMs: nowMs, via: undefined };
    return { eventMs: watermarkAt(best, nowMs), via: best.via ?? undefined };
  }

  /** Calls `listener` with each batch of accepted calls, after they are aggregated. */
  onAcceptedCalls(listener: (calls: readonly LlmCall[]) => void): void {
    this.acceptedListeners.push(listener);
  }

  /**
   * The open bucket of a series' minute, creating the series (bounded by `maxSeries`) and moving its
   * event-time watermark; a rejection reason when the series cannot be taken. `late` is true when the
   * minute was already closed and fed to the detectors.
   */
  private bucketFor(labels: SeriesId, atMs: number, nowMs: number, via: string | undefined): { bucket: Bucket; late: boolean } | RejectionReason {
    const key = seriesKey(labels);
    let known = this.series.get(key);
    if (!known) {
      if (this.series.size >= this.options.maxSeries) return 'too_many_series';
      known = { ...labels, lastSeenMs: Math.min(atMs, nowMs), arrivedMs: nowMs, via };
      this.series.set(key, known);
    }
    if (via !== undefined) known.via = via;
    const bucketMs = this.options.bucketSeconds * 1000;
    const startMs = Math.floor(atMs / bucketMs) * bucketMs;
    const bucketId = `${key}\u0001${startMs}`;
    let bucket = this.open.get(bucketId);
    if (!bucket) {
      bucket = new Bucket({ service: labels.service, provider: labels.provider, model: labels.model }, startMs, this.options.bucketSeconds);
      this.open.set(bucketId, bucket);
    }
    const eventMs = Math.min(atMs, nowMs);
    if (eventMs > known.lastSeenMs) {
      known.lastSeenMs = eventMs;
      known.arrivedMs = nowMs;
    }
    const arrival = this.arrivals.get(key);
    if (!arrival || eventMs > Date.parse(arrival.watermarkIso) || arrival.via !== (known.via ?? null)) {
      const newer = !arrival || eventMs > Date.parse(arrival.watermarkIso);
      this.arrivals.set(key, {
        seriesKey: key,
        ...labels,
        watermarkIso: newer ? new Date(eventMs).toISOString() : arrival.watermarkIso,
        arrivedIso: newer ? new Date(nowMs).toISOString() : arrival.arrivedIso,
        via: known.via ?? null,
      });
    }
    const closed = this.closedThrough.get(key);
    return { bucket, late: closed !== undefined && startMs <= closed };
  }

  /** Adds calls to the aggregates; implausible ones are refused and counted, never aggregated. `via` is the sending integration's service. */
  ingest(calls: LlmCall[], source: IngestSource, via?: string): IngestOutcome {
    const nowMs = this.clock().getTime();
    const rejections: IngestOutcome['rejections'] = [];
    const reasons = new Map<string, number>();
    let accepted = 0;
    let late = 0;
    const acceptedCalls: LlmCall[] | null = this.acceptedListeners.length ? [] : null;
    for (let index = 0; index < calls.length; index++) {
      // Calls are this service's own conversions of the request, so labels are cleaned in place.
      const call = calls[index]!;
      call.service = cleanLabel(call.service);
      call.provider = cleanLabel(call.provider);
      call.model = cleanLabel(call.model);
      const reason = rejectionReason(call, nowMs);
      const target = reason ?? this.bucketFor(call, call.startedAtMs, nowMs, via);
      if (typeof target === 'string') {
        rejections.push({ index, reason: target });
        reasons.set(target, (reasons.get(target) ?? 0) + 1);
        continue;
      }
      if (target.late) late++;
      target.bucket.add(call, this.latencyThresholds.get(call.service) ?? []);
      accepted++;
      acceptedCalls?.push(call);
    }
    if (accepted > 0) this.observe(source, 'accepted', accepted);
    this.countLate(source, late);
    if (acceptedCalls?.length) for (const listener of this.acceptedListeners) listener(acceptedCalls);
    for (const [reason, count] of reasons) this.observe(source, `rejected_${reason}`, count);
    return { accepted, rejections };
  }

  /**
   * Adds OTLP metric data points (calls known only in aggregate) to the same aggregates and SLO windows.
   * Returns how many samples were refused (implausible time or values, too many series).
   */
  ingestAggregates(samples: readonly LlmMetricSample[], via?: string): { accepted: number; rejected: number } {
    const nowMs = this.clock().getTime();
    let accepted = 0;
    let rejected = 0;
    let lateCalls = 0;
    for (const sample of samples) {
      const labels = { service: cleanLabel(sample.service), provider: cleanLabel(sample.provider), model: cleanLabel(sample.model) };
      const implausible =
        !Number.isFinite(sample.atMs) ||
        sample.atMs > nowMs + LIMITS.maxFutureMs ||
        sample.atMs < nowMs - LIMITS.maxAgeMs ||
        !(sample.requests >= 0) ||
        !(sample.inputTokens >= 0 && sample.inputTokens <= LIMITS.maxTokens * Math.max(1, sample.requests)) ||
        !(sample.outputTokens >= 0 && sample.outputTokens <= LIMITS.maxTokens * Math.max(1, sample.requests)) ||
        sample.latencies.some((l) => !(l.valueMs >= 0 && l.valueMs <= LIMITS.maxLatencyMs));
      const target = implausible ? 'rejected' : this.bucketFor(labels, sample.atMs, nowMs, via);
      if (typeof target === 'string') {
        rejected++;
        continue;
      }
      if (target.late) lateCalls += sample.requests;
      target.bucket.addAggregate(sample, this.latencyThresholds.get(labels.service) ?? []);
      accepted += sample.requests;
    }
    if (accepted > 0) this.observe('otlp_metrics', 'accepted', accepted);
    if (rejected > 0) this.observe('otlp_metrics', 'rejected_implausible', rejected);
    this.countLate('otlp_metrics', lateCalls);
    return { accepted, rejected };
  }

  private countLate(source: IngestSource, late: number): void {
    if (late <= 0) return;
    this.counts.lateCalls += late;
    this.observe(source, 'late', late);
  }

  /** Spans (or metric points) that were not GenAI calls: accepted, ignored and counted. */
  observeIgnored(count: number, source: IngestSource = 'otlp'): void {
    this.observe(source, 'ignored_non_genai', count);
  }

  /**
   * Writes the calls accepted so far to this writer's partial rows, with their series' watermarks, and makes
   * sure each series has its job. Requests await it before they answer, so an acknowledged call is in the
   * database: a server killed after answering loses nothing, and the exporter retries what was not answered.
   * Requests arriving while a write is under way share the next one.
   */
  persist(): Promise<void> {
    if (this.nextFlush) return this.nextFlush;
    const run = this.flushChain.then(() => {
      this.nextFlush = null;
      return this.flush();
    });
    this.nextFlush = run;
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  private async flush(): Promise<void> {
    if (this.open.size === 0 && this.arrivals.size === 0) return;
    // Sorted, so concurrent writers lock shared rows (jobs, series) in the same order.
    const buckets = [...this.open.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.startMs - b.startMs));
    const arrivals = [...this.arrivals.values()].sort((a, b) => (a.seriesKey < b.seriesKey ? -1 : a.seriesKey > b.seriesKey ? 1 : 0));
    this.open = new Map();
    this.arrivals = new Map();
    const nowIso = this.clock().toISOString();
    // Not kept for a retry on failure: the requests that carried these calls are answered with the error
    // and their senders retry them, so keeping them too would count them twice.
    const closed = await this.db.transaction().execute((trx) =>
      writePartials(
      trx,
      this.postgres,
      this.writer,
      buckets.map(bucketToRecord),
      arrivals,
      nowIso,
      async (moved) => {
        const jobs = JobQueue.in(trx);
        await this.jobs.adopt(jobs, SERIES_JOB, arrivals.map((a) => ({ key: a.seriesKey, runAt: nowIso })));
        // Event time that reaches a new minute (live traffic, or a backfill racing through the past) may
        // close a minute and moves the burn-rate windows: the series' and its service's jobs run now,
        // not at their next turn.
        if (moved.length === 0) return;
        await this.jobs.hasten(jobs, SERIES_JOB, moved.map((a) => a.seriesKey), nowIso);
        const services = [...new Set(moved.map((a) => a.service))].filter((service) => this.slosByService.has(service));
        if (services.length > 0) await this.jobs.hasten(jobs, SLO_JOB, services, nowIso);
      },
      (stored, delta) => {
        const merged = bucketFromRecord(stored);
        merged.merge(bucketFromRecord(delta));
        return bucketToRecord(merged);
      },
    ));
    for (const [key, iso] of closed) if (iso !== null) this.closedThrough.set(key, Date.parse(iso));
  }

  /**
   * Writes pending calls, then runs the series and burn-rate jobs that are due and that no other server
   * holds. Serialised; safe to call after every request.
   */
  maintain(): Promise<void> {
    const run = this.maintenance.then(() => this.runMaintenance());
    this.maintenance = run.catch((error: unknown) => this.log.error({ err: error }, 'LLM telemetry maintenance failed'));
    return run;
  }

  private async runMaintenance(): Promise<void> {
    await this.persist();
    const nowMs = this.clock().getTime();
    this.openAlerts = new Map((await loadOpenAlerts(this.db)).map((a) => [a.dedupKey, a]));
    if (nowMs - this.lastSweepMs >= IDLE_SERIES_INTERVAL_MS) {
      // A series whose job was removed while a server wrote to it (the race is narrow) gets it back here.
      this.lastSweepMs = nowMs;
      const stale = await seriesWithPartialsBefore(this.db, new Date(nowMs - this.options.allowedLatenessMs - 2 * MINUTE_MS).toISOString(), 1000);
      if (stale.length > 0) await this.jobs.adopt(this.jobs.db, SERIES_JOB, stale.map((key) => ({ key, runAt: new Date(nowMs).toISOString() })));
    }
    for (let round = 0; round < 50; round++) {
      const claimed = await this.jobs.claim(SERIES_JOB, this.writer, JOBS_PER_CLAIM, JOB_LEASE_MS);
      for (const job of claimed) await this.runJob(job, () => this.runSeries(job));
      if (claimed.length < JOBS_PER_CLAIM) break;
    }
    for (const job of await this.jobs.claim(SLO_JOB, this.writer, JOBS_PER_CLAIM, JOB_LEASE_MS)) await this.runJob(job, () => this.runSlo(job));
    this.evictIdleSeries(nowMs);
  }

  /** Runs one claimed job; one that fails is logged, counted and retried later, and the others go on. */
  private async runJob(job: ClaimedJob, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.counts.seriesMaintenanceFailures++;
      this.log.error({ err: error, job: job.id }, 'LLM maintenance failed for one series or service; the others go on');
      const retryAt = new Date(this.clock().getTime() + Math.min(SERIES_INTERVAL_MS * 2 ** Math.min(job.attempts, 4), 5 * MINUTE_MS));
      await this.jobs.complete(this.jobs.db, job, { runAt: retryAt, error: (error as Error).message, keepAttempts: true }).catch(() => undefined);
    } finally {
      this.forgetSeriesState(job.key);
    }
  }

  /**
   * One run of a series' job, on whichever server holds its lease: closes the minutes its watermark has
   * passed by the allowed lateness (merging every writer's partial rows into the rollups, in one transaction
   * with those rows locked), feeds them to the detectors, and judges the open minutes with the error-rate
   * and latency rules, so an outage pages before its minutes close.
   */
  private async runSeries(job: ClaimedJob): Promise<void> {
    const key = job.key;
    const nowMs = this.clock().getTime();
    const nowIso = new Date(nowMs).toISOString();
    let series = await loadSeries(this.db, key);
    if (!series) {
      await this.jobs.complete(this.jobs.db, job);
      return;
    }
    const bucketMs = this.options.bucketSeconds * 1000;
    const watermark = watermarkAt(series, nowMs);
    const throughIso = new Date(watermark - this.options.allowedLatenessMs - bucketMs).toISOString();
    const state = series.state as SeriesState;
    const closedMinutes = new Map<number, Bucket>();
    let closedThroughMs = series.closedThroughMs;
    let unjudged = [...(state.unjudged ?? [])];
    const version = series.version;
    const lost = () => new AppError('conflict', `the lease of LLM series ${key} was lost; another server runs it now`);
    // 1. Merge: the due minutes of every writer become rollup rows, once.
    const merged = await this.db.transaction().execute(async (trx) => {
      if (!(await this.jobs.holds(JobQueue.in(trx), job))) throw lost();
      const rows = await lockPartials(trx, this.postgres, key, throughIso);
      if (rows.length === 0) return false;
      const byMinute = new Map<number, Bucket>();
      for (const { record } of rows) {
        const bucket = byMinute.get(record.bucketStartMs);
        if (bucket) bucket.merge(bucketFromRecord(record));
        else byMinute.set(record.bucketStartMs, bucketFromRecord(record));
      }
      const minutes = [...byMinute.values()].sort((a, b) => a.startMs - b.startMs);
      await insertBuckets(trx, minutes.map(bucketToRecord), nowIso);
      await deletePartials(trx, key, rows.map((r) => ({ writer: r.writer, bucketStartIso: new Date(r.record.bucketStartMs).toISOString() })));
      for (const minute of minutes) {
        if (closedThroughMs !== null && minute.startMs <= closedThroughMs) {
          // Calls later than the allowed lateness: in the rollups, not fed to the detectors again.
          this.counts.latePartialBuckets++;
          continue;
        }
        closedMinutes.set(minute.startMs, minute);
        unjudged.push(minute.startMs);
        closedThroughMs = minute.startMs;
      }
      if (!(await updateSeries(trx, key, version, { closedThroughMs, state: { ...state, unjudged } }, nowIso))) throw lost();
      return true;
    });
    if (closedThroughMs !== null) this.closedThrough.set(key, closedThroughMs);
    const openRecords = await loadOpenPartials(this.db, key, closedThroughMs === null ? null : new Date(closedThroughMs).toISOString());
    if (!merged && unjudged.length === 0 && openRecords.length === 0) {
      const idle = nowMs - series.arrivedMs > SERIES_IDLE_MS;
      await this.jobs.complete(this.jobs.db, job, idle ? undefined : { runAt: new Date(nowMs + IDLE_SERIES_INTERVAL_MS) });
      return;
    }
    series = { ...series, version: merged ? version + 1 : version, closedThroughMs };
    // 2. Judge: this series' detectors and state, as stored.
    await this.loadSeriesState(series);
    const touched = new Set<string>();
    unjudged = [...new Set(unjudged)].sort((a, b) => a - b);
    for (const minuteMs of unjudged) {
      let bucket = closedMinutes.get(minuteMs);
      if (!bucket) {
        // Closed by a run that died before judging it: read it back from the rollups.
        bucket = new Bucket(series, minuteMs, this.options.bucketSeconds);
        for (const record of await loadBuckets(this.db, { fromIso: new Date(minuteMs).toISOString(), toIso: new Date(minuteMs + 1).toISOString(), service: series.service, provider: series.provider, model: series.model })) {
          bucket.merge(bucketFromRecord(record));
        }
      }
      await this.feedDetectors(bucket, series, touched);
    }
    await this.judgeOpenMinutes(series, openRecords);
    // 3. Save, only while the lease holds and nobody else wrote the series meanwhile.
    await this.db.transaction().execute(async (trx) => {
      if (!(await this.jobs.holds(JobQueue.in(trx), job))) throw lost();
      await saveDetectorStates(
        trx,
        [...touched].map((id) => {
          const [seriesKey, signal] = id.split('\u0001') as [string, string];
          return { seriesKey, signal, state: (this.detectors.get(id) ?? this.rateDetectors.get(id))!.toJSON() };
        }),
        nowIso,
      );
      if (!(await updateSeries(trx, key, series.version, { closedThroughMs, state: this.seriesStateOf(series) }, nowIso))) throw lost();
      if (!(await this.jobs.complete(JobQueue.in(trx), job, { runAt: new Date(nowMs + SERIES_INTERVAL_MS) }))) throw lost();
    });
  }

  /** Loads a series' detectors, rules and pending state into the per-run maps. */
  private async loadSeriesState(series: SeriesRow): Promise<void> {
    const key = series.seriesKey;
    const state = series.state as SeriesState;
    for (const [signal, stored] of await loadSeriesDetectorStates(this.db, key)) {
      try {
        if ((RATE_RULES as readonly string[]).includes(signal)) this.rateDetectors.set(`${key}\u0001${signal}`, RateDetector.restore(stored));
        else this.detectors.set(`${key}\u0001${signal}`, this.restoreDetectorState(stored));
      } catch (error) {
        this.log.warn({ err: error, series: key, signal }, 'stored LLM detector state is unusable; relearning');
      }
    }
    if (state.pending) {
      this.pending.set(key, { totals: bucketFromRecord(state.pending.totals), startMs: state.pending.startMs, endMs: state.pending.endMs, outage: state.pending.outage });
    }
    for (const [dedupKey, waiting] of Object.entries(state.unconfirmed ?? {})) this.unconfirmed.set(dedupKey, waiting);
    for (const [dedupKey, judged] of Object.entries(state.rateRuns ?? {})) this.rateRuns.set(dedupKey, judged);
  }

  private seriesStateOf(series: SeriesId & { seriesKey: string }): SeriesState {
    const pending = this.pending.get(series.seriesKey);
    const unconfirmed: Record<string, UnconfirmedDetection> = {};
    const rateRuns: Record<string, JudgedMinute[]> = {};
    for (const signal of DETECTED_SIGNALS) {
      const waiting = this.unconfirmed.get(detectorDedupKey(series, signal));
      if (waiting) unconfirmed[detectorDedupKey(series, signal)] = waiting;
    }
    for (const rule of RATE_RULES) {
      const judged = this.rateRuns.get(detectorDedupKey(series, rule));
      if (judged?.length) rateRuns[detectorDedupKey(series, rule)] = judged;
    }
    return {
      unjudged: [],
      ...(pending ? { pending: { totals: bucketToRecord(pending.totals), startMs: pending.startMs, endMs: pending.endMs, outage: pending.outage } } : {}),
      unconfirmed,
      rateRuns,
    };
  }

  /** Drops a series' per-run state from memory (it is in the database). */
  private forgetSeriesState(key: string): void {
    this.pending.delete(key);
    let labels: SeriesId | undefined;
    try {
      const [service, provider, model] = JSON.parse(key) as [string, string, string];
      labels = { service, provider, model };
    } catch {
      labels = undefined;
    }
    for (const signal of DETECTED_SIGNALS) {
      this.detectors.delete(`${key}\u0001${signal}`);
      if (labels) this.unconfirmed.delete(detectorDedupKey(labels, signal));
    }
    for (const rule of RATE_RULES) {
      this.rateDetectors.delete(`${key}\u0001${rule}`);
      if (labels) this.rateRuns.delete(detectorDedupKey(labels, rule));
    }
  }

  private rateDetectorOf(key: string, rule: RateRule): RateDetector {
    const id = `${key}\u0001${rule}`;
    let detector = this.rateDetectors.get(id);
    if (!detector) {
      detector = new RateDetector(rule);
      this.rateDetectors.set(id, detector);
    }
    return detector;
  }

  private async feedDetectors(bucket: Bucket, series: SeriesRow, touched: Set<string>): Promise<void> {
    const key = bucket.key;
    // Every minute is judged by the error-rate and latency rules first; a minute they flag is an outage,
    // which the other detectors judge without learning from it.
    const outage = await this.feedRateRules(bucket, series, touched);
    let point = this.pending.get(key);
    if (!point) {
      point = { totals: new Bucket(bucket.series, bucket.startMs, bucket.seconds), startMs: bucket.startMs, endMs: bucket.startMs, outage: false };
      this.pending.set(key, point);
    }
    point.outage ||= outage;
    point.totals.merge(bucket);
    point.endMs = bucket.startMs + bucket.seconds * 1000;
    if (point.totals.requests < this.options.minCallsPerPoint) return;
    this.pending.delete(key);
    const stats = statsOf(point.totals, (point.endMs - point.startMs) / 1000);
    const values: Record<DetectedSignal, number | null> = {
      cost_per_hour: stats.cost_per_hour,
      tokens_per_second: stats.tokens_per_second,
      ttft_p95_ms: stats.ttft_ms.p95,
      safety_flag_rate: stats.safety_flag_rate,
    };
    for (const signal of DETECTED_SIGNALS) {
      const value = values[signal];
      if (value === null) continue;
      const id = `${key}\u0001${signal}`;
      let detector = this.detectors.get(id);
      if (!detector) {
        detector = createAnomalyDetector(this.options.detector);
        this.detectors.set(id, detector);
      }
      let judge = detector;
      if (point.outage) {
        // A copy judges the point and is dropped: the baselines never learn from an outage.
        judge = restoreAnomalyDetector(JSON.parse(JSON.stringify(detector.toJSON())));
        this.counts.outagePointsJudged++;
      } else touched.add(id);
      const detection = judge.update(point.endMs, value);
      if (detection.rejected) continue;
      await this.onDetection(series, signal, point.endMs, detection, judge);
    }
  }

  /** The bad and all calls of a minute for a rule, and the minute's p95 (latency). */
  private static rateInput(detector: RateDetector, bucket: BucketTotals): { bad: number; calls: number; p95: number | null } {
    if (detector.rule === 'error_rate') return { bad: availabilityBad(bucket.errors), calls: bucket.requests, p95: null };
    const slow = detector.slowThresholdMs();
    return { bad: slow === null ? 0 : bucket.latency.countAbove(slow), calls: bucket.requests, p95: bucket.latency.quantile(0.95) };
  }

  /** Feeds one closed minute to the series' error-rate and latency rules and raises or resolves their alerts; true when either fires. */
  private async feedRateRules(bucket: Bucket, series: SeriesRow, touched: Set<string>): Promise<boolean> {
    const atMs = bucket.startMs + bucket.seconds * 1000;
    let outage = false;
    for (const rule of RATE_RULES) {
      const detector = this.rateDetectorOf(series.seriesKey, rule);
      const input = LlmTelemetryService.rateInput(detector, bucket);
      const verdict = detector.update(atMs, input.bad, input.calls, input.p95);
      touched.add(`${series.seriesKey}\u0001${rule}`);
      outage ||= verdict.firing;
      await this.onRateVerdict(series, verdict, bucket.startMs, atMs, true);
    }
    return outage;
  }

  /**
   * Judges the minutes not closed yet (every writer's partial rows, merged) with copies of the rules, so an
   * outage pages within a minute or two however long the allowed lateness is. The copies are dropped: the
   * rules learn only from closed minutes.
   */
  private async judgeOpenMinutes(series: SeriesRow, records: readonly BucketRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byMinute = new Map<number, Bucket>();
    for (const record of records) {
      const bucket = byMinute.get(record.bucketStartMs);
      if (bucket) bucket.merge(bucketFromRecord(record));
      else byMinute.set(record.bucketStartMs, bucketFromRecord(record));
    }
    const minutes = [...byMinute.values()].sort((a, b) => a.startMs - b.startMs);
    for (const rule of RATE_RULES) {
      const judge = RateDetector.restore(this.rateDetectorOf(series.seriesKey, rule).toJSON());
      for (const minute of minutes) {
        const input = LlmTelemetryService.rateInput(judge, minute);
        const atMs = minute.startMs + minute.seconds * 1000;
        await this.onRateVerdict(series, judge.update(atMs, input.bad, input.calls, input.p95), minute.startMs, atMs, false);
      }
    }
  }

  /**
   * Records a rule's judgement of a minute and raises its alert once it fired on `confirmAfterPoints` minutes
   * in a row; closed minutes also count the calm ones that resolve it.
   */
  private async onRateVerdict(series: SeriesRow, verdict: RateVerdict, minuteMs: number, atMs: number, closed: boolean): Promise<void> {
    const dedupKey = detectorDedupKey(series, verdict.rule);
    const open = this.openAlerts.get(dedupKey);
    const at = new Date(atMs).toISOString();
    const values = verdict.recent.map((m) => ({ at: new Date(m.atMs).toISOString(), bad: m.bad, calls: m.calls, value: m.calls > 0 ? m.bad / m.calls : null }));
    const judged = (this.rateRuns.get(dedupKey) ?? []).filter((j) => j.minuteMs !== minuteMs && j.minuteMs > minuteMs - 30 * MINUTE_MS);
    judged.push({ minuteMs, firing: verdict.firing });
    judged.sort((a, b) => a.minuteMs - b.minuteMs);
    this.rateRuns.set(dedupKey, judged);
    if (open) {
      if (!closed) return;
      const state = open.state as DetectorAlertState;
      state.calm_points = verdict.firing ? 0 : state.calm_points + 1;
      if (state.calm_points >= this.options.resolveAfterPoints) {
        await this.resolve(open, at, { signal: verdict.rule, rule: verdict.rule, recovered_value: verdict.share, normal_upper: verdict.bandUpper, values, why: verdict.description });
      } else await upsertOpenAlert(this.db, open, at);
      return;
    }
    if (!verdict.firing) return;
    // As with the other detectors, a page needs the rule to fire on `confirmAfterPoints` minutes in a row
    // (judged minutes: closed ones, and open ones as they stand).
    let run = 0;
    for (let i = judged.length - 1; i >= 0 && judged[i]!.minuteMs <= minuteMs && judged[i]!.firing; i--) run++;
    if (run < this.options.confirmAfterPoints) return;
    const state: DetectorAlertState = { signal: verdict.rule, baseline: verdict.baselineShare, scale: 0, normal_upper: verdict.bandUpper, calm_points: 0 };
    const title = verdict.rule === 'error_rate' ? 'Error rate' : `Calls slower than the usual p95 (${Math.round(verdict.slowerThanMs ?? 0)} ms)`;
    const alert: InternalAlert = {
      dedupKey,
      service: series.service,
      severity: 'critical',
      summary: `${title} of ${series.service} (${series.provider} ${series.model}) is ${formatPercent(verdict.share)} over ${verdict.recent.length} min, baseline ${formatPercent(verdict.baselineShare)}`,
      source: 'firebreak.detector',
      labels: { signal: verdict.rule, provider: series.provider, model: series.model },
      details: {
        signal: verdict.rule,
        series: { service: series.service, provider: series.provider, model: series.model },
        rule: verdict.rule,
        why: verdict.description,
        value: verdict.share,
        values,
        values_meaning: verdict.rule === 'error_rate' ? 'failed / all calls per minute, oldest first' : 'calls slower than the usual p95 / all calls per minute, oldest first',
        baseline: verdict.baselineShare,
        band: { lower: 0, upper: verdict.bandUpper },
        band_meaning: 'shares the baseline explains for this many calls (beta-binomial, p > 1e-6)',
        surprise: verdict.surprise,
        slower_than_ms: verdict.slowerThanMs,
        normal_upper: verdict.bandUpper,
        minute_closed: closed,
      },
      at,
    };
    await this.raise(alert, { dedupKey, kind: 'detector', service: series.service, state, raisedAt: at }, series.via ?? undefined);
  }

  /**
   * A stored state keeps the configuration it was created with, except whether drops may alert and how
   * records page: those are the service's decisions about its signals (its options, else the detector's
   * defaults), so states saved before they were made or changed follow them too. States saved while the
   * service ran with records off (recordTolerance 0) get the rule back.
   */
  private restoreDetectorState(state: unknown): AnomalyDetector {
    if (state === null || typeof state !== 'object') return restoreAnomalyDetector(state);
    const stored = state as { config?: Record<string, unknown> };
    const { allowNegative, recentPoints } = (stored.config ?? {}) as Partial<AnomalyDetectorConfig>;
    return restoreAnomalyDetector({ ...stored, config: { ...DEFAULT_DETECTOR_CONFIG, ...this.options.detector, allowNegative, recentPoints } });
  }

  /** Forgets series without calls for a day (and no calls waiting to be written), so memory follows the live series, not every series ever seen. */
  private evictIdleSeries(nowMs: number): void {
    if (nowMs - this.lastEvictionMs < 3_600_000) return;
    this.lastEvictionMs = nowMs;
    for (const [key, series] of this.series) {
      if (series.lastSeenMs >= nowMs - SERIES_IDLE_MS || this.arrivals.has(key)) continue;
      this.series.delete(key);
      this.closedThrough.delete(key);
    }
  }

  private async onDetection(
    series: SeriesRow,
    signal: DetectedSignal,
    atMs: number,
    detection: Detection,
    detector: AnomalyDetector,
  ): Promise<void> {
    const dedupKey = detectorDedupKey(series, signal);
    const open = this.openAlerts.get(dedupKey);
    const at = new Date(atMs).toISOString();
    if (open) {
      const state = open.state as DetectorAlertState;
      state.calm_points = detection.value <= state.normal_upper ? state.calm_points + 1 : 0;
      if (state.calm_points >= this.options.resolveAfterPoints) {
        await this.resolve(open, at, {
          signal,
          recovered_value: detection.value,
          normal_upper: state.normal_upper,
          values: windowOf(detector),
        });
      } else {
        await upsertOpenAlert(this.db, open, at);
      }
      return;
    }
    const waiting = this.unconfirmed.get(dedupKey);
    if (waiting) {
      // The detector is in its cooldown now, so the detection is confirmed by values, not scores: the
      // points after it must stay above the same normal band that later resolves the alert.
      if (!(detection.value > waiting.state.normal_upper)) {
        this.unconfirmed.delete(dedupKey);
        this.counts.unconfirmedDetections++;
        this.log.info({ dedupKey, value: detection.value, normalUpper: waiting.state.normal_upper }, 'LLM detection not confirmed: back in the normal band');
        return;
      }
      waiting.pointsAbove++;
      if (waiting.pointsAbove < this.options.confirmAfterPoints) return;
      this.unconfirmed.delete(dedupKey);
      const alert: InternalAlert = { ...waiting.alert, details: { ...waiting.alert.details, values: windowOf(detector), confirmed_by_value: detection.value }, at };
      await this.raise(alert, { dedupKey, kind: 'detector', service: series.service, state: waiting.state, raisedAt: at }, series.via ?? undefined);
      return;
    }
    // Every watched signal is harmful only when it rises: a drop in cost or tokens is not an incident
    // (a drop in traffic shows up in the availability SLO instead).
    if (!detection.anomalous || !(detection.value > detection.baseline)) return;
    const halfBand = Math.max(3 * detection.scale, 0.1 * Math.abs(detection.baseline));
    const normalUpper = detection.baseline + halfBand;
    const normalLower = Math.max(0, detection.baseline - halfBand);
    const state: DetectorAlertState = { signal, baseline: detection.baseline, scale: detection.scale, normal_upper: normalUpper, calm_points: 0 };
    const alert: InternalAlert = {
      dedupKey,
      service: series.service,
      severity: 'error',
      summary: `${SIGNAL_TITLES[signal]} of ${series.service} (${series.provider} ${series.model}) is ${formatNumber(detection.value)}, expected about ${formatNumber(detection.baseline)}`,
      source: 'firebreak.detector',
      labels: { signal, provider: series.provider, model: series.model },
      details: {
        signal,
        series: { service: series.service, provider: series.provider, model: series.model },
        rule: detection.rule,
        why: `${RULE_MEANINGS[detection.rule]}: ${formatNumber(detection.value)} against a baseline of ${formatNumber(detection.baseline)} (${detection.model} model), normal band ${formatNumber(normalLower)} to ${formatNumber(normalUpper)}; score ${detection.score.toFixed(2)} ≥ ${detection.threshold}`,
        value: detection.value,
        values: windowOf(detector),
        baseline: detection.baseline,
        band: { lower: normalLower, upper: normalUpper },
        band_meaning: 'baseline ± max(3 scales, 10% of the baseline); the alert resolves after 10 points below the upper edge',
        scale: detection.scale,
        score: detection.score,
        threshold: detection.threshold,
        threshold_meaning: 'anomaly score in [0, 1] at or above which the detector fires',
        normal_upper: normalUpper,
        model: detection.model,
      },
      at,
    };
    if (this.options.confirmAfterPoints > 1) {
      this.unconfirmed.set(dedupKey, { alert, state, pointsAbove: 1 });
      return;
    }
    await this.raise(alert, { dedupKey, kind: 'detector', service: series.service, state, raisedAt: at }, series.via ?? undefined);
  }

  /** Per-minute good/bad counts of each of a service's SLOs over the alerting windows: closed minutes and open ones, every writer's. */
  private async sloCounters(service: string, slos: readonly { slo: SloDefinition }[], eventMs: number): Promise<MinuteCounters[]> {
    const counters = slos.map(() => new MinuteCounters());
    const fromIso = new Date(eventMs - LONGEST_RULE_MINUTES * MINUTE_MS).toISOString();
    const toIso = new Date(eventMs + MINUTE_MS).toISOString();
    for (const row of await loadServiceCounts(this.db, service, fromIso, toIso)) {
      slos.forEach(({ slo }, i) => addCounts(slo, counters[i]!, row.bucketStartMs, row));
    }
    return counters;
  }

  /** One run of a service's burn-rate job, on whichever server holds its lease. */
  private async runSlo(job: ClaimedJob): Promise<void> {
    const service = job.key;
    const wallMs = this.clock().getTime();
    const slos = this.slosByService.get(service);
    if (!slos) {
      // An SLO removed from the configuration.
      await this.jobs.complete(this.jobs.db, job);
      return;
    }
    await this.evaluateSlos(service, slos, wallMs);
    if (!(await this.jobs.complete(this.jobs.db, job, { runAt: new Date(wallMs + SLO_INTERVAL_MS) }))) {
      this.log.warn({ service }, 'the burn-rate job of an LLM service was taken over mid-run');
    }
  }

  private async evaluateSlos(service: string, slos: readonly { slo: SloDefinition }[], wallMs: number): Promise<void> {
    {
      const { eventMs: nowMs, via } = await this.eventTimeOf(service, wallMs);
      const at = new Date(nowMs).toISOString();
      const allCounters = await this.sloCounters(service, slos, nowMs);
      for (const [index, { slo }] of slos.entries()) {
        const counters = allCounters[index]!;
        const evaluations = evaluateBurnRates(counters, nowMs, slo.objective, slo.minBadEvents);
        const level = alertLevel(evaluations);
        const dedupKey = `llm-slo:${service}:${slo.name}`;
        const open = this.openAlerts.get(dedupKey);
        if (level === null) {
          if (open) await this.resolve(open, at, { burn_rates: evaluations });
          continue;
        }
        if (open && (open.state.level === 'page' || level === 'ticket')) continue;
        let raisedAt = open?.raisedAt ?? at;
        if (open) {
          // A ticket that becomes a page must page: the pipeline counts a repeat of the same key without
          // routing it again, so the ticket is resolved and the page raised as a new alert (routed at critical).
          await this.resolve(open, at, { burn_rates: evaluations, escalated_to: 'page' });
          raisedAt = at;
        }
        const firing = evaluations.filter((e) => e.firing);
        const worst = firing.find((e) => e.severity === level)!;
        const allowed = 1 - slo.objective;
        const alert: InternalAlert = {
          dedupKey,
          service,
          severity: level === 'page' ? 'critical' : 'warning',
          summary: `${service} ${slo.name} SLO burning error budget at ${worst.short.burn_rate.toFixed(1)}× over ${worst.short.window_minutes} min and ${worst.long.burn_rate.toFixed(1)}× over ${formatMinutes(worst.long.window_minutes)} (${level})`,
          source: 'firebreak.slo',
          labels: { slo: slo.name, kind: slo.kind, level },
          details: {
            signal: slo.kind === 'availability' ? 'error_ratio' : `ratio_slower_than_${slo.thresholdMs}ms`,
            slo: { name: slo.name, kind: slo.kind, objective: slo.objective, window_days: slo.windowDays, threshold_ms: slo.thresholdMs, min_bad_events: slo.minBadEvents },
            values: counters.perMinute(nowMs, 60),
            values_meaning: 'bad/total per minute over the last hour, oldest first',
            baseline: allowed,
            baseline_meaning: 'error ratio the objective allows (burn rate 1)',
            threshold: worst.threshold * allowed,
            threshold_meaning: `error ratio at burn rate ${worst.threshold}, crossed over both ${worst.long.window_minutes} and ${worst.short.window_minutes} min`,
            burn_rates: evaluations,
          },
          at,
        };
        await this.raise(alert, { dedupKey, kind: 'slo', service, state: { level }, raisedAt }, via);
      }
    }
  }

  private async raise(alert: InternalAlert, row: OpenAlertRow, via: string | undefined): Promise<void> {
    const sink = this.alertSink();
    if (!sink) {
      this.log.warn({ dedupKey: alert.dedupKey, summary: alert.summary }, 'no alert sink installed; LLM alert not delivered');
      return;
    }
    // Telemetry may name a service the catalogue does not have (a resource's service.name): its alerts
    // then go to the service of the integration whose key sent that telemetry.
    await sink.raise(via !== undefined && via !== alert.service ? { ...alert, fallbackService: via } : alert);
    this.openAlerts.set(row.dedupKey, row);
    await upsertOpenAlert(this.db, row, alert.at);
  }

  private async resolve(open: OpenAlertRow, at: string, details: Record<string, unknown>): Promise<void> {
    const sink = this.alertSink();
    if (!sink) return;
    // Forgotten before the pipeline's 'alert.resolved' event arrives, so that event does not queue a
    // forget that would drop an alert raised again under the same key right after (an escalation).
    this.openAlerts.delete(open.dedupKey);
    try {
      await sink.resolve(open.dedupKey, at, details);
    } catch (error) {
      this.openAlerts.set(open.dedupKey, open);
      throw error;
    }
    await deleteOpenAlert(this.db, open.dedupKey);
  }

  /**
   * The pipeline resolved one of our alerts on its own (a responder resolved the incident, or the
   * alert by hand): forget it, so a condition that is still true raises a fresh alert and incident.
   */
  forgetResolved(dedupKey: string): void {
    // Not when this server itself just resolved it (it forgot it first): the event must not drop an alert raised
    // again under the same key right after (a ticket escalated to a page).
    if (!this.openAlerts.has(dedupKey)) return;
    this.maintenance = this.maintenance
      .then(async () => {
        this.openAlerts.delete(dedupKey);
        await deleteOpenAlert(this.db, dedupKey);
      })
      .catch((error: unknown) => this.log.error({ err: error, dedupKey }, 'forgetting a resolved LLM alert failed'));
  }

  /** Open alerts raised from LLM telemetry (what the pipeline was told and not yet told to resolve). */
  async openAlertKeys(): Promise<string[]> {
    return (await loadOpenAlerts(this.db)).map((a) => a.dedupKey).sort();
  }

  /** Merged statistics per series over [from, to) in steps: database rollups plus still-open buckets. */
  async stats(query: { fromMs: number; toMs: number; stepSeconds: number; service?: string | undefined; provider?: string | undefined; model?: string | undefined }) {
    const { fromMs, toMs, stepSeconds } = query;
    const stepMs = stepSeconds * 1000;
    const pointCount = Math.ceil((toMs - fromMs) / stepMs);
    if (pointCount > 10_000) throw new AppError('too_large_for_analysis', `${pointCount} points per series; use a larger step`, { field: 'step' });
    const matches = (s: SeriesId) =>
      (query.service === undefined || s.service === query.service) &&
      (query.provider === undefined || s.provider === query.provider) &&
      (query.model === undefined || s.model === query.model);
    const filter = { fromIso: new Date(fromMs).toISOString(), toIso: new Date(toMs).toISOString(), service: query.service, provider: query.provider, model: query.model };
    await this.ensureQueryable(filter);
    const stored = await loadBuckets(this.db, filter);
    const grouped = new Map<string, { series: SeriesId; points: Map<number, Bucket> }>();
    const addTotals = (series: SeriesId, startMs: number, totals: BucketTotals) => {
      const key = seriesKey(series);
      let group = grouped.get(key);
      if (!group) {
        group = { series, points: new Map() };
        grouped.set(key, group);
      }
      const index = Math.floor((startMs - fromMs) / stepMs);
      let point = group.points.get(index);
      if (!point) {
        point = new Bucket(series, fromMs + index * stepMs, stepSeconds);
        group.points.set(index, point);
      }
      point.merge(totals);
    };
    for (const record of stored) if (matches(record)) addTotals(record, record.bucketStartMs, bucketFromRecord(record));
    return [...grouped.values()]
      .sort((a, b) => seriesKey(a.series).localeCompare(seriesKey(b.series)))
      .map(({ series, points }) => ({
        ...series,
        points: [...points.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([index, totals]) => {
            const startMs = fromMs + index * stepMs;
            const endMs = Math.min(toMs, startMs + stepMs);
            return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), ...statsOf(totals, (endMs - startMs) / 1000) };
          }),
      }));
  }

  private async ensureQueryable(filter: BucketFilter): Promise<void> {
    const rows = await countBuckets(this.db, filter);
    if (rows > MAX_ROWS_PER_QUERY) {
      throw new AppError('too_large_for_analysis', `the range holds ${rows} one-minute rollups (limit ${MAX_ROWS_PER_QUERY}); narrow it by time, service, provider or model`, {
        field: 'from',
        rows,
      });
    }
  }

  /** Statistics over the last `windowMinutes`, all matching series merged (the `llm_stat` check); null without traffic. */
  async statOverWindow(filter: { service: string; provider?: string | undefined; model?: string | undefined }, windowMinutes: number): Promise<StatsPoint | null> {
    // The window ends at the service's event time: late telemetry is judged at its own time.
    const toMs = (await this.eventTimeOf(filter.service)).eventMs + 1;
    const fromMs = toMs - windowMinutes * MINUTE_MS;
    // Merge raw totals across series (never average per-series figures), so quantiles keep the sketch's guarantee.
    const merged = new Bucket({ service: filter.service, provider: filter.provider ?? '*', model: filter.model ?? '*' }, fromMs, windowMinutes * 60);
    const range = { fromIso: new Date(fromMs).toISOString(), toIso: new Date(toMs).toISOString(), ...filter };
    await this.ensureQueryable(range);
    const stored = await loadBuckets(this.db, range);
    for (const record of stored) merged.merge(bucketFromRecord(record));
    return merged.requests > 0 ? statsOf(merged, windowMinutes * 60) : null;
  }

  async sloStatuses(service?: string): Promise<SloStatus[]> {
    const nowMs = this.clock().getTime();
    const out: SloStatus[] = [];
    for (const [name, slos] of this.slosByService) {
      if (service !== undefined && name !== service) continue;
      const longest = Math.max(...slos.map((s) => s.slo.windowDays));
      const rows = await loadServiceCounts(this.db, name, new Date(nowMs - longest * 86_400_000).toISOString(), new Date(nowMs + MINUTE_MS).toISOString());
      const eventMs = (await this.eventTimeOf(name, nowMs)).eventMs;
      const allCounters = await this.sloCounters(name, slos, eventMs);
      for (const [index, { slo }] of slos.entries()) {
        const counters = allCounters[index]!;
        const since = nowMs - slo.windowDays * 86_400_000;
        let total = 0;
        let bad = 0;
        for (const row of rows) {
          if (row.bucketStartMs < since) continue;
          const errors = row.errors as BucketTotals['errors'];
          if (slo.kind === 'availability') {
            total += row.requests;
            bad += availabilityBad(errors);
          } else {
            const population = successes({ requests: row.requests, errors });
            total += population;
            bad += population - (row.latencyWithin[String(slo.thresholdMs)] ?? 0);
          }
        }
        const burnRates = evaluateBurnRates(counters, eventMs, slo.objective, slo.minBadEvents);
        out.push({
          service: name,
          name: slo.name,
          kind: slo.kind,
          objective: slo.objective,
          window_days: slo.windowDays,
          threshold_ms: slo.thresholdMs,
          min_bad_events: slo.minBadEvents,
          requests: total,
          bad,
          sli: total > 0 ? 1 - bad / total : null,
          error_budget_remaining: errorBudgetRemaining(total, bad, slo.objective),
          alert: alertLevel(burnRates),
          burn_rates: burnRates,
        });
      }
    }
    return out;
  }

  /**
   * Every detector of the live series (as stored), the signals' anomaly detectors and the series' error-rate and
   * latency rules: its series, points (minutes) learned, whether it is still learning, its latest value, and its open alert.
   */
  async detectorStatuses(service?: string): Promise<DetectorStatus[]> {
    const out: DetectorStatus[] = [];
    const openAlerts = new Set((await loadOpenAlerts(this.db)).map((a) => a.dedupKey));
    const since = new Date(this.clock().getTime() - SERIES_IDLE_MS).toISOString();
    for (const { seriesKey: key, signal: stored, state } of await loadDetectorStates(this.db, since)) {
      if ((RATE_RULES as readonly string[]).includes(stored)) {
        const [seriesService, provider, model] = JSON.parse(key) as [string, string, string];
        if (service !== undefined && seriesService !== service) continue;
        let rule: RateDetector;
        try {
          rule = RateDetector.restore(state);
        } catch {
          continue;
        }
        const status = rule.status();
        const last = status.lastMinute;
        out.push({
          service: seriesService,
          provider,
          model,
          signal: status.rule,
          kind: 'rate',
          points: status.learnedMinutes,
          learning: status.learning,
          threshold: status.minLog10P,
          last_value: last && last.calls > 0 ? last.bad / last.calls : null,
          last_at: last ? new Date(last.atMs).toISOString() : null,
          alert_open: openAlerts.has(detectorDedupKey({ service: seriesService, provider, model }, status.rule)),
          firing: status.firing,
          baseline_share: status.baselineShare,
          slower_than_ms: status.slowerThanMs,
        });
        continue;
      }
      if (!(DETECTED_SIGNALS as readonly string[]).includes(stored)) continue;
      const signal = stored as DetectedSignal;
      const [seriesService, provider, model] = JSON.parse(key) as [string, string, string];
      if (service !== undefined && seriesService !== service) continue;
      let detector: AnomalyDetector;
      try {
        detector = this.restoreDetectorState(state);
      } catch {
        continue;
      }
      const recent = detector.recent();
      out.push({
        service: seriesService,
        provider,
        model,
        signal,
        points: detector.count,
        learning: detector.count < detector.config.learningPoints,
        threshold: detector.config.threshold,
        last_value: recent.length > 0 ? recent[recent.length - 1]!.value : null,
        last_at: recent.length > 0 ? new Date(recent[recent.length - 1]!.timestampMs).toISOString() : null,
        alert_open: openAlerts.has(`llm-detector:${seriesService}:${provider}:${model}:${signal}`),
        kind: 'anomaly',
        firing: null,
        baseline_share: null,
        slower_than_ms: null,
      });
    }
    return out.sort((a, b) => `${a.service}/${a.provider}/${a.model}/${a.signal}`.localeCompare(`${b.service}/${b.provider}/${b.model}/${b.signal}`));
  }

  /** Series held in memory now (bounded by `maxSeries`; idle ones are evicted after a day). */
  get liveSeriesCount(): number {
    return this.series.size;
  }

  /** Buckets held in memory now: calls accepted and not yet written (each request writes its own before it answers). */
  get openBucketCount(): number {
    return this.open.size;
  }

  /** Open minutes in the database, one row per (series, minute, writing server). */
  openPartialCount(): Promise<number> {
    return countPartials(this.db);
  }

  async close(): Promise<void> {
    await this.maintain();
  }
}

const SIGNAL_TITLES: Record<DetectedSignal, string> = {
  cost_per_hour: 'Cost per hour (USD)',
  tokens_per_second: 'Tokens per second',
  ttft_p95_ms: 'Time to first token p95 (ms)',
  safety_flag_rate: 'Safety-flag rate',
};

const RULE_MEANINGS: Record<Detection['rule'], string> = {
  point: 'one point far from the baseline',
  short_window: 'a run of points unusually far from the baseline',
  breakout: 'a value beyond the recent extremes',
  record: 'values beyond the whole history of the series',
};

function addCounts(
  slo: SloDefinition,
  counters: MinuteCounters,
  atMs: number,
  totals: { requests: number; errors: Record<string, number>; latencyWithin: Record<string, number> },
): void {
  const errors = totals.errors as BucketTotals['errors'];
  if (slo.kind === 'availability') counters.add(atMs, totals.requests, availabilityBad(errors));
  else {
    const population = successes({ requests: totals.requests, errors });
    counters.add(atMs, population, population - (totals.latencyWithin[String(slo.thresholdMs)] ?? 0));
  }
}

/** A series' event-time watermark now: its newest call time, moved on by the wall-clock time since it arrived, never past the wall clock. */
function watermarkAt(series: { watermarkMs: number; arrivedMs: number }, nowMs: number): number {
  return Math.min(nowMs, series.watermarkMs + Math.max(0, nowMs - series.arrivedMs));
}

function detectorDedupKey(series: SeriesId, signal: DetectedSignal | RateRule): string {
  return `llm-detector:${series.service}:${series.provider}:${series.model}:${signal}`;
}

function windowOf(detector: AnomalyDetector): { at: string; value: number }[] {
  return detector.recent().map((p) => ({ at: new Date(p.timestampMs).toISOString(), value: p.value }));
}

/** A measured value at a readable precision (0.0645, 3.14, 250), for sentences people read. */
export function formatNumber(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

function formatPercent(share: number): string {
  return `${(100 * share).toFixed(share < 0.1 ? 2 : 1)}%`;
}

function formatMinutes(minutes: number): string {
  return minutes % 1440 === 0 ? `${minutes / 1440} d` : minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}
