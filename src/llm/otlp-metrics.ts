/**
 * OTLP metrics → per-series contributions, for the OpenTelemetry GenAI client metrics that many LLM SDKs
 * emit instead of spans:
 *
 * - `gen_ai.client.operation.duration` (histogram, seconds): each data point's count is that many calls;
 *   its buckets give their latencies (each bucket's calls at the bucket's midpoint, clamped to the point's
 *   min and max; the open-ended buckets at the point's min or max, else at their finite bound); its
 *   `error.type` attribute classifies them all (absent: successes).
 * - `gen_ai.client.token.usage` (histogram, tokens): the point's sum adds to input or output tokens by its
 *   `gen_ai.token.type` attribute (`input`/`output`; `prompt`/`completion` too).
 *
 * The series is (`service.name` of the resource, else the integration's service; `gen_ai.provider.name`,
 * else `gen_ai.system`; `gen_ai.request.model`, else `gen_ai.response.model`). A point counts at its
 * `timeUnixNano`. Cumulative points become deltas against the previous point of the same stream (see
 * `CumulativeStreams`); delta points are used as they are. Other metrics and other point types are
 * accepted and ignored.
 */
import { Type, type Static } from 'typebox';
import { AttributesSchema, NanosSchema, asText, attributeMap, nanosToMs, text, type AttributeValue } from './otlp.ts';
import { errorKindFromErrorType, type ErrorKind } from './records.ts';

const Count = Type.Union([Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0 })]);

const HistogramPointSchema = Type.Object(
  {
    attributes: AttributesSchema,
    startTimeUnixNano: Type.Optional(NanosSchema),
    timeUnixNano: NanosSchema,
    count: Type.Optional(Count),
    sum: Type.Optional(Type.Number()),
    bucketCounts: Type.Optional(Type.Array(Count)),
    explicitBounds: Type.Optional(Type.Array(Type.Number())),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
  },
  { additionalProperties: true },
);
type HistogramPoint = Static<typeof HistogramPointSchema>;

