import { Type, type Static } from 'typebox';

export const ComparisonSchema = Type.Enum(['<', '<=', '>', '>=', '==', '!='], { description: 'observed <op> threshold must hold' });
export type Comparison = Static<typeof ComparisonSchema>;

export const HttpCheckSchema = Type.Object(
  {
    kind: Type.Literal('http'),
    url: Type.String({ format: 'uri', pattern: '^https?://' }),
    method: Type.Optional(Type.Enum(['GET', 'HEAD', 'POST'], { default: 'GET' })),
    expect_status: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'default: any 2xx' })),
    body_contains: Type.Optional(Type.String({ maxLength: 1000 })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 5000 })),
  },
  { additionalProperties: false },
);

export const PrometheusCheckSchema = Type.Object(
  {
    kind: Type.Literal('prometheus'),
    query: Type.String({ minLength: 1, maxLength: 4000, description: 'PromQL instant query' }),
    op: ComparisonSchema,
    threshold: Type.Number(),
    url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'defaults to FIREBREAK_PROMETHEUS_URL' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 5000 })),
  },
  { additionalProperties: false },
);

export const NoFiringAlertsCheckSchema = Type.Object(
  {
    kind: Type.Literal('no_firing_alerts'),
    service: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

export const LlmStatCheckSchema = Type.Object(
  {
    kind: Type.Literal('llm_stat'),
    service: Type.String({ minLength: 1 }),
    stat: Type.Enum(['error_rate', 'rate_limit_rate', 'latency_p50_ms', 'latency_p95_ms', 'latency_p99_ms', 'ttft_p95_ms', 'cost_per_hour', 'safety_flag_rate', 'requests_per_second'], {
      description: 'a statistic from Firebreak’s own LLM telemetry',
    }),
    window_minutes: Type.Integer({ minimum: 1, maximum: 1440 }),
    op: ComparisonSchema,
    threshold: Type.Number(),
    provider: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const CheckSpecSchema = Type.Union([HttpCheckSchema, PrometheusCheckSchema, NoFiringAlertsCheckSchema, LlmStatCheckSchema], {
  description: 'a real check: HTTP health, a Prometheus query, no firing alerts for a service, or an LLM statistic',
});
export type CheckSpec = Static<typeof CheckSpecSchema>;
export type CheckKind = CheckSpec['kind'];

export interface CheckResult {
  kind: CheckKind;
  passed: boolean;
  /** What was actually seen: status code and latency, query samples, alert ids, the statistic. */
  observed: Record<string, unknown>;
  /** The condition that had to hold, in words. */
  expected: string;
  detail: string;
  at: string;
  duration_ms: number;
}
