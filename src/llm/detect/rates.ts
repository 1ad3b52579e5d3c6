/**
 * Outage detection on counts: is the share of bad calls over the last few minutes more than this
 * series' own baseline could produce? Used for the error rate (calls that failed) and for latency
 * (calls slower than the series' usual p95), on every series, with no configuration.
 *
 * Algorithm, once a minute:
 * 1. Baseline: a Beta(a, b) belief about the bad share, discounted a little every minute and capped at
 *    `BASELINE_CALLS` calls of weight (so it follows slow drift and tolerates more than binomial
 *    minute-to-minute variation). For latency the "usual p95" is the EW geometric mean of the minutes'
 *    p95, and a call is bad when it is slower than that.
 * 2. Test: the bad count k of n calls, in the latest minute and pooled over the last `WINDOW_MINUTES`
 *    minutes (so a quiet series still gathers evidence), is compared with the beta-binomial predictive
 *    distribution of the baseline: p = P(X ≥ k). A handful of calls cannot make a small p; a thousand calls at twice
 *    the usual share can. It fires when p ≤ 10^-MIN_LOG10_P, k ≥ `minBad` and the share exceeds the
 *    baseline by `minExcess` (an effect worth waking someone for, not only a significant one).
 * 3. Learning: a minute updates the baseline only when the rule is not firing and the minute on its
 *    own is unremarkable (p > 10^-LEARN_LOG10_P), so an outage never becomes the baseline. Nothing
 *    fires until the baseline has seen `LEARN_MINUTES` minutes and `LEARN_CALLS` calls.
 */
import betaln from '@stdlib/math-base-special-betaln';
import { validationError } from '../../shared/errors.ts';

export const RATE_RULES = ['error_rate', 'latency_p95_exceedance'] as const;
export type RateRule = (typeof RATE_RULES)[number];

const WINDOW_MINUTES = 5;
const MIN_LOG10_P = 6;
const LEARN_LOG10_P = 3;
const LEARN_MINUTES = 30;
const LEARN_CALLS = 300;
const BASELINE_CALLS = 2000;
/** Per-minute discount of the baseline's counts (a memory of about a day of minutes). */
const DISCOUNT = 1 - 1 / 1440;
/** EW weight of the usual p95 (latency). */
const P95_ALPHA = 0.02;
/** Minutes with fewer calls do not move the usual p95 (a p95 of three calls is their maximum). */
const P95_MIN_CALLS = 10;
const MINUTE_MS = 60_000;

const RULES: Record<RateRule, { prior: [number, number]; minExcess: number; minBad: number; what: string }> = {
  // Prior: about 1% errors with the weight of 100 calls, soon outweighed by the series' own calls.
  error_rate: { prior: [1, 99], minExcess: 0.05, minBad: 5, what: 'share of calls that failed' },
  // By construction about 5% of calls are slower than the usual p95.
  latency_p95_exceedance: { prior: [5, 95], minExcess: 0.25, minBad: 5, what: 'share of calls slower than the usual p95' },
};

export interface RateMinute {
  /** Event time of the minute's end. */
  atMs: number;
  bad: number;
  calls: number;
}

export interface RateVerdict {
  rule: RateRule;
  firing: boolean;
  learning: boolean;
  /** Pooled over the window. */
  bad: number;
  calls: number;
  share: number;
  /** Baseline share (posterior mean) and the highest share the baseline explains for this many calls. */
  baselineShare: number;
  bandUpper: number;
  /** -log10 of the beta-binomial upper tail probability of the pooled count. */
  surprise: number;
  /** Latency only: the usual p95 a call had to exceed to count as bad (ms). */
  slowerThanMs: number | null;
  /** The window's minutes, oldest first. */
  recent: RateMinute[];
  description: string;
}

export interface RateStatus {
  rule: RateRule;
  /** Minutes the baseline has learned from (outage minutes are not among them). */
  learnedMinutes: number;
  learning: boolean;
  /** Whether the latest minute's verdict fired. */
  firing: boolean;
  baselineShare: number;
  slowerThanMs: number | null;
  /** The rule fires at p ≤ 10^-minLog10P. */
  minLog10P: number;
  lastMinute: RateMinute | null;
}

export interface RateDetectorState {
  version: 1;
  rule: RateRule;
  a: number;
  b: number;
  learnedMinutes: number;
  learnedCalls: number;
  /** Latency: EW mean of ln(p95) and how many minutes fed it. */
  logP95: number;
  p95Minutes: number;
  firing: boolean;
  recent: RateMinute[];
}

