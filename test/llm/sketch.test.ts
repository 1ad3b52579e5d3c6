import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/llm/sketch.ts';
import { seededRandom } from '../support/random.ts';

const random = seededRandom;

/** The exact rank-based quantile the sketch approximates (lower rank of q·(n−1)). */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const QUANTILES = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999];

describe('QuantileSketch', () => {
  const distributions: Record<string, (r: () => number) => number> = {
    'log-normal latencies': (r) => Math.exp(6 + 0.8 * Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r())),
    'uniform 0..10 s': (r) => r() * 10_000,
    'heavy-tailed (Pareto)': (r) => 100 / Math.pow(r() || 1e-12, 1 / 1.2),
  };

  for (const [name, draw] of Object.entries(distributions)) {
    it(`answers every quantile within 1% relative error: ${name}`, () => {
      const r = random(42);
      const sketch = new QuantileSketch(0.01);
      const values: number[] = [];
      for (let i = 0; i < 50_000; i++) {
        const v = draw(r);
        values.push(v);
        sketch.add(v);
      }
      values.sort((a, b) => a - b);
      for (const q of QUANTILES) {
        const exact = exactQuantile(values, q);
        const estimate = sketch.quantile(q)!;
        expect(Math.abs(estimate - exact) / exact, `q=${q}`).toBeLessThanOrEqual(0.01 + 1e-9);
      }
      expect(sketch.count).toBe(values.length);
      expect(sketch.quantile(0)).toBe(values[0]);
      expect(sketch.quantile(1)).toBe(values[values.length - 1]);
    });
  }

  it('merging sketches equals sketching the union, and survives serialisation', () => {
    const r = random(7);
    const whole = new QuantileSketch();
    const parts = [new QuantileSketch(), new QuantileSketch(), new QuantileSketch()];
    const values: number[] = [];
    for (let i = 0; i < 30_000; i++) {
      const v = 50 + r() * r() * 5000;
      values.push(v);
      whole.add(v);
      parts[i % 3]!.add(v);
    }
    const merged = QuantileSketch.fromJSON(JSON.parse(JSON.stringify(parts[0]!.toJSON())));
    merged.merge(QuantileSketch.fromJSON(parts[1]!.toJSON()));
    merged.merge(parts[2]!);
    values.sort((a, b) => a - b);
    for (const q of QUANTILES) {
      expect(merged.quantile(q)).toBeCloseTo(whole.quantile(q)!, 9);
      const exact = exactQuantile(values, q);
      expect(Math.abs(merged.quantile(q)! - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-9);
    }
    expect(merged.count).toBe(whole.count);
    expect(merged.sum).toBeCloseTo(whole.sum, 3);
  });

  it('counts zeros apart and keeps memory bounded by collapsing the lowest bins', () => {
    const sketch = new QuantileSketch(0.01, 64);
    for (let i = 0; i < 100; i++) sketch.add(0);
    for (let e = -6; e <= 9; e += 0.01) sketch.add(10 ** e);
    expect(sketch.toJSON().c.length).toBeLessThanOrEqual(64);
    expect(sketch.quantile(0.01)).toBe(0);
    // The top quantiles keep their guarantee after collapsing.
    const p99 = sketch.quantile(0.99)!;
    expect(p99).toBeGreaterThan(1e8);
    expect(sketch.quantile(1)).toBeCloseTo(1e9, -3);
  });

  it('ignores values it cannot represent and is empty until fed', () => {
    const sketch = new QuantileSketch();
    expect(sketch.quantile(0.5)).toBeNull();
    sketch.add(Number.NaN);
    sketch.add(-5);
    sketch.add(Number.POSITIVE_INFINITY);
    expect(sketch.count).toBe(0);
    expect(() => sketch.merge(Object.assign(new QuantileSketch(0.05), {}))).not.toThrow();
    const other = new QuantileSketch(0.05);
    other.add(1);
    expect(() => sketch.merge(other)).toThrow(RangeError);
  });
});
