import { describe, expect, it } from 'vitest';
import { BURN_RATE_RULES, MinuteCounters, alertLevel, errorBudgetRemaining, evaluateBurnRates } from '../../src/llm/slo.ts';
import { parseSloDocument } from '../../src/llm/config.ts';
import { errorKindFromErrorType, errorKindFromHttpStatus } from '../../src/llm/records.ts';
import { AppError } from '../../src/shared/errors.ts';

const MINUTE = 60_000;
const NOW = Date.parse('2026-11-24T12:00:30Z');

/** Fills the last `minutes` minutes before NOW with `perMinute` calls of which `bad` failed. */
function fill(counters: MinuteCounters, fromMinutesAgo: number, toMinutesAgo: number, perMinute: number, bad: number): void {
  for (let m = fromMinutesAgo; m > toMinutesAgo; m--) counters.add(NOW - (m - 1) * MINUTE, perMinute, bad);
}

describe('multi-window multi-burn-rate rules (SRE workbook)', () => {
  it('are the workbook table: 14.4× 1 h & 5 min page, 6× 6 h & 30 min page, 1× 3 d & 6 h ticket', () => {
    expect(BURN_RATE_RULES.map((r) => [r.severity, r.longWindowMinutes, r.shortWindowMinutes, r.burnRate])).toEqual([
      ['page', 60, 5, 14.4],
      ['page', 360, 30, 6],
      ['ticket', 4320, 360, 1],
    ]);
  });

  it('pages when both the long and the short window burn fast enough, and stops once the short window recovers', () => {
    const counters = new MinuteCounters();
    fill(counters, 3 * 1440, 60, 100, 0);
    // The last hour: 2% errors against a 99.9% objective is a burn rate of 20.
    fill(counters, 60, 0, 100, 2);
    const burning = evaluateBurnRates(counters, NOW, 0.999);
    expect(burning[0]!.long.burn_rate).toBeCloseTo(20, 6);
    expect(burning[0]!.short.burn_rate).toBeCloseTo(20, 6);
    expect(burning[0]!.firing).toBe(true);
    expect(alertLevel(burning)).toBe('page');

    // Five clean minutes: the 1 h window still burns at ~18×, but the 5 min window does not, so rule 1 stops.
    const later = NOW + 5 * MINUTE;
    for (let m = 0; m < 5; m++) counters.add(later - m * MINUTE, 100, 0);
    const recovered = evaluateBurnRates(counters, later, 0.999);
    expect(recovered[0]!.long.burn_rate).toBeGreaterThan(14.4);
    expect(recovered[0]!.short.burn_rate).toBe(0);
    expect(recovered[0]!.firing).toBe(false);
  });

  it('tickets on a slow burn that never pages', () => {
    const counters = new MinuteCounters();
    // 0.2% errors for three days: burn rate 2 against 99.9%.
    fill(counters, 3 * 1440, 0, 100, 0.2);
    const evaluations = evaluateBurnRates(counters, NOW, 0.999);
    expect(evaluations.map((e) => e.firing)).toEqual([false, false, true]);
    expect(alertLevel(evaluations)).toBe('ticket');
  });

  it('needs a minimum of bad events in the long window, so a failure or two among few calls does not alert', () => {
    const counters = new MinuteCounters();
    // The first hour of a quiet service: 800 calls, one failure. Against 99.9% that is 1.25× over every
    // window that holds the failure, past the ticket rule's 1×.
    fill(counters, 60, 0, 800 / 60, 0);
    counters.add(NOW - 10 * MINUTE, 1, 1);
    const evaluations = evaluateBurnRates(counters, NOW, 0.999);
    expect(evaluations[2]!.long.burn_rate).toBeGreaterThan(1);
    expect(evaluations[2]!.short.burn_rate).toBeGreaterThan(1);
    expect(alertLevel(evaluations)).toBeNull();
    expect(alertLevel(evaluateBurnRates(counters, NOW, 0.999, 1))).toBe('ticket');

    // Two failures in a row at one call a minute burn at 33× over the hour and 200× over five minutes.
    const quiet = new MinuteCounters();
    fill(quiet, 60, 0, 1, 0);
    quiet.add(NOW - MINUTE, 1, 1);
    quiet.add(NOW - 2 * MINUTE, 1, 1);
    expect(alertLevel(evaluateBurnRates(quiet, NOW, 0.999))).toBeNull();
    expect(alertLevel(evaluateBurnRates(quiet, NOW, 0.999, 2))).toBe('page');
    // A third is an outage on the same traffic, and pages at the default.
    quiet.add(NOW, 1, 1);
    expect(alertLevel(evaluateBurnRates(quiet, NOW, 0.999))).toBe('page');
  });

  it('does not fire on a window without traffic, and forgets minutes older than the ring', () => {
    const counters = new MinuteCounters();
    expect(alertLevel(evaluateBurnRates(counters, NOW, 0.99))).toBeNull();
    counters.add(NOW - 10 * 1440 * MINUTE, 100, 100);
    expect(counters.window(NOW, 4320)).toEqual({ total: 0, bad: 0 });
  });

  it('computes the error budget left', () => {
    expect(errorBudgetRemaining(0, 0, 0.999)).toBe(1);
    expect(errorBudgetRemaining(10_000, 5, 0.999)).toBeCloseTo(0.5, 9);
    expect(errorBudgetRemaining(10_000, 20, 0.999)).toBeCloseTo(-1, 9);
  });
});

