/**
 * Streaming anomaly detector for LLM signals without an SLO (cost, tokens, TTFT, safety-flag rate).
 *
 * Pure and synchronous: one `update(timestampMs, value)` per point, O(1) time and a fixed amount of
 * memory per series (three small models, a few counters, a bounded ring of recent points).
 *
 * Design
 * 1. Three forecasters run side by side: a fast EWMA level, an hour-of-day profile (24 buckets) and an
 *    hour-of-week profile (168 buckets). Each keeps an EW mean absolute error; the expected value
 *    (`baseline`) comes from the one that has lately been most accurate, and a seasonal profile may
 *    only be chosen after it has seen two whole periods.
 * 2. The surprise of a point is its distance from the baseline in units of the chosen model's robust
 *    scale (EW mean absolute deviation, floored so that flat series do not divide by zero).
 * 3. Short vs long: an EW short-window mean of the surprise is compared with the long-run mean and
 *    spread of the surprise, so a run of moderately odd points (a noisier or shifted regime) scores as
 *    well as a single spike. Both are z-scores of log-surprise against its own long-run mean and
 *    spread, so heavy-tailed series calibrate themselves. A third piece of evidence is a range
 *    breakout (a value beyond the slowly relaxing remembered extremes). The largest evidence,
 *    squashed into [0, 1), is the anomaly score.
 * 4. Poisoning: every model update is winsorised (residuals clipped at `winsorK` scales), so an
 *    anomalous value moves a baseline by a bounded amount; a genuine level shift is still absorbed,
 *    geometrically, as the clipped residuals widen the scale. NaN, infinite, negative (unless
 *    allowed) and absurd values are counted and ignored without touching the state.
 * 5. No alerts while learning; after an alert the score is damped for `cooldownPoints` points so one
 *    incident pages once (unless it escalates past the score that fired).
 */
import { AppError, validationError } from '../../shared/errors.ts';

export interface AnomalyDetectorConfig {
  /** Points during which nothing is flagged (scores are reported as 0). */
  learningPoints: number;
  /** Score at or above which a point is anomalous, in (0, 1). */
  threshold: number;
  /** EWMA weight of the level forecaster. */
  levelAlpha: number;
  /** EW weight of the scale (mean absolute deviation) estimates. */
  scaleAlpha: number;
  /** EW weight of a seasonal bucket on each visit (early visits use 1/visits). */
  seasonAlpha: number;
  /** EW weight of each model's accuracy, used to choose the baseline model. */
  accuracyAlpha: number;
  /** EW weight of the short window of surprise (about 2/alpha − 1 points). */
  shortAlpha: number;
  /** EW weight of the long-run surprise statistics. */
  longAlpha: number;
  /** Residuals beyond this many scales are clipped before they update a model. */
  winsorK: number;
  /** Scale floor, as a fraction of the long-run typical magnitude of the series. */
  minRelativeScale: number;
  /** Surprise (in scales) that maps to an evidence of 1. */
  pointRef: number;
  /** Short-window surprise excess (in long-run standard deviations) that maps to an evidence of 1. */
  shortRef: number;
  /** Range breakout: a value beyond the recent extremes by this fraction of their range counts as evidence 1 (0 disables). */
  breakoutRef: number;
  /** Per-point decay of the remembered extremes towards the level. */
  extremeDecay: number;
  /** Points after an alert during which the score is damped. */
  cooldownPoints: number;
  /** Factor applied to the score during the cooldown (unless it beats the score that fired). */
  cooldownDamping: number;
  /** Number of recent points kept for the explanation of a detection. */
  recentPoints: number;
  /** Accept negative values (LLM signals are not negative, so by default they are rejected). */
  allowNegative: boolean;
  /** Values whose magnitude exceeds this are rejected as absurd. */
  maxAbsValue: number;
  /** Minutes east of UTC used for hour-of-day / hour-of-week buckets. */
  utcOffsetMinutes: number;
}

