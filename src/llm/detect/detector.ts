/**
 * Streaming anomaly detector for one numeric series (LLM cost, tokens/s, TTFT p95, safety-flag rate;
 * every NAB file). Pure and synchronous: `update(timestampMs, value)` once per point, O(1) time and a
 * fixed amount of memory per series. It ships as `DEFAULT_DETECTOR_CONFIG`; the fields a tuning
 * procedure may move, and over what values, are `DETECTOR_TUNING_SPACE` (space.ts).
 *
 * Per point:
 * 1. Forecast. An EWMA level, an hour-of-day and an hour-of-week profile run side by side, each with
 *    an EW mean absolute error; the one lately most accurate gives the baseline and its scale (a
 *    seasonal one only once the series spans two of its periods).
 * 2. Evidence, one number per rule, where 1 means "clearly odd":
 *    - point: the log-surprise ln(1 + |value − baseline| / scale) as a z-score against its own long-run
 *      distribution, so a heavy-tailed series calibrates itself;
 *    - short_window: the same for a short EW mean of the log-surprise (a run of moderately odd points);
 *    - breakout: how far the value is beyond the slowly relaxing recent extremes.
 * 3. Rarity. Each rule's evidence is capped by how rare that much of it has been in this series
 *    (−log10 of its tail share in an EW histogram of the rule's past evidence): a series whose spikes
 *    are routine must spike harder to alert, and a lone point harder than a run (`pointRarityRef`).
 * 4. Context. The strongest capped evidence is scaled between `contextGate` and `contextBoost` by how
 *    novel the recent shape is (a hashed table of which quantised level followed which short history):
 *    a recurring shape alerts less, a new one more.
 * 5. Record. `recordPoints` (2) values in a row beyond the whole history's range by `recordTolerance` of it score 1
 *    once the series spans two days. A lone record does not: noise keeps setting them just past its
 *    extremes, while a new regime or a real spike does not stop at one point.
 * 6. Decision. Score = evidence / (1 + evidence), anomalous at ≥ `threshold`. Nothing fires while
 *    learning; after an alert the score is damped for `cooldownPoints` points (at most
 *    `cooldownMaxMinutes`, so an hourly series is not muted for days): one incident, one page.
 * 7. Learning. Every model update is winsorised (residuals clipped at `winsorK` scales), so an anomaly
 *    moves a baseline by a bounded amount. NaN, infinite, negative (unless allowed) and absurd values
 *    are counted and ignored.
 * Each rule stays because removing it costs at least one NAB standard point (BENCHMARKS.md).
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
  /** Rarity: each channel's evidence must also be rare in the series' own history of it; tail probability 10^-rarityRef maps to 1 (0 disables rarity). */
  rarityRef: number;
  /** Rarity reference of the single-point channel (a lone odd point must be rarer than a run of them). */
  pointRarityRef: number;
  /** EW decay of the evidence histogram used for rarity. */
  rarityAlpha: number;
  /** Context model: bits of the value quantisation (2^bits levels over the range seen so far). */
  contextBits: number;
  /** Context model: longest history (in points) whose continuation is remembered. */
  contextOrder: number;
  /** Context model: log2 of the number of slots of the fixed-size context table. */
  contextTableBits: number;
  /** Evidence factor for a fully predicted point; a fully novel point gets `contextBoost` (gate 1 and boost 1 disable). */
  contextGate: number;
  /** Evidence factor for a point no remembered context predicted. */
  contextBoost: number;
  /** Per-point decay of remembered novelty, so evidence that builds up over a few points still sees it. */
  contextMemory: number;
  /** Record: a value beyond the whole history's range by this fraction of the range scores 1 (0 disables). */
  recordTolerance: number;
  /** Record: consecutive points beyond the range seen before the first of them that make a record (1: any point beyond it). */
  recordPoints: number;
  /** Points after an alert during which the score is damped. */
  cooldownPoints: number;
  /** The cooldown also ends this many minutes (event time) after the alert, whichever comes first (0: no limit). */
  cooldownMaxMinutes: number;
  /** Factor applied to the score during the cooldown. */
  cooldownDamping: number;
  /** Number of recent points kept for the explanation of a detection. */
  recentPoints: number;
  /** Accept negative values (LLM signals are not negative, so by default they are rejected). */
  allowNegative: boolean;
  /**
   * Whether a point below the baseline may be anomalous. False for signals that only hurt when they rise
   * (cost, latency): a drop neither alerts nor starts the cooldown that would mute a rise right after it.
   */
  alertOnDrops: boolean;
  /** Values whose magnitude exceeds this are rejected as absurd. */
  maxAbsValue: number;
  /** Minutes east of UTC used for hour-of-day / hour-of-week buckets. */
  utcOffsetMinutes: number;
}

