/**
 * One LLM call, normalised from an OTLP GenAI span or a JSON batch record, and the checks that keep
 * impossible values out of the aggregates and detector baselines.
 */

/** How a failed call failed. Availability SLOs count server errors, rate limits, timeouts and unclassified errors as bad. */
export const ERROR_KINDS = ['server_error', 'rate_limit', 'timeout', 'content_filter', 'client_error', 'other'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Error kinds that make a request count against an availability SLO (the service failed the caller). */
export const AVAILABILITY_BAD_KINDS: ReadonlySet<ErrorKind> = new Set(['server_error', 'rate_limit', 'timeout', 'other']);

export interface LlmCall {
  service: string;
  provider: string;
  /** The requested model (a rollout of a new response-model version stays in the same series). */
  model: string;
  responseModel: string | null;
  /** The prompt version the caller reported (OTLP: a configurable attribute; JSON: `prompt_version`). */
  promptVersion?: string | null;
  operation: string;
  startedAtMs: number;
  latencyMs: number;
  ttftMs: number | null;
  errorKind: ErrorKind | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  safetyFlagged: boolean;
}

/** Why a call was refused before it reached the aggregates. */
export const REJECTION_REASONS = [
  'negative_latency',
  'absurd_latency',
  'negative_ttft',
  'absurd_ttft',
  'negative_tokens',
  'absurd_tokens',
  'negative_cost',
  'absurd_cost',
  'future_timestamp',
  'stale_timestamp',
  'too_many_series',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const LIMITS = {
  /** One hour: no LLM call legitimately takes longer, and a clock-skewed span must not poison p99. */
  maxLatencyMs: 3_600_000,
  /** Context windows are at most a few million tokens. */
  maxTokens: 10_000_000,
  /** Per call, in USD. */
  maxCostUsd: 10_000,
  /** Timestamps further ahead of the server clock than this are clock skew or garbage. */
  maxFutureMs: 5 * 60_000,
  /** Older calls are refused: the aggregates and SLO windows do not reach that far back. */
  maxAgeMs: 7 * 24 * 3_600_000,
} as const;

/**
 * Series labels come from senders: control characters (PostgreSQL text cannot hold NUL) are replaced
 * and length is capped, so a hostile label cannot break storage or blow up memory.
 */
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const EVERY_CONTROL = /[\u0000-\u001f\u007f]/g;

export function cleanLabel(value: string): string {
  const cleaned = HAS_CONTROL.test(value) ? value.replace(EVERY_CONTROL, '\ufffd') : value;
  return cleaned.length > 200 ? cleaned.slice(0, 200) : cleaned;
}

/** Returns why the call is implausible, or null when it may be aggregated. */
export function rejectionReason(call: LlmCall, nowMs: number): RejectionReason | null {
  if (!Number.isFinite(call.latencyMs) || call.latencyMs < 0) return 'negative_latency';
  if (call.latencyMs > LIMITS.maxLatencyMs) return 'absurd_latency';
  if (call.ttftMs !== null) {
    if (!Number.isFinite(call.ttftMs) || call.ttftMs < 0) return 'negative_ttft';
    if (call.ttftMs > LIMITS.maxLatencyMs) return 'absurd_ttft';
  }
  for (const tokens of [call.inputTokens, call.outputTokens]) {
    if (!Number.isFinite(tokens) || tokens < 0) return 'negative_tokens';
    if (tokens > LIMITS.maxTokens) return 'absurd_tokens';
  }
  if (call.costUsd !== null) {
    if (!Number.isFinite(call.costUsd) || call.costUsd < 0) return 'negative_cost';
    if (call.costUsd > LIMITS.maxCostUsd) return 'absurd_cost';
  }
  if (!Number.isFinite(call.startedAtMs) || call.startedAtMs > nowMs + LIMITS.maxFutureMs) return 'future_timestamp';
  if (call.startedAtMs < nowMs - LIMITS.maxAgeMs) return 'stale_timestamp';
  return null;
}

/** Classifies an HTTP status code of a provider call. */
export function errorKindFromHttpStatus(status: number): ErrorKind | null {
  if (status < 400) return null;
  if (status === 429) return 'rate_limit';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'server_error';
  return 'client_error';
}

/**
 * Classifies OpenTelemetry's `error.type` (a low-cardinality class name or status code, e.g. `429`,
 * `timeout`, `RateLimitError`, `APITimeoutError`, `InternalServerError`).
 */
export function errorKindFromErrorType(errorType: string): ErrorKind {
  const text = errorType.trim();
  if (/^\d{3}$/.test(text)) return errorKindFromHttpStatus(Number(text)) ?? 'other';
  if (/rate.?limit|too.?many.?requests|quota|throttl/i.test(text)) return 'rate_limit';
  if (/time.?out|timed.?out|deadline/i.test(text)) return 'timeout';
  if (/content.?filter|safety|moderation|refus/i.test(text)) return 'content_filter';
  if (/server|internal|unavailable|overload|bad.?gateway|service/i.test(text)) return 'server_error';
  if (/invalid|bad.?request|auth|permission|not.?found|unprocessable|validation/i.test(text)) return 'client_error';
  return 'other';
}