export const DEFAULT_DETECTOR_CONFIG: Readonly<AnomalyDetectorConfig> = Object.freeze({
  learningPoints: 300,
  threshold: 0.6,
  levelAlpha: 0.1,
  scaleAlpha: 0.02,
  seasonAlpha: 0.05,
  accuracyAlpha: 0.02,
  shortAlpha: 0.3,
  longAlpha: 0.0005,
  winsorK: 6,
  minRelativeScale: 0.001,
  pointRef: 3.5,
  shortRef: 3,
  breakoutRef: 0.2,
  extremeDecay: 0.0005,
  cooldownPoints: 200,
  cooldownDamping: 0,
  recentPoints: 32,
  allowNegative: false,
  maxAbsValue: 1e15,
  utcOffsetMinutes: 0,
});

export type RejectReason = 'nan' | 'infinite' | 'negative' | 'absurd' | 'bad_timestamp';

export type Model = 'level' | 'daily' | 'weekly';

export interface Detection {
  timestampMs: number;
  value: number;
  /** Anomaly score in [0, 1]; 0 while learning and for ignored input. */
  score: number;
  anomalous: boolean;
  /** Expected value for this point (NaN before the first accepted point). */
  baseline: number;
  /** The threshold the score is compared with. */
  threshold: number;
  /** Robust scale around the baseline (mean absolute deviation units). */
  scale: number;
  /** Which forecaster supplied the baseline. */
  model: Model;
  learning: boolean;
  /** Set when the input was rejected and ignored. */
  rejected?: RejectReason;
  /** The most recent accepted points, oldest first, this one included; filled only when anomalous. */
  recent: readonly RecentPoint[];
}

export interface RecentPoint {
  timestampMs: number;
  value: number;
}

export interface RejectedCounts {
  nan: number;
  infinite: number;
  negative: number;
  absurd: number;
  bad_timestamp: number;
}

export interface AnomalyDetectorState {
  version: 1;
  config: AnomalyDetectorConfig;
  n: number;
  firstTs: number;
  lastTs: number;
  level: number;
  levelScale: number;
  magnitude: number;
  hi: number;
  lo: number;
  dayMean: number[];
  dayScale: number[];
  dayVisits: number[];
  weekMean: number[];
  weekScale: number[];
  weekVisits: number[];
  errLevel: number;
  errDay: number;
  errWeek: number;
  shortSurprise: number;
  longMean: number;
  longVar: number;
  sinceAlert: number;
  alertScore: number;
  alerts: number;
  rejected: RejectedCounts;
  recentTs: number[];
  recentValues: number[];
  recentHead: number;
  recentSize: number;
}