/**
 * The one configuration: the service runs it on every LLM signal and every benchmark scores it. The
 * tuned fields (`DETECTOR_TUNING_SPACE`) and the threshold are what `bench/nab/tune.ts --procedure`
 * chose over the whole NAB corpus; the rest are structural constants of the algorithm.
 */
export const DEFAULT_DETECTOR_CONFIG: Readonly<AnomalyDetectorConfig> = Object.freeze({
  learningPoints: 200,
  threshold: 0.55,
  levelAlpha: 0.1,
  scaleAlpha: 0.02,
  seasonAlpha: 0.05,
  accuracyAlpha: 0.02,
  shortAlpha: 0.15,
  longAlpha: 0.0005,
  winsorK: 6,
  minRelativeScale: 0.001,
  pointRef: 5,
  shortRef: 5.5,
  breakoutRef: 0.2,
  extremeDecay: 0.0005,
  rarityRef: 1.15,
  pointRarityRef: 3,
  rarityAlpha: 0.001,
  contextBits: 3,
  contextOrder: 6,
  contextTableBits: 13,
  contextGate: 0.75,
  contextBoost: 2,
  contextMemory: 0.8,
  recordTolerance: 0.02,
  recordPoints: 2,
  cooldownPoints: 200,
  cooldownMaxMinutes: 48 * 60,
  cooldownDamping: 0,
  recentPoints: 32,
  allowNegative: false,
  alertOnDrops: true,
  maxAbsValue: 1e15,
  utcOffsetMinutes: 0,
});

export type RejectReason = 'nan' | 'infinite' | 'negative' | 'absurd' | 'bad_timestamp';

export type Model = 'level' | 'daily' | 'weekly';

/**
 * The evidence channels, each a rule a detection can fire on: one point far from the baseline, a run of
 * moderately odd points, a value beyond the recent extremes, values beyond the whole history's range.
 */
export type DetectorRule = 'point' | 'short_window' | 'breakout' | 'record';

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
  /** The evidence that gave the score: the rule a detection fired on. */
  rule: DetectorRule;
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
  /**
   * Per-channel evidence histograms for rarity (point, short, breakout; 64 bins apiece), their totals
   * and the shared gain. Absent in older states: they start empty. States saved while the detector had a
   * fourth channel (distribution shift) carry its histogram last: it is dropped on restore.
   */
  channelRarityHist?: number[];
  channelRarityTotal?: number[];
  rarityGain?: number;
  /** The single evidence histogram of states saved before rarity was per channel: accepted, not used. */
  rarityHist?: number[];
  rarityTotal?: number;
  /** Context model (absent in older states: starts empty). */
  ctxLo?: number;
  ctxHi?: number;
  ctxHistory?: number;
  ctxLength?: number;
  ctxNovelty?: number;
  ctxShort?: number;
  ctxMean?: number;
  ctxVar?: number;
  ctxTable?: number[];
  /** Record run and the bounds it is judged against (absent in older states: no run under way). */
  recordRun?: number;
  recordHi?: number;
  recordLo?: number;
  sinceAlert: number;
  /** Event time of the last alert (absent in older states: the cooldown's time limit counts from the restore). */
  alertTs?: number;
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
const RARITY_BINS = 64;
const RARITY_CHANNELS = 3;
/** Channels of states saved when the distribution-shift rule still had one. */
const LEGACY_RARITY_CHANNELS = 4;
const RARITY_POINT = 0;
const RARITY_SHORT = 1;
const RARITY_BREAKOUT = 2;
const RARITY_PER_UNIT = 8;
const EMPTY: readonly RecentPoint[] = Object.freeze([]);
/** Epoch day 0 (1970-01-01) was a Thursday; shifting by 3 days makes bucket 0 Monday 00:00. */
const WEEK_SHIFT_MS = 3 * DAY_MS;