const MetricSchema = Type.Object(
  {
    name: Type.String(),
    unit: Type.Optional(Type.String()),
    histogram: Type.Optional(
      Type.Object(
        {
          dataPoints: Type.Optional(Type.Array(HistogramPointSchema)),
          aggregationTemporality: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);

export const OtlpMetricsRequestSchema = Type.Object(
  {
    resourceMetrics: Type.Optional(
      Type.Array(
        Type.Object(
          {
            resource: Type.Optional(Type.Object({ attributes: AttributesSchema }, { additionalProperties: true })),
            scopeMetrics: Type.Optional(Type.Array(Type.Object({ metrics: Type.Optional(Type.Array(MetricSchema)) }, { additionalProperties: true }))),
          },
          { additionalProperties: true },
        ),
      ),
    ),
  },
  { additionalProperties: true, description: 'OTLP ExportMetricsServiceRequest in the OTLP/JSON encoding' },
);
export type OtlpMetricsRequest = Static<typeof OtlpMetricsRequestSchema>;

export const OtlpMetricsResponseSchema = Type.Object({
  partialSuccess: Type.Optional(Type.Object({ rejectedDataPoints: Type.Integer(), errorMessage: Type.String() })),
});

export const DURATION_METRIC = 'gen_ai.client.operation.duration';
export const TOKEN_USAGE_METRIC = 'gen_ai.client.token.usage';

/** What one data point adds to a series at one time. */
export interface LlmMetricSample {
  service: string;
  provider: string;
  model: string;
  atMs: number;
  /** Calls (duration points only), all of this error kind (null: successes). */
  requests: number;
  errorKind: ErrorKind | null;
  /** Latencies in ms with how many calls each stands for. */
  latencies: { valueMs: number; count: number }[];
  inputTokens: number;
  outputTokens: number;
}

interface StreamState {
  startNanos: string;
  timeMs: number;
  count: number;
  sum: number;
  buckets: number[];
}

/**
 * The previous cumulative point of each stream (resource service, metric, attributes), so cumulative
 * points become deltas. The first point of a stream counts whole when it began at most
 * `firstPointWindowMs` before it (a process that just started exporting); an older one (Firebreak
 * restarted while the application kept exporting) only sets the baseline, so nothing is counted twice.
 * A point with another start time, or a smaller count, is a restart of the stream and counts whole.
 * Bounded: beyond `maxStreams` the least recently updated stream is forgotten.
 */
export class CumulativeStreams {
  private readonly streams = new Map<string, StreamState>();

  constructor(
    readonly maxStreams = 100_000,
    readonly firstPointWindowMs = 10 * 60_000,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /** The delta since the stream's previous point, or null when the point adds nothing (a baseline, or older than the last). */
  delta(key: string, point: { startNanos: string; timeMs: number; count: number; sum: number; buckets: number[] }): { count: number; sum: number; buckets: number[] } | null {
    const previous = this.streams.get(key);
    const store = () => {
      this.streams.delete(key);
      this.streams.set(key, { startNanos: point.startNanos, timeMs: point.timeMs, count: point.count, sum: point.sum, buckets: point.buckets });
      if (this.streams.size > this.maxStreams) this.streams.delete(this.streams.keys().next().value!);
    };
    if (!previous) {
      store();
      const startMs = nanosToMs(point.startNanos);
      return point.startNanos !== '0' && point.timeMs - startMs <= this.firstPointWindowMs ? point : null;
    }
    if (previous.startNanos !== point.startNanos || point.count < previous.count) {
      store();
      return point;
    }
    if (point.timeMs <= previous.timeMs) return null;
    store();
    return {
      count: point.count - previous.count,
      sum: point.sum - previous.sum,
      buckets: point.buckets.map((n, i) => Math.max(0, n - (previous.buckets[i] ?? 0))),
    };
  }
}

export interface MetricsConversion {
  samples: LlmMetricSample[];
  /** GenAI duration and token points used. */
  usedPoints: number;
  /** Points of other metrics or types: accepted and ignored. */
  ignoredPoints: number;
  /** GenAI points that could not be used (no time, an inconsistent histogram): rejected. */
  rejectedPoints: number;
}

const DELTA = 1;

function temporalityOf(value: number | string | undefined): 'delta' | 'cumulative' {
  return value === DELTA || value === 'AGGREGATION_TEMPORALITY_DELTA' ? 'delta' : 'cumulative';
}

function numberOf(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value);
}

/** Where the calls of each bucket are put (ms). */
function bucketLatencies(counts: number[], bounds: number[], scaleMs: number, min: number | undefined, max: number | undefined): { valueMs: number; count: number }[] {
  const out: { valueMs: number; count: number }[] = [];
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (!(n > 0)) continue;
    const lower = i === 0 ? undefined : bounds[i - 1];
    const upper = i < bounds.length ? bounds[i] : undefined;
    let value: number;
    if (lower === undefined && upper === undefined) value = min !== undefined && max !== undefined ? (min + max) / 2 : (min ?? max ?? 0);
    else if (lower === undefined) value = min !== undefined ? Math.min(min, upper!) : Math.max(0, upper! / 2);
    else if (upper === undefined) value = max !== undefined ? Math.max(max, lower) : lower;
    else value = (lower + upper) / 2;
    if (min !== undefined && value < min) value = min;
    if (max !== undefined && value > max) value = max;
    out.push({ valueMs: Math.max(0, value * scaleMs), count: n });
  }
  return out;
}

function unitScaleMs(unit: string | undefined): number {
  switch (unit) {
    case 'ms':
      return 1;
    case 'us':
      return 0.001;
    case 'min':
      return 60_000;
    default:
      return 1000; // the conventions' unit: seconds
  }
}

function attributesKey(attributes: Map<string, AttributeValue>): string {
  return JSON.stringify([...attributes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** `defaultService` (the integration's service) stands in for resources without `service.name`. */
export function samplesFromOtlpMetrics(request: OtlpMetricsRequest, defaultService: string, streams: CumulativeStreams): MetricsConversion {
  const out: MetricsConversion = { samples: [], usedPoints: 0, ignoredPoints: 0, rejectedPoints: 0 };
  for (const resourceMetrics of request.resourceMetrics ?? []) {
    const service = text(attributeMap(resourceMetrics.resource?.attributes), 'service.name') ?? defaultService;
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      for (const metric of scopeMetrics.metrics ?? []) {
        const isDuration = metric.name === DURATION_METRIC;
        const isTokens = metric.name === TOKEN_USAGE_METRIC;
        const points = metric.histogram?.dataPoints ?? [];
        if ((!isDuration && !isTokens) || !metric.histogram) {
          out.ignoredPoints += countPoints(metric);
          continue;
        }
        const temporality = temporalityOf(metric.histogram.aggregationTemporality);
        for (const point of points) {
          const sample = sampleOf(point, { service, metric: metric.name, unit: metric.unit, isDuration, temporality, streams });
          if (sample === 'rejected') out.rejectedPoints++;
          else {
            out.usedPoints++;
            if (sample) out.samples.push(sample);
          }
        }
      }
    }
  }
  return out;
}

function countPoints(metric: Record<string, unknown>): number {
  let n = 0;
  for (const value of Object.values(metric)) {
    const points = (value as { dataPoints?: unknown } | null)?.dataPoints;
    if (Array.isArray(points)) n += points.length;
  }
  return n;
}

function sampleOf(
  point: HistogramPoint,
  context: { service: string; metric: string; unit: string | undefined; isDuration: boolean; temporality: 'delta' | 'cumulative'; streams: CumulativeStreams },
): LlmMetricSample | null | 'rejected' {
  const attributes = attributeMap(point.attributes);
  const atMs = nanosToMs(point.timeUnixNano);
  const count = numberOf(point.count);
  const buckets = (point.bucketCounts ?? []).map(numberOf);
  const bounds = point.explicitBounds ?? [];
  const sum = point.sum ?? 0;
  if (!Number.isFinite(atMs) || atMs <= 0 || !Number.isFinite(count) || !Number.isFinite(sum)) return 'rejected';
  if (buckets.length > 0 && (buckets.length !== bounds.length + 1 || buckets.reduce((a, b) => a + b, 0) !== count)) return 'rejected';
  let delta: { count: number; sum: number; buckets: number[] } | null = { count, sum, buckets };
  if (context.temporality === 'cumulative') {
    const key = `${context.service}\u0001${context.metric}\u0001${attributesKey(attributes)}`;
    delta = context.streams.delta(key, { startNanos: String(point.startTimeUnixNano ?? '0'), timeMs: atMs, count, sum, buckets });
  }
  if (!delta || delta.count <= 0) return null;
  const provider = text(attributes, 'gen_ai.provider.name', 'gen_ai.system') ?? 'unknown';
  const model = text(attributes, 'gen_ai.request.model', 'gen_ai.response.model') ?? 'unknown';
  const sample: LlmMetricSample = { service: context.service, provider, model, atMs, requests: 0, errorKind: null, latencies: [], inputTokens: 0, outputTokens: 0 };
  if (context.isDuration) {
    const errorType = asText(attributes.get('error.type'));
    sample.requests = delta.count;
    sample.errorKind = errorType ? errorKindFromErrorType(errorType) : null;
    const scale = unitScaleMs(context.unit);
    sample.latencies =
      delta.buckets.length > 0
        ? bucketLatencies(delta.buckets, bounds, scale, point.min, point.max)
        : [{ valueMs: Math.max(0, (delta.sum / delta.count) * scale), count: delta.count }];
  } else {
    const type = asText(attributes.get('gen_ai.token.type'));
    if (type === 'input' || type === 'prompt') sample.inputTokens = Math.max(0, delta.sum);
    else if (type === 'output' || type === 'completion') sample.outputTokens = Math.max(0, delta.sum);
    else return null;
  }
  return sample;
}