export interface AnomalyDetector {
  update(timestampMs: number, value: number): Detection;
  /** The recent window, oldest first (a copy). */
  recent(): RecentPoint[];
  /** Counters of ignored input, by reason. */
  rejected(): Readonly<RejectedCounts>;
  /** Accepted points so far. */
  readonly count: number;
  readonly config: Readonly<AnomalyDetectorConfig>;
  toJSON(): AnomalyDetectorState;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
const NEVER = 1e9;
const EMPTY: readonly RecentPoint[] = Object.freeze([]);
/** Epoch day 0 (1970-01-01) was a Thursday; shifting by 3 days makes bucket 0 Monday 00:00. */
const WEEK_SHIFT_MS = 3 * DAY_MS;

type NumericKey = Exclude<keyof AnomalyDetectorConfig, 'allowNegative'>;
const RANGES: Record<NumericKey, [number, number, 'int' | 'real']> = {
  learningPoints: [0, 1e9, 'int'],
  threshold: [Number.MIN_VALUE, 1, 'real'],
  levelAlpha: [Number.MIN_VALUE, 1, 'real'],
  scaleAlpha: [Number.MIN_VALUE, 1, 'real'],
  seasonAlpha: [Number.MIN_VALUE, 1, 'real'],
  accuracyAlpha: [Number.MIN_VALUE, 1, 'real'],
  shortAlpha: [Number.MIN_VALUE, 1, 'real'],
  longAlpha: [Number.MIN_VALUE, 1, 'real'],
  winsorK: [1, 1e6, 'real'],
  minRelativeScale: [0, 1, 'real'],
  pointRef: [Number.MIN_VALUE, 1e9, 'real'],
  shortRef: [Number.MIN_VALUE, 1e9, 'real'],
  breakoutRef: [0, 1e9, 'real'],
  extremeDecay: [0, 1, 'real'],
  cooldownPoints: [0, 1e9, 'int'],
  cooldownDamping: [0, 1, 'real'],
  recentPoints: [1, 10_000, 'int'],
  maxAbsValue: [Number.MIN_VALUE, Number.MAX_VALUE, 'real'],
  utcOffsetMinutes: [-24 * 60, 24 * 60, 'int'],
};

/** Merges a partial config over the defaults and validates it (AppError `validation_failed`). */
export function resolveDetectorConfig(partial: Partial<AnomalyDetectorConfig> = {}, fieldPrefix = ''): AnomalyDetectorConfig {
  if (partial === null || typeof partial !== 'object') throw validationError(fieldPrefix || '(root)', 'must be an object');
  const config: AnomalyDetectorConfig = { ...DEFAULT_DETECTOR_CONFIG };
  for (const [key, value] of Object.entries(partial)) {
    const field = fieldPrefix ? `${fieldPrefix}.${key}` : key;
    if (value === undefined) continue;
    if (key === 'allowNegative') {
      if (typeof value !== 'boolean') throw validationError(field, 'must be a boolean');
      config.allowNegative = value;
      continue;
    }
    const range = RANGES[key as NumericKey];
    if (!range) throw validationError(field, 'unknown field');
    const [min, max, kind] = range;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw validationError(field, 'must be a finite number');
    if (kind === 'int' && !Number.isInteger(value)) throw validationError(field, 'must be an integer');
    if (value < min || value > max) throw validationError(field, `must be between ${min} and ${max}`);
    config[key as NumericKey] = value;
  }
  return config;
}

class Detector implements AnomalyDetector {
  readonly config: AnomalyDetectorConfig;
  private n = 0;
  private firstTs = Number.NaN;
  private lastTs = Number.NaN;
  private level = 0;
  private levelScale = 0;
  /** Long-run EW mean of |value|, the yardstick for the scale floor. */
  private magnitude = 0;
  private hi = 0;
  private lo = 0;
  private readonly dayMean = new Float64Array(24);
  private readonly dayScale = new Float64Array(24);
  private readonly dayVisits = new Float64Array(24);
  private readonly weekMean = new Float64Array(168);
  private readonly weekScale = new Float64Array(168);
  private readonly weekVisits = new Float64Array(168);
  private errLevel = 0;
  private errDay = 0;
  private errWeek = 0;
  private shortSurprise = 0;
  private longMean = 0;
  private longVar = 0;
  private sinceAlert = NEVER;
  private alertScore = 0;
  private alerts = 0;
  private readonly rejectedCounts: RejectedCounts = { nan: 0, infinite: 0, negative: 0, absurd: 0, bad_timestamp: 0 };
  private readonly recentTs: Float64Array;
  private readonly recentValues: Float64Array;
  private recentHead = 0;
  private recentSize = 0;
  private readonly offsetMs: number;
  private readonly shortSdFactor: number;

  constructor(config: AnomalyDetectorConfig) {
    this.config = config;
    this.recentTs = new Float64Array(config.recentPoints);
    this.recentValues = new Float64Array(config.recentPoints);
    this.offsetMs = config.utcOffsetMinutes * 60_000;
    this.shortSdFactor = Math.sqrt(config.shortAlpha / (2 - config.shortAlpha));
  }

  get count(): number {
    return this.n;
  }

  rejected(): Readonly<RejectedCounts> {
    return { ...this.rejectedCounts };
  }

  recent(): RecentPoint[] {
    const out: RecentPoint[] = [];
    const cap = this.recentTs.length;
    const start = (this.recentHead - this.recentSize + cap) % cap;
    for (let k = 0; k < this.recentSize; k++) {
      const j = (start + k) % cap;
      out.push({ timestampMs: this.recentTs[j] as number, value: this.recentValues[j] as number });
    }
    return out;
  }

  private reject(timestampMs: number, value: number, reason: RejectReason): Detection {
    this.rejectedCounts[reason]++;
    return {
      timestampMs,
      value,
      score: 0,
      anomalous: false,
      baseline: this.n > 0 ? this.level : Number.NaN,
      threshold: this.config.threshold,
      scale: this.levelScale,
      model: 'level',
      learning: this.n < this.config.learningPoints,
      rejected: reason,
      recent: EMPTY,
    };
  }

