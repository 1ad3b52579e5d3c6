import type { Logger } from 'pino';
import { AppError } from '../shared/errors.ts';
import type { AlertSink, InternalAlert } from '../shared/alert-sink.ts';
import type { Database } from '../storage/index.ts';
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
  type BucketTotals,
  type SeriesId,
  type StatsPoint,
} from './buckets.ts';
import { AVAILABILITY_BAD_KINDS, LIMITS, cleanLabel, rejectionReason, type LlmCall, type RejectionReason } from './records.ts';
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
  deleteOpenAlert,
  insertBuckets,
  loadBuckets,
  loadDetectorState,
  loadDetectorStates,
  loadOpenAlerts,
  loadServiceCounts,
  saveDetectorStates,
  upsertOpenAlert,
  type BucketFilter,
  type OpenAlertRow,
} from './repository.ts';

const MINUTE_MS = 60_000;
/** A series without calls for this long leaves memory; its detector state stays in the database. */
const SERIES_IDLE_MS = 24 * 3_600_000;
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
  /** In-memory buckets; beyond this the oldest are flushed early (memory stays bounded). */
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
  private readonly open = new Map<string, Bucket>();
  /** Series seen recently, with the event time of their last call; idle ones are evicted (their detector state stays in the database). */
  private readonly series = new Map<string, LiveSeries>();
  private lastEvictionMs = Number.NEGATIVE_INFINITY;
  private readonly lastClosedStart = new Map<string, number>();
  private readonly pending = new Map<string, PendingPoint>();
  private readonly detectors = new Map<string, AnomalyDetector>();
  /** Error-rate and latency rules per series (`key \u0001 rule`), on every series without configuration. */
  private readonly rateDetectors = new Map<string, RateDetector>();
  /** Minutes in a row an error-rate or latency rule has fired without an alert yet, by dedup key. */
  private readonly rateRuns = new Map<string, number>();
  private readonly openAlerts = new Map<string, OpenAlertRow>();
  /** Detections not yet confirmed by the points after them, by dedup key (kept in memory only: a restart drops them). */
  private readonly unconfirmed = new Map<string, UnconfirmedDetection>();
  private readonly slosByService = new Map<string, { slo: SloDefinition; counters: MinuteCounters }[]>();
  private readonly latencyThresholds = new Map<string, number[]>();
  /**
   * Per service, the newest call time accepted (never beyond the wall clock) and when it arrived. Burn
   * rates and `llm_stat` windows are judged as of this event time, so telemetry that arrives late (an
   * exporter's batch, a backfill, a drill replaying the past) is judged at its own time, not at arrival.
   */
  private readonly watermarks = new Map<string, { eventMs: number; arrivedMs: number }>();
  /** Other capabilities watching the accepted calls (change tracking reads the response model and prompt version). */
  private readonly acceptedListeners: ((calls: readonly LlmCall[]) => void)[] = [];
  private maintenance: Promise<void> = Promise.resolve();
  private lastEvaluationMs = Number.NEGATIVE_INFINITY;
  readonly counts = { outagePointsJudged: 0, latePartialBuckets: 0, lateCalls: 0, unconfirmedDetections: 0, seriesMaintenanceFailures: 0 };
  /** Per service, the integration service its telemetry last came through (SLO alerts of uncatalogued services go there). */
  private readonly viaByService = new Map<string, string>();

  constructor(
    database: Database,
    private readonly clock: () => Date,
    private readonly log: Logger,
    readonly slos: readonly SloDefinition[],
    private readonly alertSink: () => AlertSink | undefined,
    readonly options: LlmTelemetryOptions = DEFAULT_LLM_OPTIONS,
    private readonly observe: IngestObserver = () => undefined,
  ) {
    this.db = database.db;
    for (const slo of slos) {
      const list = this.slosByService.get(slo.service) ?? [];
      list.push({ slo, counters: new MinuteCounters() });
      this.slosByService.set(slo.service, list);
      if (slo.kind === 'latency' && slo.thresholdMs !== null) {
        const thresholds = this.latencyThresholds.get(slo.service) ?? [];
        if (!thresholds.includes(slo.thresholdMs)) thresholds.push(slo.thresholdMs);
        this.latencyThresholds.set(slo.service, thresholds);
      }
    }
  }

  /** Restores detector baselines, open alerts and the SLO windows from the database. */
  async load(): Promise<void> {
    const nowMs = this.clock().getTime();
    for (const { seriesKey: key, signal, state } of await loadDetectorStates(this.db, new Date(nowMs - SERIES_IDLE_MS).toISOString())) {
      try {
        if ((RATE_RULES as readonly string[]).includes(signal)) this.rateDetectors.set(`${key}\u0001${signal}`, RateDetector.restore(state));
        else this.detectors.set(`${key}\u0001${signal}`, this.restoreDetectorState(state));
      } catch (error) {
        this.log.warn({ err: error, series: key, signal }, 'stored LLM detector state is unusable; relearning');
      }
    }
    for (const alert of await loadOpenAlerts(this.db)) this.openAlerts.set(alert.dedupKey, alert);
    const fromIso = new Date(nowMs - (LONGEST_RULE_MINUTES + 1) * MINUTE_MS).toISOString();
    const toIso = new Date(nowMs + MINUTE_MS).toISOString();
    for (const [service, slos] of this.slosByService) {
      for (const row of await loadServiceCounts(this.db, service, fromIso, toIso)) {
        for (const { slo, counters } of slos) this.addCounts(slo, counters, row.bucketStartMs, row);
      }
    }
  }

  private addCounts(
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

  /**
   * The event time a service's windows end at: its watermark, moved on by the wall-clock time since that
   * call arrived (so burn rates still fall and alerts resolve when traffic stops), never past the wall
   * clock. A service without telemetry since this process started is judged at the wall clock.
   */
  eventTimeOf(service: string, nowMs = this.clock().getTime()): number {
    const watermark = this.watermarks.get(service);
    if (!watermark) return nowMs;
    return Math.min(nowMs, watermark.eventMs + Math.max(0, nowMs - watermark.arrivedMs));
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
    if (via !== undefined) {
      known.via = via;
      if (this.viaByService.get(labels.service) !== via) this.viaByService.set(labels.service, via);
    }
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
    const watermark = this.watermarks.get(labels.service);
    if (!watermark || atMs > watermark.eventMs) this.watermarks.set(labels.service, { eventMs: eventMs, arrivedMs: nowMs });
    const closed = this.lastClosedStart.get(key);
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
      const slos = this.slosByService.get(call.service);
      if (slos) {
        for (const { slo, counters } of slos) {
          if (slo.kind === 'availability') counters.add(call.startedAtMs, 1, call.errorKind && AVAILABILITY_BAD_KINDS.has(call.errorKind) ? 1 : 0);
          else if (call.errorKind === null) counters.add(call.startedAtMs, 1, call.latencyMs > slo.thresholdMs! ? 1 : 0);
        }
      }
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
      const slos = this.slosByService.get(labels.service);
      if (slos && sample.requests > 0) {
        for (const { slo, counters } of slos) {
          if (slo.kind === 'availability') counters.add(sample.atMs, sample.requests, sample.errorKind && AVAILABILITY_BAD_KINDS.has(sample.errorKind) ? sample.requests : 0);
          else if (sample.errorKind === null) {
            let slow = 0;
            for (const { valueMs, count } of sample.latencies) if (valueMs > slo.thresholdMs!) slow += count;
            counters.add(sample.atMs, sample.requests, slow);
          }
        }
      }
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

  /** Closes due buckets, feeds detectors, evaluates burn rates. Serialised; safe to call after every request. */
  maintain(force = false): Promise<void> {
    const run = this.maintenance.then(() => this.runMaintenance(force));
    this.maintenance = run.catch((error: unknown) => this.log.error({ err: error }, 'LLM telemetry maintenance failed'));
    return run;
  }

  private async runMaintenance(force: boolean): Promise<void> {
    const nowMs = this.clock().getTime();
    const due: Bucket[] = [];
    // A minute closes once its series' event-time watermark is the allowed lateness past its end. The
    // watermark moves with the wall clock while no newer call arrives, so minutes still close when
    // traffic stops; a backfill of the past closes its minutes as its own event time passes them.
    const watermarks = new Map<string, number>();
    for (const [id, bucket] of this.open) {
      let watermark = watermarks.get(bucket.key);
      if (watermark === undefined) {
        const series = this.series.get(bucket.key);
        watermark = series ? Math.min(nowMs, series.lastSeenMs + Math.max(0, nowMs - series.arrivedMs)) : nowMs;
        watermarks.set(bucket.key, watermark);
      }
      if (force || bucket.startMs + bucket.seconds * 1000 + this.options.allowedLatenessMs <= watermark) {
        due.push(bucket);
        this.open.delete(id);
      }
    }
    if (this.open.size > this.options.maxOpenBuckets) {
      const oldest = [...this.open.entries()].sort((a, b) => a[1].startMs - b[1].startMs);
      for (const [id, bucket] of oldest.slice(0, this.open.size - this.options.maxOpenBuckets)) {
        due.push(bucket);
        this.open.delete(id);
      }
    }
    if (due.length > 0) {
      due.sort((a, b) => a.startMs - b.startMs);
      try {
        // One transaction, so a failure leaves nothing half-written.
        await this.db.transaction().execute((trx) => insertBuckets(trx, due.map(bucketToRecord), new Date(nowMs).toISOString()));
      } catch (error) {
        // Keep the buckets for the next attempt rather than lose them (a row may exist twice if part of the batch landed).
        for (const bucket of due) {
          const id = `${bucket.key}\u0001${bucket.startMs}`;
          const newer = this.open.get(id);
          if (newer) bucket.merge(newer);
          this.open.set(id, bucket);
        }
        throw error;
      }
      const touched = new Set<string>();
      for (const bucket of due) {
        // Each series on its own: one that fails (its alert cannot be delivered, its state cannot be
        // read) is logged and counted, and the other series' minutes still reach their detectors.
        try {
          await this.feedDetectors(bucket, touched);
        } catch (error) {
          this.counts.seriesMaintenanceFailures++;
          this.log.error({ err: error, series: bucket.series, minute: new Date(bucket.startMs).toISOString() }, 'LLM detector maintenance failed for one series; the others go on');
        }
      }
      const states = [...touched].map((id) => {
        const [key, signal] = id.split('\u0001') as [string, string];
        return { seriesKey: key, signal, state: (this.detectors.get(id) ?? this.rateDetectors.get(id))!.toJSON() };
      });
      if (states.length > 0) await this.db.transaction().execute((trx) => saveDetectorStates(trx, states, new Date(nowMs).toISOString()));
    }
    this.evictIdleSeries(nowMs);
    if (force || due.length > 0 || nowMs - this.lastEvaluationMs >= 15_000) {
      this.lastEvaluationMs = nowMs;
      await this.evaluateSlos(nowMs);
    }
  }

  private async feedDetectors(bucket: Bucket, touched: Set<string>): Promise<void> {
    const key = bucket.key;
    const last = this.lastClosedStart.get(key);
    if (last !== undefined && bucket.startMs <= last) {
      // A late partial bucket: its minute already fed the detectors; it is stored for the statistics only.
      this.counts.latePartialBuckets++;
      return;
    }
    this.lastClosedStart.set(key, bucket.startMs);
    // Every minute is judged by the error-rate and latency rules first; a minute they flag is an outage,
    // which the other detectors judge without learning from it.
    const outage = await this.feedRateRules(bucket, key, touched);
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
      let detector = this.detectors.get(id) ?? (await this.restoreDetector(key, signal));
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
      await this.onDetection(bucket.series, signal, point.endMs, detection, judge);
    }
  }

  /** Feeds one minute to the series' error-rate and latency rules and raises or resolves their alerts; true when either fires. */
  private async feedRateRules(bucket: Bucket, key: string, touched: Set<string>): Promise<boolean> {
    const atMs = bucket.startMs + bucket.seconds * 1000;
    let outage = false;
    for (const rule of RATE_RULES) {
      const id = `${key}\u0001${rule}`;
      let detector = this.rateDetectors.get(id);
      if (!detector) {
        const stored = await loadDetectorState(this.db, key, rule);
        try {
          detector = stored === undefined ? new RateDetector(rule) : RateDetector.restore(stored);
        } catch (error) {
          this.log.warn({ err: error, series: key, signal: rule }, 'stored LLM rate rule state is unusable; relearning');
          detector = new RateDetector(rule);
        }
        this.rateDetectors.set(id, detector);
      }
      let verdict: RateVerdict;
      if (rule === 'error_rate') verdict = detector.update(atMs, availabilityBad(bucket.errors), bucket.requests);
      else {
        const slow = detector.slowThresholdMs();
        verdict = detector.update(atMs, slow === null ? 0 : bucket.latency.countAbove(slow), bucket.requests, bucket.latency.quantile(0.95));
      }
      touched.add(id);
      outage ||= verdict.firing;
      await this.onRateVerdict(bucket.series, verdict, atMs);
    }
    return outage;
  }

  private async onRateVerdict(series: SeriesId, verdict: RateVerdict, atMs: number): Promise<void> {
    const dedupKey = detectorDedupKey(series, verdict.rule);
    const open = this.openAlerts.get(dedupKey);
    const at = new Date(atMs).toISOString();
    const values = verdict.recent.map((m) => ({ at: new Date(m.atMs).toISOString(), bad: m.bad, calls: m.calls, value: m.calls > 0 ? m.bad / m.calls : null }));
    if (open) {
      const state = open.state as DetectorAlertState;
      state.calm_points = verdict.firing ? 0 : state.calm_points + 1;
      if (state.calm_points >= this.options.resolveAfterPoints) {
        await this.resolve(open, at, { signal: verdict.rule, rule: verdict.rule, recovered_value: verdict.share, normal_upper: verdict.bandUpper, values, why: verdict.description });
      } else await upsertOpenAlert(this.db, open, at);
      return;
    }
    if (!verdict.firing) {
      this.rateRuns.delete(dedupKey);
      return;
    }
    // As with the other detectors, a page needs the rule to fire on `confirmAfterPoints` minutes in a row.
    const run = (this.rateRuns.get(dedupKey) ?? 0) + 1;
    if (run < this.options.confirmAfterPoints) {
      this.rateRuns.set(dedupKey, run);
      return;
    }
    this.rateRuns.delete(dedupKey);
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
        series,
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
      },
      at,
    };
    await this.raise(alert, { dedupKey, kind: 'detector', service: series.service, state, raisedAt: at });
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

  /** A series that comes back after being evicted gets its detector baselines back from the database. */
  private async restoreDetector(key: string, signal: DetectedSignal): Promise<AnomalyDetector | undefined> {
    const stored = await loadDetectorState(this.db, key, signal);
    if (stored === undefined) return undefined;
    try {
      const detector = this.restoreDetectorState(stored);
      this.detectors.set(`${key}\u0001${signal}`, detector);
      return detector;
    } catch (error) {
      this.log.warn({ err: error, series: key, signal }, 'stored LLM detector state is unusable; relearning');
      return undefined;
    }
  }

  /** Forgets series without calls for a day (and no open bucket), so memory follows the live series, not every series ever seen. */
  private evictIdleSeries(nowMs: number): void {
    if (nowMs - this.lastEvictionMs < 3_600_000) return;
    this.lastEvictionMs = nowMs;
    const busy = new Set<string>();
    for (const bucket of this.open.values()) busy.add(bucket.key);
    for (const [key, series] of this.series) {
      if (series.lastSeenMs >= nowMs - SERIES_IDLE_MS || busy.has(key)) continue;
      this.series.delete(key);
      this.lastClosedStart.delete(key);
      this.pending.delete(key);
      for (const signal of DETECTED_SIGNALS) {
        this.detectors.delete(`${key}\u0001${signal}`);
        this.unconfirmed.delete(detectorDedupKey(series, signal));
      }
      for (const rule of RATE_RULES) {
        this.rateDetectors.delete(`${key}\u0001${rule}`);
        this.rateRuns.delete(detectorDedupKey(series, rule));
      }
    }
  }

  private async onDetection(
    series: SeriesId,
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
      await this.raise(alert, { dedupKey, kind: 'detector', service: series.service, state: waiting.state, raisedAt: at });
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
        series,
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
    await this.raise(alert, { dedupKey, kind: 'detector', service: series.service, state, raisedAt: at });
  }

  private async evaluateSlos(wallMs: number): Promise<void> {
    for (const [service, slos] of this.slosByService) {
      const nowMs = this.eventTimeOf(service, wallMs);
      const at = new Date(nowMs).toISOString();
      for (const { slo, counters } of slos) {
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
        await this.raise(alert, { dedupKey, kind: 'slo', service, state: { level }, raisedAt });
      }
    }
  }

  private async raise(alert: InternalAlert, row: OpenAlertRow): Promise<void> {
    const sink = this.alertSink();
    if (!sink) {
      this.log.warn({ dedupKey: alert.dedupKey, summary: alert.summary }, 'no alert sink installed; LLM alert not delivered');
      return;
    }
    // Telemetry may name a service the catalogue does not have (a resource's service.name): its alerts
    // then go to the service of the integration whose key sent that telemetry.
    const via = this.viaByService.get(alert.service);
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
    if (!this.openAlerts.has(dedupKey)) return;
    this.maintenance = this.maintenance
      .then(async () => {
        if (!this.openAlerts.delete(dedupKey)) return;
        await deleteOpenAlert(this.db, dedupKey);
      })
      .catch((error: unknown) => this.log.error({ err: error, dedupKey }, 'forgetting a resolved LLM alert failed'));
  }

  /** Open alerts raised from LLM telemetry (what the pipeline was told and not yet told to resolve). */
  openAlertKeys(): string[] {
    return [...this.openAlerts.keys()].sort();
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
    for (const record of stored) addTotals(record, record.bucketStartMs, bucketFromRecord(record));
    for (const bucket of this.open.values()) {
      if (bucket.startMs >= fromMs && bucket.startMs < toMs && matches(bucket.series)) addTotals(bucket.series, bucket.startMs, bucket);
    }
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
    const toMs = this.eventTimeOf(filter.service) + 1;
    const fromMs = toMs - windowMinutes * MINUTE_MS;
    // Merge raw totals across series (never average per-series figures), so quantiles keep the sketch's guarantee.
    const merged = new Bucket({ service: filter.service, provider: filter.provider ?? '*', model: filter.model ?? '*' }, fromMs, windowMinutes * 60);
    const range = { fromIso: new Date(fromMs).toISOString(), toIso: new Date(toMs).toISOString(), ...filter };
    await this.ensureQueryable(range);
    const stored = await loadBuckets(this.db, range);
    for (const record of stored) merged.merge(bucketFromRecord(record));
    for (const bucket of this.open.values()) {
      const s = bucket.series;
      const matches = s.service === filter.service && (filter.provider === undefined || s.provider === filter.provider) && (filter.model === undefined || s.model === filter.model);
      if (matches && bucket.startMs >= fromMs && bucket.startMs < toMs) merged.merge(bucket);
    }
    return merged.requests > 0 ? statsOf(merged, windowMinutes * 60) : null;
  }

  async sloStatuses(service?: string): Promise<SloStatus[]> {
    const nowMs = this.clock().getTime();
    const out: SloStatus[] = [];
    for (const [name, slos] of this.slosByService) {
      if (service !== undefined && name !== service) continue;
      const longest = Math.max(...slos.map((s) => s.slo.windowDays));
      const rows = await loadServiceCounts(this.db, name, new Date(nowMs - longest * 86_400_000).toISOString(), new Date(nowMs + MINUTE_MS).toISOString());
      for (const bucket of this.open.values()) {
        if (bucket.series.service === name) rows.push({ bucketStartMs: bucket.startMs, requests: bucket.requests, errors: bucket.errors, latencyWithin: bucket.latencyWithin });
      }
      for (const { slo, counters } of slos) {
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
        const burnRates = evaluateBurnRates(counters, this.eventTimeOf(name, nowMs), slo.objective, slo.minBadEvents);
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
   * Every detector, the signals' anomaly detectors and the series' error-rate and latency rules: its
   * series, points (minutes) learned, whether it is still learning, its latest value, and its open alert.
   */
  detectorStatuses(service?: string): DetectorStatus[] {
    const out: DetectorStatus[] = [];
    for (const [id, rule] of this.rateDetectors) {
      const [key] = id.split('\u0001') as [string];
      const [seriesService, provider, model] = JSON.parse(key) as [string, string, string];
      if (service !== undefined && seriesService !== service) continue;
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
        alert_open: this.openAlerts.has(detectorDedupKey({ service: seriesService, provider, model }, status.rule)),
        firing: status.firing,
        baseline_share: status.baselineShare,
        slower_than_ms: status.slowerThanMs,
      });
    }
    for (const [id, detector] of this.detectors) {
      const [key, signal] = id.split('\u0001') as [string, DetectedSignal];
      const [seriesService, provider, model] = JSON.parse(key) as [string, string, string];
      if (service !== undefined && seriesService !== service) continue;
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
        alert_open: this.openAlerts.has(`llm-detector:${seriesService}:${provider}:${model}:${signal}`),
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

  /** Buckets held in memory now (bounded by `maxOpenBuckets` plus one flush interval). */
  get openBucketCount(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    await this.maintain(true);
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
