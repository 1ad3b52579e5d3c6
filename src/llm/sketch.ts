/**
 * A DDSketch-style quantile sketch with relative-error guarantees (Masson, Rim & Lee, VLDB 2019).
 *
 * Positive values are counted in logarithmic bins: bin i holds (γ^(i-1), γ^i] with γ = (1+α)/(1-α),
 * so answering with 2γ^i/(γ+1) is within relative error α of every value in the bin. Sketches with
 * the same α merge exactly by adding bin counts, which is what lets per-minute buckets be rolled up
 * into any time range. Memory is bounded by `maxBins`: when exceeded, the lowest bins are collapsed
 * into one (the high quantiles, which matter for latency, keep their guarantee).
 *
 * LLM latencies, TTFTs and token counts are non-negative; values at or below `MIN_INDEXABLE` are
 * counted in a separate zero bin.
 */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;
export const DEFAULT_MAX_BINS = 2048;
const MIN_INDEXABLE = 1e-9;

export interface SerializedSketch {
  /** relative accuracy α */
  a: number;
  /** count of values ≤ MIN_INDEXABLE */
  z: number;
  /** total count */
  n: number;
  sum: number;
  min: number;
  max: number;
  /** index of counts[0] */
  o: number;
  /** bin counts from index o upward */
  c: number[];
}

export class QuantileSketch {
  readonly relativeAccuracy: number;
  private readonly gamma: number;
  private readonly logGamma: number;
  private readonly maxBins: number;
  private bins: number[] = [];
  private offset = 0;
  private zeroCount = 0;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(relativeAccuracy = DEFAULT_RELATIVE_ACCURACY, maxBins = DEFAULT_MAX_BINS) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError('relative accuracy must be in (0, 1)');
    this.relativeAccuracy = relativeAccuracy;
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(this.gamma);
    this.maxBins = Math.max(16, maxBins);
  }

  /** Adds a non-negative finite value (callers validate; anything else is ignored). */
  add(value: number, weight = 1): void {
    if (!(value >= 0) || !Number.isFinite(value) || !(weight > 0)) return;
    this.count += weight;
    this.sum += value * weight;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value <= MIN_INDEXABLE) {
      this.zeroCount += weight;
      return;
    }
    this.addToBin(Math.ceil(Math.log(value) / this.logGamma), weight);
  }

  private addToBin(index: number, weight: number): void {
    if (this.bins.length === 0) {
      this.offset = index;
      this.bins.push(weight);
      return;
    }
    if (index < this.offset) {
      // Below the collapsed floor, or a new lowest bin.
      const grow = this.offset - index;
      if (this.bins.length + grow > this.maxBins) {
        this.bins[0]! += weight;
        return;
      }
      this.bins.unshift(...new Array<number>(grow).fill(0));
      this.offset = index;
    } else if (index >= this.offset + this.bins.length) {
      const grow = index - (this.offset + this.bins.length) + 1;
      for (let k = 0; k < grow; k++) this.bins.push(0);
      this.collapse();
    }
    const at = Math.max(0, index - this.offset);
    this.bins[at]! += weight;
  }

  /** Folds the lowest bins together until at most maxBins remain. */
  private collapse(): void {
    const excess = this.bins.length - this.maxBins;
    if (excess <= 0) return;
    let folded = 0;
    for (let k = 0; k <= excess; k++) folded += this.bins[k]!;
    this.bins.splice(0, excess + 1, folded);
    this.offset += excess;
  }

  /** The q-quantile (0 ≤ q ≤ 1) within relative error α, or null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * (this.count - 1);
    let seen = this.zeroCount;
    if (rank < seen) return 0;
    for (let k = 0; k < this.bins.length; k++) {
      seen += this.bins[k]!;
      if (seen > rank) {
        const estimate = (2 * Math.pow(this.gamma, this.offset + k)) / (this.gamma + 1);
        // The true extremes are known exactly; never answer outside them.
        return Math.min(this.max, Math.max(this.min, estimate));
      }
    }
    return this.max;
  }

  /**
   * Values above `x`, within the sketch's resolution: a bin counts when its representative value is
   * above `x` (exact when `x` lies outside the observed range).
   */
  countAbove(x: number): number {
    if (this.count === 0 || x >= this.max) return 0;
    if (x < this.min) return this.count;
    let above = 0;
    for (let k = this.bins.length - 1; k >= 0; k--) {
      const estimate = (2 * Math.pow(this.gamma, this.offset + k)) / (this.gamma + 1);
      if (estimate <= x) break;
      above += this.bins[k]!;
    }
    return above;
  }

  merge(other: QuantileSketch): void {
    if (other.count === 0) return;
    if (Math.abs(other.relativeAccuracy - this.relativeAccuracy) > 1e-12) {
      throw new RangeError('sketches with different relative accuracy cannot be merged');
    }
    this.zeroCount += other.zeroCount;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    for (let k = 0; k < other.bins.length; k++) {
      const weight = other.bins[k]!;
      if (weight > 0) this.addToBin(other.offset + k, weight);
    }
  }

  toJSON(): SerializedSketch {
    return { a: this.relativeAccuracy, z: this.zeroCount, n: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.count ? this.max : 0, o: this.offset, c: this.bins.slice() };
  }

  static fromJSON(data: SerializedSketch, maxBins = DEFAULT_MAX_BINS): QuantileSketch {
    const sketch = new QuantileSketch(data.a, maxBins);
    sketch.zeroCount = data.z;
    sketch.count = data.n;
    sketch.sum = data.sum;
    if (data.n > 0) {
      sketch.min = data.min;
      sketch.max = data.max;
    }
    sketch.offset = data.o;
    sketch.bins = data.c.slice();
    sketch.collapse();
    return sketch;
  }
}