  update(timestampMs: number, value: number): Detection {
    const c = this.config;
    if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs)) return this.reject(timestampMs, value, 'bad_timestamp');
    if (typeof value !== 'number' || Number.isNaN(value)) return this.reject(timestampMs, value, 'nan');
    if (!Number.isFinite(value)) return this.reject(timestampMs, value, 'infinite');
    if (value < 0 && !c.allowNegative) return this.reject(timestampMs, value, 'negative');
    if (Math.abs(value) > c.maxAbsValue) return this.reject(timestampMs, value, 'absurd');

    // Ring of recent points.
    const cap = this.recentTs.length;
    this.recentTs[this.recentHead] = timestampMs;
    this.recentValues[this.recentHead] = value;
    this.recentHead = (this.recentHead + 1) % cap;
    if (this.recentSize < cap) this.recentSize++;

    const local = timestampMs + this.offsetMs;
    const hourIndex = Math.floor(local / HOUR_MS);
    const h = ((hourIndex % 24) + 24) % 24;
    const w = (((Math.floor((local + WEEK_SHIFT_MS) / HOUR_MS) % 168) + 168) % 168);

    if (this.n === 0) {
      this.firstTs = timestampMs;
      this.level = value;
      this.magnitude = Math.abs(value);
      this.hi = value;
      this.lo = value;
    }
    const span = timestampMs - this.firstTs;
    this.lastTs = timestampMs;

    // --- Forecasts (before updating with this point) ---
    const floor = c.minRelativeScale * this.magnitude + 1e-12;
    const levelPred = this.level;
    const levelScale = Math.max(this.levelScale, floor);
    const dv = this.dayVisits[h] as number;
    const wv = this.weekVisits[w] as number;
    const dayPred = dv > 0 ? (this.dayMean[h] as number) : levelPred;
    const weekPred = wv > 0 ? (this.weekMean[w] as number) : dayPred;
    const dayScale = dv > 0 ? Math.max(this.dayScale[h] as number, floor) : levelScale;
    const weekScale = wv > 0 ? Math.max(this.weekScale[w] as number, floor) : dayScale;

    let model: Model = 'level';
    let baseline = levelPred;
    let scale = levelScale;
    let bestErr = this.errLevel;
    if (span >= 2 * DAY_MS && dv > 0 && this.errDay < bestErr) {
      model = 'daily';
      baseline = dayPred;
      scale = dayScale;
      bestErr = this.errDay;
    }
    if (span >= 2 * WEEK_MS && wv > 0 && this.errWeek < bestErr) {
      model = 'weekly';
      baseline = weekPred;
      scale = weekScale;
    }

    // --- Surprise and score ---
    const learning = this.n < c.learningPoints;
    const surprise = this.n === 0 ? 0 : Math.min(Math.abs(value - baseline) / scale, 1e3);
    // Standardise log-surprise against its own long-run distribution, so a heavy-tailed series
    // calibrates itself and one threshold fits every series.
    const u = Math.log1p(surprise);
    const sd = Math.sqrt(this.longVar) + 0.05;
    this.shortSurprise += c.shortAlpha * (u - this.shortSurprise);
    const pointZ = (u - this.longMean) / sd;
    const shortZ = (this.shortSurprise - this.longMean) / (sd * this.shortSdFactor);
    let breakout = 0;
    if (c.breakoutRef > 0 && this.n > 0) {
      const range = this.hi - this.lo + floor;
      if (value > this.hi) breakout = (value - this.hi) / range / c.breakoutRef;
      else if (value < this.lo) breakout = (this.lo - value) / range / c.breakoutRef;
    }
    const evidence = Math.max(pointZ / c.pointRef, shortZ / c.shortRef, breakout, 0);
    let score = evidence / (1 + evidence);

    // Long-run statistics of log-surprise, winsorised.
    {
      const capU = this.longMean + c.winsorK * sd;
      const ul = u > capU ? capU : u;
      const d = ul - this.longMean;
      const a = Math.max(c.longAlpha, 1 / (this.n + 1));
      this.longMean += a * d;
      this.longVar = (1 - a) * (this.longVar + a * d * d);
    }

