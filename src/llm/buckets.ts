/**
 * Aggregates of LLM calls for one series (service, provider, model) over one time bucket. Everything
 * in it merges exactly (counts and sums add, sketches merge), so buckets roll up into any range.
 */
import { AVAILABILITY_BAD_KINDS, ERROR_KINDS, type ErrorKind, type LlmCall } from './records.ts';
import { QuantileSketch, type SerializedSketch } from './sketch.ts';

export interface SeriesId {
  service: string;
  provider: string;
  model: string;
}

/** Stable text identity of a series (also stored as the detector-state key). */
export function seriesKey(series: SeriesId): string {
  return JSON.stringify([series.service, series.provider, series.model]);
}

export type ErrorCounts = Record<ErrorKind, number>;

export function emptyErrorCounts(): ErrorCounts {
  return { server_error: 0, rate_limit: 0, timeout: 0, content_filter: 0, client_error: 0, other: 0 };
}

export class Bucket {
  requests = 0;
  errors: ErrorCounts = emptyErrorCounts();
  inputTokens = 0;
  outputTokens = 0;
  costUsd = 0;
  /** Calls that reported a cost (cost per hour is only meaningful when some did). */
  costCount = 0;
  safetyFlags = 0;
  latency = new QuantileSketch();
  ttft = new QuantileSketch();
  /** Successful calls no slower than each latency-SLO threshold (ms), counted exactly at ingest. */
  latencyWithin: Record<string, number> = {};

  /** `seriesKey(series)`, computed once. */
  readonly key: string;

  constructor(
    readonly series: SeriesId,
    readonly startMs: number,
    readonly seconds: number,
  ) {
    this.key = seriesKey(series);
  }

  add(call: LlmCall, latencyThresholdsMs: readonly number[]): void {
    this.requests++;
    if (call.errorKind) this.errors[call.errorKind]++;
    this.inputTokens += call.inputTokens;
    this.outputTokens += call.outputTokens;
    if (call.costUsd !== null) {
      this.costUsd += call.costUsd;
      this.costCount++;
    }
    if (call.safetyFlagged) this.safetyFlags++;
    this.latency.add(call.latencyMs);
    if (call.ttftMs !== null) this.ttft.add(call.ttftMs);
    if (call.errorKind === null) {
      for (const threshold of latencyThresholdsMs) {
        if (call.latencyMs <= threshold) this.latencyWithin[threshold] = (this.latencyWithin[threshold] ?? 0) + 1;
      }
    }
  }

  /** Calls known only in aggregate (an OTLP metrics data point): `latencies` spreads them over latency values. */
  addAggregate(
    sample: { requests: number; errorKind: ErrorKind | null; latencies: readonly { valueMs: number; count: number }[]; inputTokens: number; outputTokens: number },
    latencyThresholdsMs: readonly number[],
  ): void {
    this.requests += sample.requests;
    if (sample.errorKind) this.errors[sample.errorKind] += sample.requests;
    this.inputTokens += sample.inputTokens;
    this.outputTokens += sample.outputTokens;
    for (const { valueMs, count } of sample.latencies) {
      this.latency.add(valueMs, count);
      if (sample.errorKind === null) {
        for (const threshold of latencyThresholdsMs) {
          if (valueMs <= threshold) this.latencyWithin[threshold] = (this.latencyWithin[threshold] ?? 0) + count;
        }
      }
    }
  }

  merge(other: BucketTotals): void {
    this.requests += other.requests;
    for (const kind of ERROR_KINDS) this.errors[kind] += other.errors[kind];
    this.inputTokens += other.inputTokens;
    this.outputTokens += other.outputTokens;
    this.costUsd += other.costUsd;
    this.costCount += other.costCount;
    this.safetyFlags += other.safetyFlags;
    this.latency.merge(other.latency);
    this.ttft.merge(other.ttft);
    for (const [threshold, n] of Object.entries(other.latencyWithin)) this.latencyWithin[threshold] = (this.latencyWithin[threshold] ?? 0) + n;
  }
}

export type BucketTotals = Pick<
  Bucket,
  'requests' | 'errors' | 'inputTokens' | 'outputTokens' | 'costUsd' | 'costCount' | 'safetyFlags' | 'latency' | 'ttft' | 'latencyWithin'
