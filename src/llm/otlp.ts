/**
 * OTLP/HTTP JSON trace payloads → LLM calls, following the OpenTelemetry GenAI semantic conventions
 * (gen_ai.* span attributes). Spans that are not GenAI calls are accepted and counted as ignored.
 */
import { Type, type Static } from 'typebox';
import { errorKindFromErrorType, errorKindFromHttpStatus, type ErrorKind, type LlmCall } from './records.ts';

// OTLP receivers must ignore fields they do not know (the protocol evolves), so these schemas check
// the structure Firebreak reads and let the rest through.
const AnyValueSchema = Type.Object({}, { additionalProperties: true });
export const KeyValueSchema = Type.Object({ key: Type.String(), value: Type.Optional(AnyValueSchema) }, { additionalProperties: true });
export const AttributesSchema = Type.Optional(Type.Array(KeyValueSchema));
export const NanosSchema = Type.Union([Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0 })]);

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
export type AttributeValue = string | number | boolean | AttributeValue[] | undefined;

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

export function attributeMap(attributes: readonly Attribute[] | undefined): Map<string, AttributeValue> {
  const map = new Map<string, AttributeValue>();
  if (attributes) for (const attribute of attributes) map.set(attribute.key, valueOf(attribute.value as Record<string, unknown> | undefined));
  return map;
}

export function text(map: Map<string, AttributeValue>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = map.get(key);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** Nanosecond timestamps arrive as decimal strings; milliseconds as doubles lose nothing that matters. */
export function nanosToMs(value: string | number): number {
  return typeof value === 'number' ? value / 1e6 : Number(value) / 1e6;
}

export interface OtlpConversion {
  calls: LlmCall[];
  /** Spans without GenAI attributes: accepted and ignored. */
  ignoredSpans: number;
}

/** The span attribute read as the prompt version unless FIREBREAK_PROMPT_VERSION_ATTRIBUTE names another. */
export const DEFAULT_PROMPT_VERSION_ATTRIBUTE = 'gen_ai.prompt.version';

/** `defaultService` (the integration's service) stands in for spans whose resource has no `service.name`. */
export function callsFromOtlp(request: OtlpTraceRequest, defaultService: string, promptVersionAttribute = DEFAULT_PROMPT_VERSION_ATTRIBUTE): OtlpConversion {
  const calls: LlmCall[] = [];
  let ignoredSpans = 0;
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributeMap(resourceSpans.resource?.attributes);
    const service = text(resource, 'service.name') ?? defaultService;
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const call = callFromSpan(span, service, promptVersionAttribute);
        if (call) calls.push(call);
        else ignoredSpans++;
      }
    }
  }
  return { calls, ignoredSpans };
}

export function asText(value: AttributeValue): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function asNumber(value: AttributeValue): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/**
 * One pass over a span's attributes (this is the ingest hot path: no per-span map). Newer convention
 * names win over the deprecated ones they replace (`gen_ai.provider.name` over `gen_ai.system`,
 * `input_tokens` over `prompt_tokens`).
 */