    // --- Model updates, winsorised ---
    const early = this.n < 10;
    const a0 = early ? 1 / (this.n + 1) : 0;
    // Accuracy of each forecaster (absolute error, clipped).
    if (this.n > 0) {
      const clipAbs = c.winsorK * levelScale;
      const eL = Math.min(Math.abs(value - levelPred), clipAbs);
      const eD = Math.min(Math.abs(value - dayPred), clipAbs);
      const eW = Math.min(Math.abs(value - weekPred), clipAbs);
      const aa = Math.max(c.accuracyAlpha, 1 / this.n);
      this.errLevel += aa * (eL - this.errLevel);
      this.errDay += aa * (eD - this.errDay);
      this.errWeek += aa * (eW - this.errWeek);
    }
    this.magnitude += Math.max(c.longAlpha, a0) * (Math.abs(value) - this.magnitude);
    {
      const r = value - levelPred;
      const lim = early ? Number.POSITIVE_INFINITY : c.winsorK * levelScale;
      const rc = r > lim ? lim : r < -lim ? -lim : r;
      this.level += Math.max(c.levelAlpha, a0) * rc;
      const ar = Math.abs(rc);
      this.levelScale += Math.max(c.scaleAlpha, a0) * (ar - this.levelScale);
    }
    // Remembered extremes: widened by new values at once, relaxed slowly towards the level.
    this.hi = value > this.hi ? value : this.hi - c.extremeDecay * (this.hi - this.level);
    this.lo = value < this.lo ? value : this.lo + c.extremeDecay * (this.level - this.lo);
    this.updateBucket(this.dayMean, this.dayScale, this.dayVisits, h, value, floor);
    this.updateBucket(this.weekMean, this.weekScale, this.weekVisits, w, value, floor);
    this.n++;

    // --- Decision ---
    if (learning) score = 0;
    if (this.sinceAlert < NEVER) this.sinceAlert++;
    if (this.sinceAlert <= c.cooldownPoints) score *= c.cooldownDamping;
    const anomalous = score >= c.threshold;
    if (anomalous) {
      this.sinceAlert = 0;
      this.alertScore = score;
      this.alerts++;
    }
    return {
      timestampMs,
      value,
      score,
      anomalous,
      baseline,
      threshold: c.threshold,
      scale,
      model,
      learning,
      recent: anomalous ? this.recent() : EMPTY,
    };
  }

  private updateBucket(mean: Float64Array, scale: Float64Array, visits: Float64Array, b: number, value: number, floor: number): void {
    const v = visits[b] as number;
    if (v === 0) {
      mean[b] = value;
      scale[b] = Math.max(this.levelScale, floor);
      visits[b] = 1;
      return;
    }
    const a = Math.max(this.config.seasonAlpha, 1 / (v + 1));
    const m = mean[b] as number;
    const s = Math.max(scale[b] as number, floor);
    const r = value - m;
    const lim = this.config.winsorK * s;
    const rc = r > lim ? lim : r < -lim ? -lim : r;
    mean[b] = m + a * rc;
    scale[b] = (scale[b] as number) + a * (Math.abs(rc) - (scale[b] as number));
    visits[b] = v + 1;
  }

  toJSON(): AnomalyDetectorState {
    return {
      version: 1,
      config: { ...this.config },
      n: this.n,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      level: this.level,
      levelScale: this.levelScale,
      magnitude: this.magnitude,
      hi: this.hi,
      lo: this.lo,
      dayMean: Array.from(this.dayMean),
      dayScale: Array.from(this.dayScale),
      dayVisits: Array.from(this.dayVisits),
      weekMean: Array.from(this.weekMean),
      weekScale: Array.from(this.weekScale),
      weekVisits: Array.from(this.weekVisits),
      errLevel: this.errLevel,
      errDay: this.errDay,
      errWeek: this.errWeek,
      shortSurprise: this.shortSurprise,
      longMean: this.longMean,
      longVar: this.longVar,
      sinceAlert: this.sinceAlert,
      alertScore: this.alertScore,
      alerts: this.alerts,
      rejected: { ...this.rejectedCounts },
      recentTs: Array.from(this.recentTs),
      recentValues: Array.from(this.recentValues),
      recentHead: this.recentHead,
      recentSize: this.recentSize,
    };
  }

  /** Loads a validated state. */
  load(s: AnomalyDetectorState): void {
    this.n = s.n;
    this.firstTs = s.firstTs;
    this.lastTs = s.lastTs;
    this.level = s.level;
    this.levelScale = s.levelScale;
    this.magnitude = s.magnitude;
    this.hi = s.hi;
    this.lo = s.lo;
    this.dayMean.set(s.dayMean);
    this.dayScale.set(s.dayScale);
    this.dayVisits.set(s.dayVisits);
    this.weekMean.set(s.weekMean);
    this.weekScale.set(s.weekScale);
    this.weekVisits.set(s.weekVisits);
    this.errLevel = s.errLevel;
    this.errDay = s.errDay;
    this.errWeek = s.errWeek;
    this.shortSurprise = s.shortSurprise;
    this.longMean = s.longMean;
    this.longVar = s.longVar;
    this.sinceAlert = s.sinceAlert;
    this.alertScore = s.alertScore;
    this.alerts = s.alerts;
    Object.assign(this.rejectedCounts, s.rejected);
    this.recentTs.set(s.recentTs);
    this.recentValues.set(s.recentValues);
    this.recentHead = s.recentHead;
    this.recentSize = s.recentSize;
  }
}