/** ln P(X ≥ k) for X ~ BetaBinomial(n, a, b), and the smallest k' whose tail is ≤ 10^-MIN_LOG10_P (n + 1 if none). */
function upperTail(k: number, n: number, a: number, b: number): { logP: number; kStar: number } {
  const logThreshold = -MIN_LOG10_P * Math.LN10;
  // ln pmf(n) = ln B(n + a, b) − ln B(a, b); downwards: pmf(j−1) = pmf(j) · j (n − j + b) / ((n − j + 1)(j − 1 + a)).
  let logPmf = betaln(n + a, b) - betaln(a, b);
  let logTail = logPmf;
  let kStar = logTail <= logThreshold ? n : n + 1;
  let logAtK = k === n ? logTail : Number.NaN;
  for (let j = n; j > 0 && (j > k || kStar === j); j--) {
    logPmf += Math.log(j) + Math.log(n - j + b) - Math.log(n - j + 1) - Math.log(j - 1 + a);
    const hi = Math.max(logTail, logPmf);
    logTail = hi + Math.log(Math.exp(logTail - hi) + Math.exp(logPmf - hi));
    if (logTail <= logThreshold) kStar = j - 1;
    if (j - 1 === k) logAtK = logTail;
  }
  return { logP: Math.min(0, logAtK), kStar };
}

export class RateDetector {
  private a: number;
  private b: number;
  private learnedMinutes = 0;
  private learnedCalls = 0;
  private logP95 = 0;
  private p95Minutes = 0;
  private firing = false;
  private recentMinutes: RateMinute[] = [];

  constructor(readonly rule: RateRule) {
    [this.a, this.b] = RULES[rule].prior;
  }

  /** Latency: the usual p95 a call must exceed to count as slow (null until enough minutes were seen). */
  slowThresholdMs(): number | null {
    return this.p95Minutes >= LEARN_MINUTES / 2 ? Math.exp(this.logP95) : null;
  }

  /** What the rule knows now, for a listing: no side effects. */
  status(): RateStatus {
    const last = this.recentMinutes[this.recentMinutes.length - 1];
    return {
      rule: this.rule,
      learnedMinutes: this.learnedMinutes,
      learning: this.isLearning(),
      firing: this.firing,
      baselineShare: this.a / (this.a + this.b),
      slowerThanMs: this.rule === 'latency_p95_exceedance' ? this.slowThresholdMs() : null,
      minLog10P: MIN_LOG10_P,
      lastMinute: last ? { ...last } : null,
    };
  }

  private isLearning(): boolean {
    return this.learnedMinutes < LEARN_MINUTES || this.learnedCalls < LEARN_CALLS || (this.rule === 'latency_p95_exceedance' && this.slowThresholdMs() === null);
  }

