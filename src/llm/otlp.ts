/**
 * OTLP/HTTP JSON trace payloads → LLM calls, following the OpenTelemetry GenAI semantic conventions
 * (gen_ai.* span attributes). Spans that are not GenAI calls are accepted and counted as ignored.
 */
import { Type, type Static } from 'typebox';
import { errorKindFromErrorType, errorKindFromHttpStatus, type ErrorKind, type LlmCall } from './records.ts';

// OTLP receivers must ignore fields they do not know (the protocol evolves), so these schemas check
// the structure Firebreak reads and let the rest through.
const AnyValueSchema = Type.Object({}, { additionalProperties: true });
const KeyValueSchema = Type.Object({ key: Type.String(), value: Type.Optional(AnyValueSchema) }, { additionalProperties: true });
const AttributesSchema = Type.Optional(Type.Array(KeyValueSchema));
const NanosSchema = Type.Union([Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0 })]);

const SpanSchema = Type.Object(
  {
    name: Type.Optional(Type.String()),
    startTimeUnixNano: NanosSchema,
    endTimeUnixNano: NanosSchema,
    attributes: AttributesSchema,
    events: Type.Optional(Type.Array(Type.Object({ timeUnixNano: Type.Optional(NanosSchema), name: Type.Optional(Type.String()) }, { additionalProperties: true }))),
    status: Type.Optional(Type.Object({ code: Type.Optional(Type.Union([Type.Integer(), Type.String()])), message: Type.Optional(Type.String()) }, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

export const OtlpTraceRequestSchema = Type.Object(
  {
    resourceSpans: Type.Optional(
      Type.Array(
        Type.Object(
          {
            resource: Type.Optional(Type.Object({ attributes: AttributesSchema }, { additionalProperties: true })),
            scopeSpans: Type.Optional(Type.Array(Type.Object({ spans: Type.Optional(Type.Array(SpanSchema)) }, { additionalProperties: true }))),
          },
          { additionalProperties: true },
        ),
      ),
    ),
  },
  { additionalProperties: true, description: 'OTLP ExportTraceServiceRequest in the OTLP/JSON encoding' },
);
export type OtlpTraceRequest = Static<typeof OtlpTraceRequestSchema>;

export const OtlpTraceResponseSchema = Type.Object({
  partialSuccess: Type.Optional(Type.Object({ rejectedSpans: Type.Integer(), errorMessage: Type.String() })),
});

type Attribute = Static<typeof KeyValueSchema>;
type AttributeValue = string | number | boolean | AttributeValue[] | undefined;

function valueOf(value: Record<string, unknown> | undefined): AttributeValue {
  if (!value) return undefined;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  const array = value.arrayValue as { values?: Record<string, unknown>[] } | undefined;
  if (array && Array.isArray(array.values)) return array.values.map((v) => valueOf(v));
  return undefined;
}

function attributeMap(attributes: readonly Attribute[] | undefined): Map<string, AttributeValue> {
  const map = new Map<string, AttributeValue>();
  if (attributes) for (const attribute of attributes) map.set(attribute.key, valueOf(attribute.value as Record<string, unknown> | undefined));
  return map;
}

function text(map: Map<string, AttributeValue>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = map.get(key);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function number(map: Map<string, AttributeValue>, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = map.get(key);
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  return undefined;
}

/** Nanosecond timestamps arrive as decimal strings; milliseconds as doubles lose nothing that matters. */
function nanosToMs(value: string | number): number {
  return typeof value === 'number' ? value / 1e6 : Number(value) / 1e6;
}

export interface OtlpConversion {
  calls: LlmCall[];
  /** Spans without GenAI attributes: accepted and ignored. */
  ignoredSpans: number;
}

const GENAI_MARKERS = ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.system', 'gen_ai.request.model'];

/** `defaultService` (the integration's service) stands in for spans whose resource has no `service.name`. */
export function callsFromOtlp(request: OtlpTraceRequest, defaultService: string): OtlpConversion {
  const calls: LlmCall[] = [];
  let ignoredSpans = 0;
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributeMap(resourceSpans.resource?.attributes);
    const service = text(resource, 'service.name') ?? defaultService;
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const attributes = attributeMap(span.attributes);
        if (!GENAI_MARKERS.some((key) => attributes.has(key))) {
          ignoredSpans++;
          continue;
        }
        const startMs = nanosToMs(span.startTimeUnixNano);
        const latencyMs = nanosToMs(span.endTimeUnixNano) - startMs;
        const finishReasons = attributes.get('gen_ai.response.finish_reasons');
        const reasons = Array.isArray(finishReasons) ? finishReasons.map(String) : typeof finishReasons === 'string' ? [finishReasons] : [];
        const contentFiltered = reasons.some((r) => /content.?filter|safety/i.test(r));
        calls.push({
          service,
          provider: text(attributes, 'gen_ai.provider.name', 'gen_ai.system') ?? 'unknown',
          model: text(attributes, 'gen_ai.request.model', 'gen_ai.response.model') ?? 'unknown',
          responseModel: text(attributes, 'gen_ai.response.model') ?? null,
          operation: text(attributes, 'gen_ai.operation.name') ?? 'unknown',
          startedAtMs: startMs,
          latencyMs,
          ttftMs: ttftOf(attributes, span.events, startMs),
          errorKind: errorKindOf(attributes, span.status?.code, contentFiltered),
          inputTokens: number(attributes, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens') ?? 0,
          outputTokens: number(attributes, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens') ?? 0,
          costUsd: number(attributes, 'gen_ai.usage.cost', 'llm.usage.cost_usd') ?? null,
          safetyFlagged: contentFiltered || attributes.get('gen_ai.safety.flagged') === true,
        });
      }
    }
  }
  return { calls, ignoredSpans };
}

/**
 * Time to first token has no span attribute in the conventions yet (it is the metric
 * `gen_ai.server.time_to_first_token`, in seconds); instrumentations record it as an attribute of
 * that name, as `gen_ai.response.time_to_first_chunk` (seconds), or as a span event.
 */
function ttftOf(attributes: Map<string, AttributeValue>, events: { timeUnixNano?: string | number | undefined; name?: string | undefined }[] | undefined, startMs: number): number | null {
  const seconds = number(attributes, 'gen_ai.server.time_to_first_token', 'gen_ai.response.time_to_first_chunk');
  if (seconds !== undefined) return seconds * 1000;
  for (const event of events ?? []) {
    if (event.timeUnixNano !== undefined && event.name && /first.?(token|chunk)/i.test(event.name)) return nanosToMs(event.timeUnixNano) - startMs;
  }
  return null;
}

function errorKindOf(attributes: Map<string, AttributeValue>, statusCode: number | string | undefined, contentFiltered: boolean): ErrorKind | null {
  const httpStatus = number(attributes, 'http.response.status_code', 'http.status_code');
  if (httpStatus !== undefined && httpStatus >= 400) return errorKindFromHttpStatus(httpStatus);
  const errorType = text(attributes, 'error.type');
  if (errorType) return errorKindFromErrorType(errorType);
  if (statusCode === 2 || statusCode === 'STATUS_CODE_ERROR') return 'other';
  if (contentFiltered) return 'content_filter';
  return null;
}
