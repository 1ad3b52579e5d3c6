import type { Logger } from 'pino';
import { AppError } from '../shared/errors.ts';
import type { AlertSink, InternalAlert } from '../shared/alert-sink.ts';
import type { Database } from '../storage/index.ts';
import { DEFAULT_DETECTOR_CONFIG, createAnomalyDetector, restoreAnomalyDetector, type AnomalyDetector, type AnomalyDetectorConfig } from './detect/index.ts';
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
import { AVAILABILITY_BAD_KINDS, cleanLabel, rejectionReason, type LlmCall, type RejectionReason } from './records.ts';
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
  /** A bucket stays open this long after it ends, for calls that arrive late. */
  graceMs: number;
  /** In-memory buckets; beyond this the oldest are flushed early (memory stays bounded). */
  maxOpenBuckets: number;
  /** Distinct (service, provider, model) series; calls for new series beyond this are refused. */
  maxSeries: number;
  /** A detector point needs at least this many calls (closed buckets are combined until it has them). */
  minCallsPerPoint: number;
  /** Buckets whose availability-bad ratio exceeds this are not fed to the detectors (an outage must not become the baseline). */
  degradedErrorRatio: number;
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
  graceMs: 60_000,
  maxOpenBuckets: 20_000,
  maxSeries: 5_000,
  minCallsPerPoint: 20,
  degradedErrorRatio: 0.1,
  resolveAfterPoints: 10,
  // Two: without it a lone noisy minute paged about once every two weeks per TTFT p95 series
  // (bench/nab/noise-pages.ts --service, against --service --confirm; replay seeds 9 and 12), and a real
  // regression costs one more point to page.
  confirmAfterPoints: 2,
  // Every false page wakes someone: LLM signals are noisier than NAB's series (a point is a few dozen
  // calls), so the runners ask for somewhat stronger evidence than the detector's NAB-tuned default (0.59)
  // and learn for about half a day of points before they may fire. 0.65 was chosen with the context-gated
  // detector and kept with the distribution-shift evidence: the replay test's diurnal traffic stays quiet
  // and the 4x cost spike fires on seeds 1-6 and the fixed seed.
  // The record rule runs as benchmarked (two points in a row beyond the whole history's range, or one far
  // beyond it): lone records just past the extremes, which noisy signals such as TTFT p95 keep setting in
  // their first days, no longer count, so it adds no pages on the replay's diurnal traffic or on noise.
  detector: { threshold: 0.65, learningPoints: 720, alertOnDrops: false },
};

/** Detector settings that are the service's decisions about its signals, applied to stored states too. */
const SERVICE_DECIDED_SETTINGS = ['alertOnDrops', 'recordTolerance', 'recordPoints', 'recordSpikeScales'] as const;

export interface IngestOutcome {
  accepted: number;
  rejections: { index: number; reason: RejectionReason }[];
}

/** Observers of ingest (Prometheus counters); kept as a callback so the service has no metrics dependency. */
export type IngestObserver = (source: 'otlp' | 'json', outcome: string, count: number) => void;

interface PendingPoint {
  totals: Bucket;
  startMs: number;
  endMs: number;
}

/** A detection waiting for the points after it to stay above the normal band before it raises an alert. */
interface UnconfirmedDetection {
  alert: InternalAlert;
  state: DetectorAlertState;
  pointsAbove: number;
}

interface DetectorAlertState extends Record<string, unknown> {
  signal: DetectedSignal;
  baseline: number;
  scale: number;
  normal_upper: number;
  calm_points: number;
}

export interface DetectorStatus {
  service: string;
  provider: string;
  model: string;
  signal: DetectedSignal;
  points: number;
  learning: boolean;
  threshold: number;
  last_value: number | null;
  last_at: string | null;
  alert_open: boolean;
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
  private readonly series = new Map<string, SeriesId & { lastSeenMs: number }>();
  private lastEvictionMs = Number.NEGATIVE_INFINITY;
  private readonly lastClosedStart = new Map<string, number>();
  private readonly pending = new Map<string, PendingPoint>();
  private readonly detectors = new Map<string, AnomalyDetector>();
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
  private maintenance: Promise<void> = Promise.resolve();
  private lastEvaluationMs = Number.NEGATIVE_INFINITY;
  readonly counts = { degradedPointsSkipped: 0, latePartialBuckets: 0, unconfirmedDetections: 0 };

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
        this.detectors.set(`${key}\u0001${signal}`, this.restoreDetectorState(state));
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