  /**
   * Judges one minute. `minuteP95Ms` (latency only) is the minute's own p95, used to learn the usual p95
   * when the minute is unremarkable; `bad` must then count calls slower than `slowThresholdMs()`.
   */
  update(atMs: number, bad: number, calls: number, minuteP95Ms: number | null = null): RateVerdict {
    const spec = RULES[this.rule];
    const minute = { atMs, bad: Math.max(0, Math.min(bad, calls)), calls: Math.max(0, calls) };
    this.recentMinutes = this.recentMinutes.filter((m) => m.atMs > atMs - WINDOW_MINUTES * MINUTE_MS && m.atMs < atMs);
    this.recentMinutes.push(minute);
    const mean = this.a / (this.a + this.b);
    const slowerThanMs = this.rule === 'latency_p95_exceedance' ? this.slowThresholdMs() : null;
    const learning = this.isLearning();
    // Two looks, the latest minute alone (a sudden outage) and the window pooled (a quieter series or a
    // slower onset); the stronger one is reported.
    const looks = [this.recentMinutes.slice(-1), this.recentMinutes].map((minutes) => {
      let k = 0;
      let n = 0;
      for (const m of minutes) {
        k += m.bad;
        n += m.calls;
      }
      const tail = upperTail(k, n, this.a, this.b);
      const surprise = -tail.logP / Math.LN10;
      const share = n > 0 ? k / n : 0;
      const fires = !learning && n > 0 && surprise >= MIN_LOG10_P && k >= spec.minBad && share >= mean + spec.minExcess;
      const bandUpper = n > 0 ? Math.max(Math.min(1, (tail.kStar - 1) / n), Math.min(1, mean + spec.minExcess)) : mean + spec.minExcess;
      return { k, n, surprise, share, fires, bandUpper, minutes: minutes.length };
    });
    const [latest, pooledLook] = looks as [(typeof looks)[number], (typeof looks)[number]];
    const shown = latest.fires && (!pooledLook.fires || latest.surprise > pooledLook.surprise) ? latest : pooledLook;
    this.firing = latest.fires || pooledLook.fires;
    const { k, n, surprise, share, bandUpper } = shown;

    // Learn from unremarkable minutes only.
    if (!this.firing && latest.surprise < LEARN_LOG10_P && minute.calls > 0) {
      this.a = this.a * DISCOUNT + minute.bad;
      this.b = this.b * DISCOUNT + (minute.calls - minute.bad);
      const weight = this.a + this.b;
      if (weight > BASELINE_CALLS) {
        this.a *= BASELINE_CALLS / weight;
        this.b *= BASELINE_CALLS / weight;
      }
      this.learnedMinutes++;
      this.learnedCalls += minute.calls;
      if (minuteP95Ms !== null && minuteP95Ms > 0 && minute.calls >= P95_MIN_CALLS) {
        const x = Math.log(minuteP95Ms);
        this.p95Minutes++;
        this.logP95 += (this.p95Minutes === 1 ? 1 : Math.max(P95_ALPHA, 1 / this.p95Minutes)) * (x - this.logP95);
      }
    }
    const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 2 : 1)}%`;
    const description =
      `${spec.what}: ${k} of ${n} calls (${pct(share)}) over the last ${shown.minutes} min` +
      `${slowerThanMs !== null ? ` (slower than ${Math.round(slowerThanMs)} ms)` : ''}; baseline ${pct(mean)}, ` +
      `at most ${pct(bandUpper)} expected (p = 1e-${MIN_LOG10_P}); p = ${surprise > 300 ? '< 1e-300' : `1e-${surprise.toFixed(1)}`}`;
    return { rule: this.rule, firing: this.firing, learning, bad: k, calls: n, share, baselineShare: mean, bandUpper, surprise, slowerThanMs, recent: [...this.recentMinutes], description };
  }

  toJSON(): RateDetectorState {
    return {
      version: 1,
      rule: this.rule,
      a: this.a,
      b: this.b,
      learnedMinutes: this.learnedMinutes,
      learnedCalls: this.learnedCalls,
      logP95: this.logP95,
      p95Minutes: this.p95Minutes,
      firing: this.firing,
      recent: this.recentMinutes.map((m) => ({ ...m })),
    };
  }

  static restore(state: unknown): RateDetector {
    if (state === null || typeof state !== 'object') throw validationError('(root)', 'must be an object');
    const s = state as Record<string, unknown>;
    if (s.version !== 1) throw validationError('version', 'must be 1');
    if (s.rule !== 'error_rate' && s.rule !== 'latency_p95_exceedance') throw validationError('rule', 'must be error_rate or latency_p95_exceedance');
    for (const f of ['a', 'b', 'learnedMinutes', 'learnedCalls', 'logP95', 'p95Minutes'] as const) {
      if (typeof s[f] !== 'number' || !Number.isFinite(s[f]) || (f !== 'logP95' && (s[f] as number) < 0)) throw validationError(f, 'must be a finite non-negative number');
    }
    if (!((s.a as number) > 0 && (s.b as number) > 0)) throw validationError('a', 'a and b must be positive');
    if (!Array.isArray(s.recent) || s.recent.length > 10_000) throw validationError('recent', 'must be an array');
    const d = new RateDetector(s.rule);
    d.a = s.a as number;
    d.b = s.b as number;
    d.learnedMinutes = s.learnedMinutes as number;
    d.learnedCalls = s.learnedCalls as number;
    d.logP95 = s.logP95 as number;
    d.p95Minutes = s.p95Minutes as number;
    d.firing = s.firing === true;
    d.recentMinutes = (s.recent as unknown[]).map((m, i) => {
      const r = m as Record<string, unknown>;
      if (![r.atMs, r.bad, r.calls].every((x) => typeof x === 'number' && Number.isFinite(x))) throw validationError(`recent.${i}`, 'must have numeric atMs, bad and calls');
      return { atMs: r.atMs as number, bad: r.bad as number, calls: r.calls as number };
    });
    return d;
  }
}