describe('SLO configuration', () => {
  const fieldOf = (document: unknown): string | undefined => {
    try {
      parseSloDocument(document, 'slos.yaml');
    } catch (error) {
      return (error as AppError).details.field;
    }
    return undefined;
  };

  it('names the offending field', () => {
    expect(fieldOf({ slos: [{ service: 'a', kind: 'latency', objective: 0.99 }] })).toBe('slos[0].threshold_ms');
    expect(fieldOf({ slos: [{ service: 'a', kind: 'availability', objective: 1.5 }] })).toBe('slos[0].objective');
    expect(fieldOf({ slos: [{ service: 'a', kind: 'availability', objective: 0.9, colour: 'red' }] })).toBe('slos[0].colour');
    expect(
      fieldOf({
        slos: [
          { service: 'a', kind: 'availability', objective: 0.9 },
          { service: 'a', kind: 'availability', objective: 0.99 },
        ],
      }),
    ).toBe('slos[1].name');
  });

  it('fills defaults', () => {
    expect(parseSloDocument({ slos: [{ service: 'a', kind: 'availability', objective: 0.999 }] }, 'x')).toEqual([
      { service: 'a', name: 'availability', kind: 'availability', objective: 0.999, windowDays: 30, thresholdMs: null, minBadEvents: 3 },
    ]);
    expect(parseSloDocument({ slos: [{ service: 'a', kind: 'availability', objective: 0.999, min_bad_events: 10 }] }, 'x')[0]!.minBadEvents).toBe(10);
    expect(fieldOf({ slos: [{ service: 'a', kind: 'availability', objective: 0.999, min_bad_events: 0 }] })).toBe('slos[0].min_bad_events');
  });
});

describe('error classification', () => {
  it('reads HTTP statuses and OpenTelemetry error.type values', () => {
    expect([429, 503, 504, 408, 400, 200].map(errorKindFromHttpStatus)).toEqual(['rate_limit', 'server_error', 'timeout', 'timeout', 'client_error', null]);
    expect(['429', 'RateLimitError', 'APITimeoutError', 'InternalServerError', 'ContentFilterError', 'BadRequestError', 'Boom'].map(errorKindFromErrorType)).toEqual([
      'rate_limit',
      'rate_limit',
      'timeout',
      'server_error',
      'content_filter',
      'client_error',
      'other',
    ]);
  });
});