/** The forecasters' predictions for one point and the baseline chosen among them. */
interface Forecast {
  hour: number;
  weekHour: number;
  /** Scale floor for this point. */
  floor: number;
  levelPred: number;
  levelScale: number;
  dayPred: number;
  weekPred: number;
  model: Model;
  baseline: number;
  scale: number;
}

/** Log-surprise of one point and the long-run spread it is standardised by. */
interface Surprise {
  u: number;
  sd: number;
}

type NumericKey = Exclude<keyof AnomalyDetectorConfig, 'allowNegative' | 'alertOnDrops'>;
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
  rarityRef: [0, 1e9, 'real'],
  pointRarityRef: [Number.MIN_VALUE, 1e9, 'real'],
  recordTolerance: [0, 1e6, 'real'],
  recordPoints: [1, 1000, 'int'],
  rarityAlpha: [Number.MIN_VALUE, 1, 'real'],
  contextBits: [1, 4, 'int'],
  contextOrder: [1, 7, 'int'],
  contextTableBits: [4, 20, 'int'],
  contextGate: [0, 1, 'real'],
  contextBoost: [0, 1e3, 'real'],
  contextMemory: [0, 1, 'real'],
  cooldownPoints: [0, 1e9, 'int'],
  cooldownMaxMinutes: [0, 1e9, 'real'],
  cooldownDamping: [0, 1, 'real'],
  recentPoints: [1, 10_000, 'int'],
  maxAbsValue: [Number.MIN_VALUE, Number.MAX_VALUE, 'real'],
  utcOffsetMinutes: [-24 * 60, 24 * 60, 'int'],
};

/** Fields of configurations saved by earlier versions whose rule is gone: accepted from stored states, ignored. */
const RETIRED_FIELDS = new Set(['contextZRef', 'shiftZRef', 'shiftShortAlpha', 'shiftLongAlpha', 'recordSpikeScales']);

