import { Type, type Static } from 'typebox';
import { ERROR_KINDS, REJECTION_REASONS } from './records.ts';

export const MAX_BATCH_RECORDS = 10_000;

/**
 * One LLM call for teams without OpenTelemetry. Implausible numbers (negative latency, absurd token
 * counts, far-future timestamps) are not schema errors: they are refused one by one and counted, so
 * one bad record does not cost a whole batch.
 */
export const LlmRequestRecordSchema = Type.Object(
  {
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "defaults to the integration key's service" })),
    provider: Type.String({ minLength: 1, maxLength: 100 }),
    model: Type.String({ minLength: 1, maxLength: 200, description: 'requested model' }),
    response_model: Type.Optional(Type.String({ maxLength: 200 })),
    prompt_version: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the prompt (template) version this call used' })),
    operation: Type.Optional(Type.String({ maxLength: 100, default: 'chat' })),
    started_at: Type.String({ format: 'date-time' }),
    latency_ms: Type.Number(),
    ttft_ms: Type.Optional(Type.Number()),
    status: Type.Optional(Type.Enum(['ok', 'error', 'server_error', 'rate_limited', 'timeout', 'content_filtered', 'client_error'], { description: 'outcome; default ok, or derived from http_status' })),
    http_status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    input_tokens: Type.Optional(Type.Number()),
    output_tokens: Type.Optional(Type.Number()),
    cost_usd: Type.Optional(Type.Number()),
    safety_flags: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50, description: 'moderation categories flagged for this call' })),
  },
  { additionalProperties: false },
);
export type LlmRequestRecord = Static<typeof LlmRequestRecordSchema>;

export const LlmRequestBatchSchema = Type.Object(
  { requests: Type.Array(LlmRequestRecordSchema, { minItems: 1, maxItems: MAX_BATCH_RECORDS }) },
  { additionalProperties: false },
);

const RejectionReasonSchema = Type.Enum([...REJECTION_REASONS]);

export const IngestResultSchema = Type.Object({
  accepted: Type.Integer(),
  rejected: Type.Integer(),
  rejections: Type.Array(Type.Object({ index: Type.Integer(), reason: RejectionReasonSchema }), { description: 'the first 100 refused records' }),
});

const ErrorCountsSchema = Type.Object(Object.fromEntries(ERROR_KINDS.map((k) => [k, Type.Integer()])) as Record<(typeof ERROR_KINDS)[number], ReturnType<typeof Type.Integer>>);
const Nullable = (schema: ReturnType<typeof Type.Number>) => Type.Union([schema, Type.Null()]);
const QuantilesSchema = Type.Object({ p50: Nullable(Type.Number()), p95: Nullable(Type.Number()), p99: Nullable(Type.Number()) });

export const StatsPointSchema = Type.Object({
  start: Type.String(),
  end: Type.String(),
  requests: Type.Integer(),
  requests_per_second: Type.Number(),
  errors: ErrorCountsSchema,
  error_rate: Nullable(Type.Number()),
  rate_limit_rate: Nullable(Type.Number()),
  latency_ms: QuantilesSchema,
  ttft_ms: QuantilesSchema,
  input_tokens: Type.Number(),
  output_tokens: Type.Number(),
  tokens_per_second: Type.Number(),
  cost_usd: Type.Number(),
  cost_per_hour: Nullable(Type.Number()),
  safety_flags: Type.Integer(),
  safety_flag_rate: Nullable(Type.Number()),
});

export const StatsQuerySchema = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    service: Type.Optional(Type.String()),
    provider: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    step: Type.Optional(Type.Integer({ minimum: 60, maximum: 90 * 86_400, description: 'seconds per point (a multiple of 60); default: the whole range' })),
  },
  { additionalProperties: false },
);
export type StatsQuery = Static<typeof StatsQuerySchema>;

export const StatsResponseSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  step_seconds: Type.Integer(),
  series: Type.Array(
    Type.Object({ service: Type.String(), provider: Type.String(), model: Type.String(), points: Type.Array(StatsPointSchema) }),
  ),
});

const WindowBurnSchema = Type.Object({
  window_minutes: Type.Integer(),
  requests: Type.Number(),
  bad: Type.Number(),
  error_ratio: Type.Number(),
  burn_rate: Type.Number(),
});

export const SloStatusSchema = Type.Object({
  service: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  objective: Type.Number(),
  window_days: Type.Integer(),
  threshold_ms: Type.Union([Type.Number(), Type.Null()]),
  min_bad_events: Type.Integer({ description: "bad events a rule's long window must hold before it can alert" }),
  requests: Type.Number(),
  bad: Type.Number(),
  sli: Type.Union([Type.Number(), Type.Null()]),
  error_budget_remaining: Type.Number(),
  alert: Type.Union([Type.Literal('page'), Type.Literal('ticket'), Type.Null()]),
  burn_rates: Type.Array(
    Type.Object({ severity: Type.String(), threshold: Type.Number(), firing: Type.Boolean(), long: WindowBurnSchema, short: WindowBurnSchema }),
  ),
});

export const DetectorStatusSchema = Type.Object({
  service: Type.String(),
  provider: Type.String(),
  model: Type.String(),
  signal: Type.String({ description: 'the watched signal, or error_rate / latency_p95_exceedance for the rate rules' }),
  kind: Type.Union([Type.Literal('anomaly'), Type.Literal('rate')], {
    description: 'anomaly: the streaming detector of one signal; rate: the error-rate or latency rule every series gets',
  }),
  points: Type.Integer({ description: 'points (minutes) the detector has learned from; a rate rule never learns from a minute it flags' }),
  learning: Type.Boolean({ description: 'still in its learning period: it cannot fire yet' }),
  threshold: Type.Number({ description: 'anomaly detectors: the score at or above which they fire; rate rules: they fire at p ≤ 10^-threshold' }),
  last_value: Type.Union([Type.Number(), Type.Null()], { description: 'latest value; for a rate rule the latest minute’s bad share' }),
  last_at: Type.Union([Type.String(), Type.Null()]),
  alert_open: Type.Boolean(),
  firing: Type.Union([Type.Boolean(), Type.Null()], { description: 'rate rules: whether the latest minute’s verdict fired (null for anomaly detectors)' }),
  baseline_share: Type.Union([Type.Number(), Type.Null()], { description: 'rate rules: the baseline bad share' }),
  slower_than_ms: Type.Union([Type.Number(), Type.Null()], { description: 'latency rule: the usual p95 a call must exceed to count as slow' }),
});