function callFromSpan(span: Static<typeof SpanSchema>, service: string, promptVersionAttribute: string): LlmCall | null {
  let genAi = false;
  let provider: string | undefined;
  let system: string | undefined;
  let requestModel: string | undefined;
  let responseModel: string | undefined;
  let operation: string | undefined;
  let inputTokens: number | undefined;
  let promptTokens: number | undefined;
  let outputTokens: number | undefined;
  let completionTokens: number | undefined;
  let cost: number | undefined;
  let ttftSeconds: number | undefined;
  let httpStatus: number | undefined;
  let errorType: string | undefined;
  let finishReasons: AttributeValue;
  let safetyFlag = false;
  let promptVersion: string | undefined;
  for (const attribute of span.attributes ?? []) {
    const key = attribute.key;
    if (key === promptVersionAttribute) {
      const version = valueOf(attribute.value as Record<string, unknown> | undefined);
      promptVersion = typeof version === 'number' ? String(version) : asText(version);
      continue;
    }
    if (!key.startsWith('gen_ai.') && !key.startsWith('http.') && key !== 'error.type' && key !== 'llm.usage.cost_usd') continue;
    const value = valueOf(attribute.value as Record<string, unknown> | undefined);
    switch (key) {
      case 'gen_ai.operation.name':
        genAi = true;
        operation = asText(value);
        break;
      case 'gen_ai.provider.name':
        genAi = true;
        provider = asText(value);
        break;
      case 'gen_ai.system':
        genAi = true;
        system = asText(value);
        break;
      case 'gen_ai.request.model':
        genAi = true;
        requestModel = asText(value);
        break;
      case 'gen_ai.response.model':
        responseModel = asText(value);
        break;
      case 'gen_ai.usage.input_tokens':
        inputTokens = asNumber(value);
        break;
      case 'gen_ai.usage.prompt_tokens':
        promptTokens = asNumber(value);
        break;
      case 'gen_ai.usage.output_tokens':
        outputTokens = asNumber(value);
        break;
      case 'gen_ai.usage.completion_tokens':
        completionTokens = asNumber(value);
        break;
      case 'gen_ai.usage.cost':
      case 'llm.usage.cost_usd':
        cost ??= asNumber(value);
        break;
      case 'gen_ai.server.time_to_first_token':
      case 'gen_ai.response.time_to_first_chunk':
        ttftSeconds ??= asNumber(value);
        break;
      case 'http.response.status_code':
      case 'http.status_code':
        httpStatus ??= asNumber(value);
        break;
      case 'error.type':
        errorType = asText(value);
        break;
      case 'gen_ai.response.finish_reasons':
        finishReasons = value;
        break;
      case 'gen_ai.safety.flagged':
        safetyFlag = value === true;
        break;
    }
  }
  if (!genAi) return null;
  const startMs = nanosToMs(span.startTimeUnixNano);
  const reasons = Array.isArray(finishReasons) ? finishReasons.map(String) : typeof finishReasons === 'string' ? [finishReasons] : [];
  const contentFiltered = reasons.some((r) => /content.?filter|safety/i.test(r));
  return {
    service,
    provider: provider ?? system ?? 'unknown',
    model: requestModel ?? responseModel ?? 'unknown',
    responseModel: responseModel ?? null,
    promptVersion: promptVersion ?? null,
    operation: operation ?? 'unknown',
    startedAtMs: startMs,
    latencyMs: nanosToMs(span.endTimeUnixNano) - startMs,
    ttftMs: ttftSeconds !== undefined ? ttftSeconds * 1000 : ttftFromEvents(span.events, startMs),
    errorKind: errorKindOf(httpStatus, errorType, span.status?.code, contentFiltered),
    inputTokens: inputTokens ?? promptTokens ?? 0,
    outputTokens: outputTokens ?? completionTokens ?? 0,
    costUsd: cost ?? null,
    safetyFlagged: contentFiltered || safetyFlag,
  };
}

/**
 * Time to first token has no span attribute in the conventions yet (it is the metric
 * `gen_ai.server.time_to_first_token`, in seconds); instrumentations record it as an attribute of
 * that name, as `gen_ai.response.time_to_first_chunk` (seconds), or as a span event.
 */
function ttftFromEvents(events: { timeUnixNano?: string | number | undefined; name?: string | undefined }[] | undefined, startMs: number): number | null {
  for (const event of events ?? []) {
    if (event.timeUnixNano !== undefined && event.name && /first.?(token|chunk)/i.test(event.name)) return nanosToMs(event.timeUnixNano) - startMs;
  }
  return null;
}

function errorKindOf(httpStatus: number | undefined, errorType: string | undefined, statusCode: number | string | undefined, contentFiltered: boolean): ErrorKind | null {
  if (httpStatus !== undefined && httpStatus >= 400) return errorKindFromHttpStatus(httpStatus);
  if (errorType) return errorKindFromErrorType(errorType);
  if (statusCode === 2 || statusCode === 'STATUS_CODE_ERROR') return 'other';
  if (contentFiltered) return 'content_filter';
  return null;
}