/** Merges a partial config over the defaults and validates it (AppError `validation_failed`). */
export function resolveDetectorConfig(partial: Partial<AnomalyDetectorConfig> = {}, fieldPrefix = ''): AnomalyDetectorConfig {
  if (partial === null || typeof partial !== 'object') throw validationError(fieldPrefix || '(root)', 'must be an object');
  const config: AnomalyDetectorConfig = { ...DEFAULT_DETECTOR_CONFIG };
  for (const [key, value] of Object.entries(partial)) {
    const field = fieldPrefix ? `${fieldPrefix}.${key}` : key;
    if (value === undefined || RETIRED_FIELDS.has(key)) continue;
    if (key === 'allowNegative' || key === 'alertOnDrops') {
      if (typeof value !== 'boolean') throw validationError(field, 'must be a boolean');
      config[key] = value;
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
  /** One evidence histogram per channel (point, short, breakout), RARITY_BINS apiece. */
  private readonly rarityHist = new Float64Array(RARITY_CHANNELS * RARITY_BINS);
  private readonly rarityTotal = new Float64Array(RARITY_CHANNELS);
  /** Scale of the stored counts (true count = stored / gain). */
  private rarityGain = 1;
  private ctxLo = 0;
  private ctxHi = 0;
  /** The last `contextOrder` quantised values, packed `contextBits` apiece (newest in the low bits). */
  private ctxHistory = 0;
  private ctxLength = 0;
  /** Novelty of recent points, decayed by `contextMemory` per point. */
  private ctxNovelty = 0;
  /** Points in a row beyond the record bounds (negative: below), and the bounds taken before the run began. */
  private recordRun = 0;
  private recordHi = 0;
  private recordLo = 0;
  /** Hashed (history → bit-facts seen next) table; each slot is a mask of 2 × contextBits facts. */
  private readonly ctxTable: Uint8Array;
  private sinceAlert = NEVER;
  private alertScore = 0;
  private alertTs = Number.NaN;
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
    this.ctxTable = new Uint8Array(1 << config.contextTableBits);
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
      rule: 'point',
      learning: this.n < this.config.learningPoints,
      rejected: reason,
      recent: EMPTY,
    };
  }

  update(timestampMs: number, value: number): Detection {
    const c = this.config;
    const reason = this.rejectReason(timestampMs, value);
    if (reason) return this.reject(timestampMs, value, reason);
    this.remember(timestampMs, value);
    if (this.n === 0) this.start(timestampMs, value);
    const span = timestampMs - this.firstTs;
    this.lastTs = timestampMs;
    const learning = this.n < c.learningPoints;

    const forecast = this.forecast(timestampMs, span);
    const surprise = this.surprise(value, forecast.baseline, forecast.scale);
    const strongest = this.strongestEvidence(value, surprise, forecast.floor, learning);
    const record = this.recordStep(value, span);
    const evidence = strongest.evidence * this.contextFactor(value);
    if (c.rarityRef > 0) this.rarityAdvance();
    this.learn(value, forecast, surprise);

    const score = this.damped(learning ? 0 : record ? 1 : evidence / (1 + evidence), timestampMs);
    const anomalous = score >= c.threshold && (c.alertOnDrops || value > forecast.baseline);
    if (anomalous) {
      this.sinceAlert = 0;
      this.alertTs = timestampMs;
      this.alertScore = score;
      this.alerts++;
    }
    return {
      timestampMs,
      value,
      score,
      anomalous,
      baseline: forecast.baseline,
      threshold: c.threshold,
      scale: forecast.scale,
      model: forecast.model,
      rule: record ? 'record' : strongest.rule,
      learning,
      recent: anomalous ? this.recent() : EMPTY,
    };
  }

  private rejectReason(timestampMs: number, value: number): RejectReason | null {
    if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs)) return 'bad_timestamp';
    if (typeof value !== 'number' || Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return 'infinite';
    if (value < 0 && !this.config.allowNegative) return 'negative';
    if (Math.abs(value) > this.config.maxAbsValue) return 'absurd';
    return null;
  }

  /** Adds the point to the ring of recent points an explanation shows. */
  private remember(timestampMs: number, value: number): void {
    const cap = this.recentTs.length;
    this.recentTs[this.recentHead] = timestampMs;
    this.recentValues[this.recentHead] = value;
    this.recentHead = (this.recentHead + 1) % cap;
    if (this.recentSize < cap) this.recentSize++;
  }

  private start(timestampMs: number, value: number): void {
    this.firstTs = timestampMs;
    this.level = value;
    this.magnitude = Math.abs(value);
    this.hi = value;
    this.lo = value;
    this.ctxLo = value;
    this.ctxHi = value;
  }

  /** Step 1: each forecaster's prediction for this point, and the baseline of the one lately most accurate. */
  private forecast(timestampMs: number, span: number): Forecast {
    const local = timestampMs + this.offsetMs;
    const hour = (((Math.floor(local / HOUR_MS) % 24) + 24) % 24);
    const weekHour = (((Math.floor((local + WEEK_SHIFT_MS) / HOUR_MS) % 168) + 168) % 168);
    const floor = this.config.minRelativeScale * this.magnitude + 1e-12;
    const levelPred = this.level;
    const levelScale = Math.max(this.levelScale, floor);
    const dv = this.dayVisits[hour] as number;
    const wv = this.weekVisits[weekHour] as number;
    const dayPred = dv > 0 ? (this.dayMean[hour] as number) : levelPred;
    const weekPred = wv > 0 ? (this.weekMean[weekHour] as number) : dayPred;
    const dayScale = dv > 0 ? Math.max(this.dayScale[hour] as number, floor) : levelScale;
    const weekScale = wv > 0 ? Math.max(this.weekScale[weekHour] as number, floor) : dayScale;
    const f: Forecast = { hour, weekHour, floor, levelPred, levelScale, dayPred, weekPred, model: 'level', baseline: levelPred, scale: levelScale };
    let bestErr = this.errLevel;
    if (span >= 2 * DAY_MS && dv > 0 && this.errDay < bestErr) {
      f.model = 'daily';
      f.baseline = dayPred;
      f.scale = dayScale;
      bestErr = this.errDay;
    }
    if (span >= 2 * WEEK_MS && wv > 0 && this.errWeek < bestErr) {
      f.model = 'weekly';
      f.baseline = weekPred;
      f.scale = weekScale;
    }
    return f;
  }

  /** Log-surprise of the value against the baseline, with the long-run spread it is standardised by. */
  private surprise(value: number, baseline: number, scale: number): Surprise {
    const ratio = this.n === 0 ? 0 : Math.min(Math.abs(value - baseline) / scale, 1e3);
    const u = Math.log1p(ratio);
    this.shortSurprise += this.config.shortAlpha * (u - this.shortSurprise);
    return { u, sd: Math.sqrt(this.longVar) + 0.05 };
  }

  /** Steps 2 and 3: each rule's evidence, capped by its rarity in this series; the strongest wins. */
  private strongestEvidence(value: number, s: Surprise, floor: number, learning: boolean): { evidence: number; rule: DetectorRule } {
    const c = this.config;
    const pointZ = (s.u - this.longMean) / s.sd;
    const shortZ = (this.shortSurprise - this.longMean) / (s.sd * this.shortSdFactor);
    let breakout = 0;
    if (c.breakoutRef > 0 && this.n > 0) {
      const range = this.hi - this.lo + floor;
      if (value > this.hi) breakout = (value - this.hi) / range / c.breakoutRef;
      else if (value < this.lo) breakout = (this.lo - value) / range / c.breakoutRef;
    }
    const candidates: [DetectorRule, number, number, number][] = [
      ['point', RARITY_POINT, Math.max(pointZ / c.pointRef, 0), c.pointRarityRef],
      ['short_window', RARITY_SHORT, Math.max(shortZ / c.shortRef, 0), c.rarityRef],
      ['breakout', RARITY_BREAKOUT, breakout, c.rarityRef],
    ];
    let best = { evidence: 0, rule: 'point' as DetectorRule };
    for (const [rule, channel, raw, ref] of candidates) {
      const capped = c.rarityRef > 0 ? this.rarityCap(channel, raw, learning, ref) : raw;
      if (capped > best.evidence || (rule === 'point' && best.evidence === 0)) best = { evidence: capped, rule };
    }
    return best;
  }

  /**
   * Step 5: a record is the `recordPoints`-th value in a row beyond the whole history's range (widened
   * by `recordTolerance` of it), judged against the range before the run's first point widened it.
   */
  private recordStep(value: number, span: number): boolean {
    const c = this.config;
    const rangeSeen = this.ctxHi - this.ctxLo;
    if (!(c.recordTolerance > 0 && rangeSeen > 0 && span >= 2 * DAY_MS)) {
      this.recordRun = 0;
      return false;
    }
    if (this.recordRun === 0) {
      this.recordHi = this.ctxHi + c.recordTolerance * rangeSeen;
      this.recordLo = this.ctxLo - c.recordTolerance * rangeSeen;
    }
    const side = value > this.recordHi ? 1 : value < this.recordLo ? -1 : 0;
    const before = side !== 0 && Math.sign(this.recordRun) === side ? Math.abs(this.recordRun) : 0;
    // A run makes one record: its later points (counted up to recordPoints + 1) are past it.
    const record = side !== 0 && before + 1 === c.recordPoints;
    this.recordRun = side * Math.min(before + 1, c.recordPoints + 1);
    return record;
  }

  /** Step 4: the evidence factor, from `contextGate` (a shape seen before) to `contextBoost` (a new one). */
  private contextFactor(value: number): number {
    const c = this.config;
    const novelty = (this.ctxNovelty = Math.max(this.contextStep(value), this.ctxNovelty * c.contextMemory));
    return c.contextGate + (c.contextBoost - c.contextGate) * novelty;
  }

  /** Step 7: the point updates the surprise statistics, the forecasters and their accuracy, winsorised. */
  private learn(value: number, f: Forecast, s: Surprise): void {
    const c = this.config;
    {
      const capU = this.longMean + c.winsorK * s.sd;
      const d = (s.u > capU ? capU : s.u) - this.longMean;
      const a = Math.max(c.longAlpha, 1 / (this.n + 1));
      this.longMean += a * d;
      this.longVar = (1 - a) * (this.longVar + a * d * d);
    }
    const early = this.n < 10;
    const a0 = early ? 1 / (this.n + 1) : 0;
    if (this.n > 0) {
      const clipAbs = c.winsorK * f.levelScale;
      const aa = Math.max(c.accuracyAlpha, 1 / this.n);
      this.errLevel += aa * (Math.min(Math.abs(value - f.levelPred), clipAbs) - this.errLevel);
      this.errDay += aa * (Math.min(Math.abs(value - f.dayPred), clipAbs) - this.errDay);
      this.errWeek += aa * (Math.min(Math.abs(value - f.weekPred), clipAbs) - this.errWeek);
    }
    this.magnitude += Math.max(c.longAlpha, a0) * (Math.abs(value) - this.magnitude);
    const r = value - f.levelPred;
    const lim = early ? Number.POSITIVE_INFINITY : c.winsorK * f.levelScale;
    const rc = r > lim ? lim : r < -lim ? -lim : r;
    this.level += Math.max(c.levelAlpha, a0) * rc;
    this.levelScale += Math.max(c.scaleAlpha, a0) * (Math.abs(rc) - this.levelScale);
    // Remembered extremes: widened by new values at once, relaxed slowly towards the level.
    this.hi = value > this.hi ? value : this.hi - c.extremeDecay * (this.hi - this.level);
    this.lo = value < this.lo ? value : this.lo + c.extremeDecay * (this.level - this.lo);
    this.updateBucket(this.dayMean, this.dayScale, this.dayVisits, f.hour, value, f.floor);
    this.updateBucket(this.weekMean, this.weekScale, this.weekVisits, f.weekHour, value, f.floor);
    this.n++;
  }

  /** Step 6: the cooldown after an alert, which ends after `cooldownPoints` points or `cooldownMaxMinutes`. */
  private damped(score: number, timestampMs: number): number {
    const c = this.config;
    if (this.sinceAlert < NEVER) this.sinceAlert++;
    if (this.sinceAlert > c.cooldownPoints) return score;
    if (c.cooldownMaxMinutes > 0 && timestampMs - this.alertTs > c.cooldownMaxMinutes * 60_000) {
      this.sinceAlert = c.cooldownPoints + 1;
      return score;
    }
    return score * c.cooldownDamping;
  }

  /**
   * Rarity of one channel's evidence: its tail share in the channel's EW histogram (64 bins of 1/8),
   * as -log10(share) / `ref`, caps the evidence; the evidence is then counted in. Counts are kept
   * multiplied by a growing gain (shared by the channels, advanced once a point by `rarityAdvance`)
   * instead of decaying every bin at every point.
   */
  private rarityCap(channel: number, evidence: number, learning: boolean, ref: number): number {
    const hist = this.rarityHist;
    const o = channel * RARITY_BINS;
    if (evidence <= 0) {
      // The most common case (breakout is mostly 0): counted in bin 0, capped at 0 anyway.
      if (2 * this.n >= this.config.learningPoints) {
        const gain = this.rarityGain / (1 - this.config.rarityAlpha);
        hist[o] = (hist[o] as number) + gain;
        this.rarityTotal[channel] = (this.rarityTotal[channel] as number) + gain;
      }
      return 0;
    }
    const bin = Math.min(RARITY_BINS - 1, Math.floor(evidence * RARITY_PER_UNIT));
    const total = this.rarityTotal[channel] as number;
    let tail = 0;
    if (bin < RARITY_BINS / 2) {
      let head = 0;
      for (let k = 0; k < bin; k++) head += hist[o + k] as number;
      tail = Math.max(total - head, 0);
    } else {
      for (let k = bin; k < RARITY_BINS; k++) tail += hist[o + k] as number;
    }
    const g = this.rarityGain;
    const rarity = -Math.log10((tail + g) / (total + g));
    // The first half of the learning period compares points with statistics that barely exist yet;
    // their evidence is noise, and counting it would make real anomalies just after learning look routine.
    if (2 * this.n >= this.config.learningPoints) {
      const gain = g / (1 - this.config.rarityAlpha);
      hist[o + bin] = (hist[o + bin] as number) + gain;
      this.rarityTotal[channel] = total + gain;
    }
    return learning ? evidence : Math.min(evidence, rarity / ref);
  }

  /** One point has passed: every rarity count decays by `rarityAlpha` (the gain grows instead). */
  private rarityAdvance(): void {
    const gain = this.rarityGain / (1 - this.config.rarityAlpha);
    this.rarityGain = gain;
    if (gain > 1e100) {
      const hist = this.rarityHist;
      for (let k = 0; k < hist.length; k++) hist[k] = (hist[k] as number) / gain;
      for (let k = 0; k < RARITY_CHANNELS; k++) this.rarityTotal[k] = (this.rarityTotal[k] as number) / gain;
      this.rarityGain = 1;
    }
  }

  /**
   * Contextual novelty in the style of CAD-OSE: the value is quantised into 2^bits levels over the
   * range seen so far and written as bit-facts (bit j is 0 or 1: 2 × bits facts, bits of them true).
   * Each history of the last 1..order levels remembers which facts have followed it; the novelty is the
   * share of the current facts that the histories did not predict, averaged over the orders. Memory is
   * a fixed hashed table, so old or colliding histories only ever make a point look less novel.
   */
  private contextStep(value: number): number {
    const c = this.config;
    const bits = c.contextBits;
    const levels = 1 << bits;
    if (value < this.ctxLo) this.ctxLo = value;
    if (value > this.ctxHi) this.ctxHi = value;
    const range = this.ctxHi - this.ctxLo;
    let b = range > 0 ? Math.floor(((value - this.ctxLo) / range) * levels) : 0;
    if (b >= levels) b = levels - 1;
    let facts = 0;
    for (let j = 0; j < bits; j++) facts |= 1 << (2 * j + ((b >> j) & 1));
    const table = this.ctxTable;
    const shift = 32 - c.contextTableBits;
    const orders = Math.min(this.ctxLength, c.contextOrder);
    let missed = 0;
    for (let o = 1; o <= orders; o++) {
      const key = this.ctxHistory & ((1 << (bits * o)) - 1);
      const slot = (Math.imul(key + 1, 0x9e3779b1) ^ Math.imul(o, 0x85ebca6b)) >>> shift;
      const predicted = table[slot] as number;
      let unpredicted = facts & ~predicted;
      while (unpredicted !== 0) {
        unpredicted &= unpredicted - 1;
        missed++;
      }
      table[slot] = predicted | facts;
    }
    this.ctxHistory = ((this.ctxHistory << bits) | b) & ((1 << (bits * c.contextOrder)) - 1);
    if (this.ctxLength < c.contextOrder) this.ctxLength++;
    return orders > 0 ? missed / (orders * bits) : 0;
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
      channelRarityHist: Array.from(this.rarityHist),
      channelRarityTotal: Array.from(this.rarityTotal),
      rarityGain: this.rarityGain,
      ctxLo: this.ctxLo,
      ctxHi: this.ctxHi,
      ctxHistory: this.ctxHistory,
      ctxLength: this.ctxLength,
      ctxNovelty: this.ctxNovelty,
      ctxTable: Array.from(this.ctxTable),
      recordRun: this.recordRun,
      recordHi: this.recordHi,
      recordLo: this.recordLo,
      sinceAlert: this.sinceAlert,
      alertTs: this.alertTs,
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
    if (s.channelRarityHist && s.channelRarityTotal) {
      this.rarityHist.set(s.channelRarityHist.slice(0, RARITY_CHANNELS * RARITY_BINS));
      this.rarityTotal.set(s.channelRarityTotal.slice(0, RARITY_CHANNELS));
      this.rarityGain = s.rarityGain ?? 1;
    }
    // A state from before per-channel rarity: its single histogram mixed the channels, so the channels'
    // histograms start empty and fill again (rarity caps are strict until they do).
    if (s.ctxTable && s.ctxLo !== undefined && s.ctxHi !== undefined) {
      this.ctxTable.set(s.ctxTable);
      this.ctxLo = s.ctxLo;
      this.ctxHi = s.ctxHi;
      this.ctxHistory = s.ctxHistory ?? 0;
      this.ctxLength = s.ctxLength ?? 0;
      this.ctxNovelty = s.ctxNovelty ?? 0;
    } else {
      // A state from before the context model: start it from the current level.
      this.ctxLo = this.ctxHi = s.level;
    }
    // Clamped: a service may restore a state under a different recordPoints than it was saved with.
    this.recordRun = Math.max(-this.config.recordPoints - 1, Math.min(this.config.recordPoints + 1, s.recordRun ?? 0));
    this.recordHi = s.recordHi ?? 0;
    this.recordLo = s.recordLo ?? 0;
    this.sinceAlert = s.sinceAlert;
    this.alertTs = s.alertTs ?? s.lastTs;
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
  for (const f of ['firstTs', 'lastTs', 'alertTs'] as const) {
    // NaN becomes null through JSON for a detector that has seen nothing (or never alerted) yet.
    if (f === 'alertTs' && s[f] === undefined) continue;
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
  const optionalArrays: [string, number, number][] = [
    ['rarityHist', RARITY_BINS, Number.MAX_VALUE],
    ['channelRarityHist', RARITY_CHANNELS * RARITY_BINS, Number.MAX_VALUE],
    ['channelRarityTotal', RARITY_CHANNELS, Number.MAX_VALUE],
    ['ctxTable', 1 << config.contextTableBits, (1 << (2 * config.contextBits)) - 1],
  ];
  for (const [f, len, max] of optionalArrays) {
    const a = s[f];
    if (a === undefined) continue;
    // A state saved while there was a fourth rarity channel: accepted, that channel is dropped on load.
    const legacy = f.startsWith('channelRarity') && Array.isArray(a) && a.length === (len / RARITY_CHANNELS) * LEGACY_RARITY_CHANNELS;
    if (!Array.isArray(a) || (a.length !== len && !legacy) || !a.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= max)) {
      throw validationError(f, `must be an array of ${len} numbers between 0 and ${max}`);
    }
  }
  if (s.rarityGain !== undefined && (typeof s.rarityGain !== 'number' || !(s.rarityGain >= 1 && s.rarityGain <= 1e101))) {
    throw validationError('rarityGain', 'must be a number between 1 and 1e101');
  }
  if (s.ctxVar !== undefined && !((s.ctxVar as number) >= 0)) throw validationError('ctxVar', 'must be a non-negative number');
  if (s.recordRun !== undefined && !(Number.isInteger(s.recordRun) && Math.abs(s.recordRun as number) <= RANGES.recordPoints[1] + 1)) {
    throw validationError('recordRun', `must be an integer of magnitude at most ${RANGES.recordPoints[1] + 1}`);
  }
  for (const f of ['rarityTotal', 'ctxLo', 'ctxHi', 'ctxNovelty', 'ctxShort', 'ctxMean', 'ctxVar', 'recordHi', 'recordLo'] as const) {
    if (s[f] !== undefined && (typeof s[f] !== 'number' || !Number.isFinite(s[f]))) throw validationError(f, 'must be a finite number');
  }
  for (const [f, max] of [
    ['ctxHistory', 2 ** (config.contextBits * config.contextOrder) - 1],
    ['ctxLength', config.contextOrder],
  ] as const) {
    const x = s[f];
    if (x !== undefined && (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max)) throw validationError(f, `must be an integer between 0 and ${max}`);
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