>;

export function errorsTotal(errors: ErrorCounts): number {
  let total = 0;
  for (const kind of ERROR_KINDS) total += errors[kind];
  return total;
}

export function availabilityBad(errors: ErrorCounts): number {
  let total = 0;
  for (const kind of AVAILABILITY_BAD_KINDS) total += errors[kind];
  return total;
}

/** Successful calls: the population of a latency SLO. */
export function successes(totals: Pick<BucketTotals, 'requests' | 'errors'>): number {
  return totals.requests - errorsTotal(totals.errors);
}

/** The statistics a user sees for a range of length `seconds`, computed from merged totals. */
export interface StatsPoint {
  requests: number;
  requests_per_second: number;
  errors: ErrorCounts;
  error_rate: number | null;
  rate_limit_rate: number | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  ttft_ms: { p50: number | null; p95: number | null; p99: number | null };
  input_tokens: number;
  output_tokens: number;
  tokens_per_second: number;
  cost_usd: number;
  cost_per_hour: number | null;
  safety_flags: number;
  safety_flag_rate: number | null;
}

export function statsOf(totals: BucketTotals, seconds: number): StatsPoint {
  const ratio = (n: number) => (totals.requests > 0 ? n / totals.requests : null);
  const quantiles = (sketch: QuantileSketch) => ({ p50: sketch.quantile(0.5), p95: sketch.quantile(0.95), p99: sketch.quantile(0.99) });
  return {
    requests: totals.requests,
    requests_per_second: totals.requests / seconds,
    errors: { ...totals.errors },
    error_rate: ratio(errorsTotal(totals.errors)),
    rate_limit_rate: ratio(totals.errors.rate_limit),
    latency_ms: quantiles(totals.latency),
    ttft_ms: quantiles(totals.ttft),
    input_tokens: totals.inputTokens,
    output_tokens: totals.outputTokens,
    tokens_per_second: (totals.inputTokens + totals.outputTokens) / seconds,
    cost_usd: totals.costUsd,
    cost_per_hour: totals.costCount > 0 ? (totals.costUsd * 3600) / seconds : null,
    safety_flags: totals.safetyFlags,
    safety_flag_rate: ratio(totals.safetyFlags),
  };
}

/** The row form of a bucket (sketches serialised), as stored by the rollup table. */
export interface BucketRecord extends SeriesId {
  bucketStartMs: number;
  bucketSeconds: number;
  requests: number;
  errors: ErrorCounts;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  costCount: number;
  safetyFlags: number;
  latency: SerializedSketch;
  ttft: SerializedSketch;
  latencyWithin: Record<string, number>;
}

export function bucketToRecord(bucket: Bucket): BucketRecord {
  return {
    ...bucket.series,
    bucketStartMs: bucket.startMs,
    bucketSeconds: bucket.seconds,
    requests: bucket.requests,
    errors: { ...bucket.errors },
    inputTokens: bucket.inputTokens,
    outputTokens: bucket.outputTokens,
    costUsd: bucket.costUsd,
    costCount: bucket.costCount,
    safetyFlags: bucket.safetyFlags,
    latency: bucket.latency.toJSON(),
    ttft: bucket.ttft.toJSON(),
    latencyWithin: { ...bucket.latencyWithin },
  };
}

export function bucketFromRecord(record: BucketRecord): Bucket {
  const bucket = new Bucket({ service: record.service, provider: record.provider, model: record.model }, record.bucketStartMs, record.bucketSeconds);
  bucket.requests = record.requests;
  bucket.errors = { ...emptyErrorCounts(), ...record.errors };
  bucket.inputTokens = record.inputTokens;
  bucket.outputTokens = record.outputTokens;
  bucket.costUsd = record.costUsd;
  bucket.costCount = record.costCount;
  bucket.safetyFlags = record.safetyFlags;
  bucket.latency = QuantileSketch.fromJSON(record.latency);
  bucket.ttft = QuantileSketch.fromJSON(record.ttft);
  bucket.latencyWithin = { ...record.latencyWithin };
  return bucket;
}