  /** Adds calls to the aggregates; implausible ones are refused and counted, never aggregated. */
  ingest(calls: LlmCall[], source: 'otlp' | 'json'): IngestOutcome {
    const nowMs = this.clock().getTime();
    const bucketMs = this.options.bucketSeconds * 1000;
    const rejections: IngestOutcome['rejections'] = [];
    const reasons = new Map<string, number>();
    let accepted = 0;
    for (let index = 0; index < calls.length; index++) {
      // Calls are this service's own conversions of the request, so labels are cleaned in place.
      const call = calls[index]!;
      call.service = cleanLabel(call.service);
      call.provider = cleanLabel(call.provider);
      call.model = cleanLabel(call.model);
      let reason = rejectionReason(call, nowMs);
      const key = reason ? '' : seriesKey(call);
      let known = reason ? undefined : this.series.get(key);
      if (!reason && !known) {
        if (this.series.size >= this.options.maxSeries) reason = 'too_many_series';
        else {
          known = { service: call.service, provider: call.provider, model: call.model, lastSeenMs: call.startedAtMs };
          this.series.set(key, known);
        }
      }
      if (reason) {
        rejections.push({ index, reason });
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        continue;
      }
      const startMs = Math.floor(call.startedAtMs / bucketMs) * bucketMs;
      const bucketId = `${key}\u0001${startMs}`;
      let bucket = this.open.get(bucketId);
      if (!bucket) {
        bucket = new Bucket({ service: call.service, provider: call.provider, model: call.model }, startMs, this.options.bucketSeconds);
        this.open.set(bucketId, bucket);
      }
      if (call.startedAtMs > known!.lastSeenMs) known!.lastSeenMs = call.startedAtMs;
      const watermark = this.watermarks.get(call.service);
      if (!watermark || call.startedAtMs > watermark.eventMs) this.watermarks.set(call.service, { eventMs: Math.min(call.startedAtMs, nowMs), arrivedMs: nowMs });
      bucket.add(call, this.latencyThresholds.get(call.service) ?? []);
      const slos = this.slosByService.get(call.service);
      if (slos) {
        for (const { slo, counters } of slos) {
          if (slo.kind === 'availability') counters.add(call.startedAtMs, 1, call.errorKind && AVAILABILITY_BAD_KINDS.has(call.errorKind) ? 1 : 0);
          else if (call.errorKind === null) counters.add(call.startedAtMs, 1, call.latencyMs > slo.thresholdMs! ? 1 : 0);
        }
      }
      accepted++;
    }
    if (accepted > 0) this.observe(source, 'accepted', accepted);
    for (const [reason, count] of reasons) this.observe(source, `rejected_${reason}`, count);
    return { accepted, rejections };
  }

  /** Spans that were not GenAI calls: accepted, ignored and counted. */
  observeIgnored(count: number): void {
    this.observe('otlp', 'ignored_non_genai', count);
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
    for (const [id, bucket] of this.open) {
      if (force || bucket.startMs + bucket.seconds * 1000 + this.options.graceMs <= nowMs) {
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
          const id = `${seriesKey(bucket.series)}\u0001${bucket.startMs}`;
          const newer = this.open.get(id);
          if (newer) bucket.merge(newer);
          this.open.set(id, bucket);
        }
        throw error;
      }
      const touched = new Set<string>();
      for (const bucket of due) await this.feedDetectors(bucket, touched);
      const states = [...touched].map((id) => {
        const [key, signal] = id.split('\u0001') as [string, string];
        return { seriesKey: key, signal, state: this.detectors.get(id)!.toJSON() };
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
    const key = seriesKey(bucket.series);
    const last = this.lastClosedStart.get(key);
    if (last !== undefined && bucket.startMs <= last) {
      // A late partial bucket: its minute already fed the detectors; it is stored for the statistics only.
      this.counts.latePartialBuckets++;
      return;
    }
    this.lastClosedStart.set(key, bucket.startMs);
    if (bucket.requests > 0 && availabilityBad(bucket.errors) / bucket.requests > this.options.degradedErrorRatio) {
      this.counts.degradedPointsSkipped++;
      this.pending.delete(key);
      return;
    }
    let point = this.pending.get(key);
    if (!point) {
      point = { totals: new Bucket(bucket.series, bucket.startMs, bucket.seconds), startMs: bucket.startMs, endMs: bucket.startMs };
      this.pending.set(key, point);
    }
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
      const detection = detector.update(point.endMs, value);
      touched.add(id);
      if (detection.rejected) continue;
      await this.onDetection(bucket.series, signal, point.endMs, detection, detector);
    }
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
    const decided: Record<string, unknown> = {};
    for (const key of SERVICE_DECIDED_SETTINGS) decided[key] = this.options.detector[key] ?? DEFAULT_DETECTOR_CONFIG[key];
    return restoreAnomalyDetector({ ...stored, config: { ...stored.config, ...decided } });
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
    for (const bucket of this.open.values()) busy.add(seriesKey(bucket.series));
    for (const [key, series] of this.series) {
      if (series.lastSeenMs >= nowMs - SERIES_IDLE_MS || busy.has(key)) continue;
      this.series.delete(key);
      this.lastClosedStart.delete(key);
      this.pending.delete(key);
      for (const signal of DETECTED_SIGNALS) {
        this.detectors.delete(`${key}\u0001${signal}`);
        this.unconfirmed.delete(detectorDedupKey(series, signal));
      }
    }
  }

  private async onDetection(
    series: SeriesId,
    signal: DetectedSignal,
    atMs: number,
    detection: ReturnType<AnomalyDetector['update']>,
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
    const normalUpper = detection.baseline + Math.max(3 * detection.scale, 0.1 * Math.abs(detection.baseline));
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
        value: detection.value,
        values: windowOf(detector),
        baseline: detection.baseline,
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
    await sink.raise(alert);
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

  /** Every detector: its series, signal, points seen and whether it is still learning or has an open alert. */
  detectorStatuses(service?: string): DetectorStatus[] {
    const out: DetectorStatus[] = [];
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

function detectorDedupKey(series: SeriesId, signal: DetectedSignal): string {
  return `llm-detector:${series.service}:${series.provider}:${series.model}:${signal}`;
}

function windowOf(detector: AnomalyDetector): { at: string; value: number }[] {
  return detector.recent().map((p) => ({ at: new Date(p.timestampMs).toISOString(), value: p.value }));
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

function formatMinutes(minutes: number): string {
  return minutes % 1440 === 0 ? `${minutes / 1440} d` : minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}
