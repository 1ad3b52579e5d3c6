/**
 * Service level objectives over LLM traffic and multi-window, multi-burn-rate alerting as in the
 * Google SRE workbook, chapter 5 ("Alerting on SLOs"), recommendation 6:
 *   page   when the burn rate over 1 h AND over 5 min is ≥ 14.4 (2% of a 30-day budget in an hour),
 *   page   when the burn rate over 6 h AND over 30 min is ≥ 6   (5% in six hours),
 *   ticket when the burn rate over 3 d AND over 6 h is ≥ 1     (10% in three days).
 * The short window makes an alert stop soon after the burning stops.
 *
 * A rule also needs its long window to hold at least `min_bad_events` bad events (default 3). On a quiet
 * service, or in the first hours after the counters start, a window holds so few calls that one or two
 * failures cross a burn-rate threshold (one error in 800 calls is 1.25× against 99.9%): that is noise, not
 * a burning budget. Counting bad events rather than requests keeps a real outage on low traffic paging:
 * three failed calls in a row are already a pattern.
 */
import { Type, type Static } from 'typebox';

const MINUTE_MS = 60_000;

/** Bad events a rule's long window must hold before it can fire, unless an SLO sets `min_bad_events`. */
export const DEFAULT_MIN_BAD_EVENTS = 3;

export const SloSchema = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 200 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$', description: 'defaults to the kind' })),
    kind: Type.Enum(['availability', 'latency']),
    objective: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'target good fraction, e.g. 0.999' }),
    window_days: Type.Integer({ minimum: 1, maximum: 90, default: 30 }),
    threshold_ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'latency SLOs: a successful call is good when no slower than this' })),
    min_bad_events: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: `bad events a burn-rate rule's long window must hold before it can alert (default ${DEFAULT_MIN_BAD_EVENTS}), so a failure or two among few calls does not page`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const SloFileSchema = Type.Object(
  {
    slos: Type.Array(SloSchema, { maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type SloFile = Static<typeof SloFileSchema>;

export interface SloDefinition {
  service: string;
  name: string;
  kind: 'availability' | 'latency';
  objective: number;
  windowDays: number;
  thresholdMs: number | null;
  minBadEvents: number;
}

export interface BurnRateRule {
  severity: 'page' | 'ticket';
  longWindowMinutes: number;
  shortWindowMinutes: number;
  burnRate: number;
}

export const BURN_RATE_RULES: readonly BurnRateRule[] = [
  { severity: 'page', longWindowMinutes: 60, shortWindowMinutes: 5, burnRate: 14.4 },
  { severity: 'page', longWindowMinutes: 360, shortWindowMinutes: 30, burnRate: 6 },
  { severity: 'ticket', longWindowMinutes: 3 * 24 * 60, shortWindowMinutes: 360, burnRate: 1 },
];

export const LONGEST_RULE_MINUTES = Math.max(...BURN_RATE_RULES.map((r) => r.longWindowMinutes));

/** Good/bad event counts per minute over the longest alerting window, for one SLO; fixed memory. */
export class MinuteCounters {
  private readonly minutes: Float64Array;
  private readonly total: Float64Array;
  private readonly bad: Float64Array;

  constructor(readonly size = LONGEST_RULE_MINUTES + 1) {
    this.minutes = new Float64Array(size).fill(-1);
    this.total = new Float64Array(size);
    this.bad = new Float64Array(size);
  }

  add(atMs: number, total: number, bad: number): void {
    const minute = Math.floor(atMs / MINUTE_MS);
    const slot = minute % this.size;
    if (this.minutes[slot] !== minute) {
      if (this.minutes[slot]! > minute) return; // older than the ring reaches
      this.minutes[slot] = minute;
      this.total[slot] = 0;
      this.bad[slot] = 0;
    }
    this.total[slot]! += total;
    this.bad[slot]! += bad;
  }

  /** Totals over the `windowMinutes` minutes ending with the minute that contains `nowMs`. */
  window(nowMs: number, windowMinutes: number): { total: number; bad: number } {
    const last = Math.floor(nowMs / MINUTE_MS);
    let total = 0;
    let bad = 0;
    for (let minute = last - Math.min(windowMinutes, this.size) + 1; minute <= last; minute++) {
      const slot = ((minute % this.size) + this.size) % this.size;
      if (this.minutes[slot] === minute) {
        total += this.total[slot]!;
        bad += this.bad[slot]!;
      }
    }
    return { total, bad };
  }

  /** Bad/total per minute over the last `minutes` minutes, oldest first (null for minutes without events). */
  perMinute(nowMs: number, minutes: number): { at: string; value: number | null }[] {
    const last = Math.floor(nowMs / MINUTE_MS);
    const out: { at: string; value: number | null }[] = [];
    for (let minute = last - minutes + 1; minute <= last; minute++) {
      const slot = ((minute % this.size) + this.size) % this.size;
      const held = this.minutes[slot] === minute && this.total[slot]! > 0;
      out.push({ at: new Date(minute * MINUTE_MS).toISOString(), value: held ? this.bad[slot]! / this.total[slot]! : null });
    }
    return out;
  }
}

export interface WindowBurn {
  window_minutes: number;
  requests: number;
  bad: number;
  error_ratio: number;
  burn_rate: number;
}

export interface RuleEvaluation {
  severity: 'page' | 'ticket';
  threshold: number;
  long: WindowBurn;
  short: WindowBurn;
  firing: boolean;
}

export function burnOver(counters: MinuteCounters, nowMs: number, windowMinutes: number, objective: number): WindowBurn {
  const { total, bad } = counters.window(nowMs, windowMinutes);
  const errorRatio = total > 0 ? bad / total : 0;
  return { window_minutes: windowMinutes, requests: total, bad, error_ratio: errorRatio, burn_rate: errorRatio / (1 - objective) };
}

export function evaluateBurnRates(counters: MinuteCounters, nowMs: number, objective: number, minBadEvents = DEFAULT_MIN_BAD_EVENTS): RuleEvaluation[] {
  return BURN_RATE_RULES.map((rule) => {
    const long = burnOver(counters, nowMs, rule.longWindowMinutes, objective);
    const short = burnOver(counters, nowMs, rule.shortWindowMinutes, objective);
    const firing = long.burn_rate >= rule.burnRate && short.burn_rate >= rule.burnRate && long.bad >= minBadEvents;
    return { severity: rule.severity, threshold: rule.burnRate, long, short, firing };
  });
}

/** The most severe firing rule decides the alert: page beats ticket; null when nothing fires. */
export function alertLevel(evaluations: readonly RuleEvaluation[]): 'page' | 'ticket' | null {
  if (evaluations.some((e) => e.firing && e.severity === 'page')) return 'page';
  if (evaluations.some((e) => e.firing && e.severity === 'ticket')) return 'ticket';
  return null;
}

/** Fraction of the error budget left over the SLO window: 1 untouched, 0 spent, negative overspent. */
export function errorBudgetRemaining(total: number, bad: number, objective: number): number {
  if (total === 0) return 1;
  return 1 - bad / total / (1 - objective);
}

export function toSloDefinitions(file: SloFile): SloDefinition[] {
  return file.slos.map((slo) => ({
    service: slo.service,
    name: slo.name ?? slo.kind,
    kind: slo.kind,
    objective: slo.objective,
    windowDays: slo.window_days,
    thresholdMs: slo.threshold_ms ?? null,
    minBadEvents: slo.min_bad_events ?? DEFAULT_MIN_BAD_EVENTS,
  }));
}
