import { errorKindFromHttpStatus, type ErrorKind, type LlmCall } from './records.ts';
import type { LlmRequestRecord } from './schemas.ts';

const STATUS_KINDS: Record<NonNullable<LlmRequestRecord['status']>, ErrorKind | null> = {
  ok: null,
  error: 'other',
  server_error: 'server_error',
  rate_limited: 'rate_limit',
  timeout: 'timeout',
  content_filtered: 'content_filter',
  client_error: 'client_error',
};

/** A JSON batch record as an LLM call; an HTTP status refines a generic `error` (or a missing status). */
export function callFromRecord(record: LlmRequestRecord, defaultService: string): LlmCall {
  const fromHttp = record.http_status !== undefined ? errorKindFromHttpStatus(record.http_status) : null;
  const fromStatus = record.status ? STATUS_KINDS[record.status] : null;
  const errorKind = fromStatus === 'other' || fromStatus === null ? (fromHttp ?? fromStatus) : fromStatus;
  return {
    service: record.service ?? defaultService,
    provider: record.provider,
    model: record.model,
    responseModel: record.response_model ?? null,
    promptVersion: record.prompt_version ?? null,
    operation: record.operation ?? 'chat',
    startedAtMs: Date.parse(record.started_at),
    latencyMs: record.latency_ms,
    ttftMs: record.ttft_ms ?? null,
    errorKind,
    inputTokens: record.input_tokens ?? 0,
    outputTokens: record.output_tokens ?? 0,
    costUsd: record.cost_usd ?? null,
    safetyFlagged: (record.safety_flags?.length ?? 0) > 0 || errorKind === 'content_filter',
  };
}
