import { describe, expect, it } from 'vitest';
import { RateDetector } from '../../src/llm/detect/index.ts';
import { QuantileSketch } from '../../src/llm/sketch.ts';
import { seededRandom } from './traffic.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-16T00:00:00Z');

function binomial(r: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (r() < p) k++;
  return k;
}

/** A detector that has learned `minutes` of calls at the given error share. */
function learned(minutes: number, callsPerMinute: number, share: number, r: () => number): { d: RateDetector; at: number } {
  const d = new RateDetector('error_rate');
  let at = T0;
  for (let m = 0; m < minutes; m++) {
    at += MINUTE;
    expect(d.update(at, binomial(r, callsPerMinute, share), callsPerMinute).firing).toBe(false);
  }
  return { d, at };
}

describe('error-rate rule (beta-binomial against the series’ own baseline)', () => {
  it('does not fire while learning, however bad the minute', () => {
    const d = new RateDetector('error_rate');
    const v = d.update(T0, 30, 30);
    expect(v.learning).toBe(true);
    expect(v.firing).toBe(false);
  });

  it('stays quiet on two days of noisy minutes at a 2% error rate, low traffic and high', () => {
    const r = seededRandom(7);
    for (const calls of [3, 40, 400]) {
      const { d, at } = learned(60, calls, 0.02, r);
      let fired = 0;
      for (let m = 1; m <= 2 * 1440; m++) if (d.update(at + m * MINUTE, binomial(r, calls, 0.02), calls).firing) fired++;
      expect(fired, `${calls} calls a minute`).toBe(0);
    }
  });

  it('does not fire on two failures among three calls (low counts are weak evidence), but on a sustained outage of the same traffic', () => {
    const r = seededRandom(8);
    const { d, at } = learned(120, 3, 0.001, r);
    expect(d.update(at + MINUTE, 2, 3).firing).toBe(false);
    let firedAt = -1;
    for (let m = 2; m <= 6 && firedAt < 0; m++) if (d.update(at + m * MINUTE, binomial(r, 3, 0.5) + 1, 3).firing) firedAt = m;
    expect(firedAt).toBeGreaterThan(0);
  });

  it('fires at once on a busy series and never learns the outage as its baseline', () => {
    const r = seededRandom(9);
    const { d, at } = learned(120, 30, 0.001, r);
    const first = d.update(at + MINUTE, 15, 30);
    expect(first.firing).toBe(true);
    expect(first.share).toBeGreaterThan(first.bandUpper);
    expect(first.description).toMatch(/15 of 30 calls/);
    // A long outage: still firing at the end, and the baseline has not moved.
    let last = first;
    for (let m = 2; m <= 240; m++) last = d.update(at + m * MINUTE, binomial(r, 30, 0.5), 30);
    expect(last.firing).toBe(true);
    expect(last.baselineShare).toBeCloseTo(first.baselineShare, 6);
    // Recovery: quiet again once the window holds normal minutes only.
    for (let m = 241; m <= 250; m++) last = d.update(at + m * MINUTE, 0, 30);
    expect(last.firing).toBe(false);
  });

  it('round-trips its state through JSON and rejects a broken one with the field named', () => {
    const r = seededRandom(10);
    const { d, at } = learned(60, 30, 0.01, r);
    const copy = RateDetector.restore(JSON.parse(JSON.stringify(d.toJSON())));
    expect(copy.update(at + MINUTE, 20, 30)).toEqual(d.update(at + MINUTE, 20, 30));
    expect(() => RateDetector.restore({ ...d.toJSON(), a: -1 })).toThrow(/a/);
    expect(() => RateDetector.restore({ ...d.toJSON(), rule: 'nope' })).toThrow(/rule/);
  });
});

describe('latency rule (share of calls slower than the usual p95)', () => {
  it('learns the usual p95, stays quiet on normal minutes and fires when most calls are slower', () => {
    const r = seededRandom(11);
    const d = new RateDetector('latency_p95_exceedance');
    let at = T0;
    const minute = (median: number) => {
      const sketch = new QuantileSketch();
      for (let i = 0; i < 30; i++) sketch.add(median * Math.exp(0.2 * (r() + r() + r() - 1.5) * 2));
      const slow = d.slowThresholdMs();
      at += MINUTE;
      return d.update(at, slow === null ? 0 : sketch.countAbove(slow), 30, sketch.quantile(0.95));
    };
    for (let m = 0; m < 600; m++) expect(minute(1500).firing).toBe(false);
    expect(d.slowThresholdMs()!).toBeGreaterThan(1500);
    expect(d.slowThresholdMs()!).toBeLessThan(3000);
    const v = minute(15_000);
    expect(v.firing).toBe(true);
    expect(v.slowerThanMs).toBe(d.slowThresholdMs());
  });
});

describe('QuantileSketch.countAbove', () => {
  it('counts the values above a point within the sketch resolution', () => {
    const s = new QuantileSketch();
    for (let v = 1; v <= 1000; v++) s.add(v);
    expect(s.countAbove(2000)).toBe(0);
    expect(s.countAbove(0.5)).toBe(1000);
    expect(Math.abs(s.countAbove(500) - 500)).toBeLessThanOrEqual(10);
  });
});