export function createAnomalyDetector(config: Partial<AnomalyDetectorConfig> = {}): AnomalyDetector {
  return new Detector(resolveDetectorConfig(config));
}

const NUMBER_FIELDS = [
  'n',
  'level',
  'levelScale',
  'magnitude',
  'hi',
  'lo',
  'errLevel',
  'errDay',
  'errWeek',
  'shortSurprise',
  'longMean',
  'longVar',
  'sinceAlert',
  'alertScore',
  'alerts',
  'recentHead',
  'recentSize',
] as const;

/** Rebuilds a detector from `toJSON()` output (e.g. after JSON.stringify/parse); validates the shape. */
export function restoreAnomalyDetector(state: unknown): AnomalyDetector {
  if (state === null || typeof state !== 'object') throw validationError('(root)', 'must be an object');
  const s = state as Record<string, unknown>;
  if (s.version !== 1) throw validationError('version', 'must be 1');
  const config = resolveDetectorConfig(s.config as Partial<AnomalyDetectorConfig>, 'config');
  for (const f of NUMBER_FIELDS) {
    if (typeof s[f] !== 'number' || !Number.isFinite(s[f])) throw validationError(f, 'must be a finite number');
  }
  for (const f of ['firstTs', 'lastTs'] as const) {
    // NaN becomes null through JSON for a detector that has seen nothing yet.
    if (s[f] === null) s[f] = Number.NaN;
    else if (typeof s[f] !== 'number') throw validationError(f, 'must be a number or null');
  }
  const arrays: [string, number][] = [
    ['dayMean', 24],
    ['dayScale', 24],
    ['dayVisits', 24],
    ['weekMean', 168],
    ['weekScale', 168],
    ['weekVisits', 168],
    ['recentTs', config.recentPoints],
    ['recentValues', config.recentPoints],
  ];
  for (const [f, len] of arrays) {
    const a = s[f];
    if (!Array.isArray(a) || a.length !== len || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw validationError(f, `must be an array of ${len} finite numbers`);
    }
  }
  const size = s.recentSize as number;
  const head = s.recentHead as number;
  if (size < 0 || size > config.recentPoints || head < 0 || head >= config.recentPoints || !Number.isInteger(head)) {
    throw validationError('recentHead', 'is out of range');
  }
  const rej = s.rejected as Record<string, unknown> | null;
  if (rej === null || typeof rej !== 'object') throw validationError('rejected', 'must be an object');
  for (const k of ['nan', 'infinite', 'negative', 'absurd', 'bad_timestamp']) {
    if (typeof rej[k] !== 'number') throw validationError(`rejected.${k}`, 'must be a number');
  }
  if ((s.longVar as number) < 0 || (s.n as number) < 0) throw new AppError('validation_failed', 'state is inconsistent', { field: 'longVar' });
  const d = new Detector(config);
  d.load(s as unknown as AnomalyDetectorState);
  return d;
}
