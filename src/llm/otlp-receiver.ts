/**
 * The OTLP export operations, shared by OTLP/HTTP (JSON and protobuf) and OTLP/gRPC: authenticate the
 * sender's integration key, convert, aggregate, and answer with `partialSuccess` as the OTLP
 * specification says (absent when everything was accepted; the rejected count and a message otherwise;
 * a zero count with a message for a warning, here spans or points accepted but not used).
 */
import { AppError } from '../shared/errors.ts';
import { callsFromOtlp, type OtlpTraceRequest } from './otlp.ts';
import { CumulativeStreams, samplesFromOtlpMetrics, type OtlpMetricsRequest } from './otlp-metrics.ts';
import type { LlmTelemetryService } from './service.ts';
import type { IngestKeyVerifier } from './routes.ts';

export interface TraceExportResponse {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
}
export interface MetricsExportResponse {
  partialSuccess?: { rejectedDataPoints: number; errorMessage: string };
}

/** The integration key from `Authorization: Bearer <key>` (HTTP header or gRPC metadata), else `?key=`. */
export function keyFromCredentials(authorization: string | undefined, queryKey: string | undefined): string | undefined {
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  return queryKey;
}

export class OtlpReceiver {
  /** Cumulative metric streams, so cumulative points become deltas (shared by every transport). */
  readonly streams = new CumulativeStreams();

  constructor(
    private readonly telemetry: LlmTelemetryService,
    private readonly keys: IngestKeyVerifier,
    /** The span attribute read as the prompt version (FIREBREAK_PROMPT_VERSION_ATTRIBUTE). */
    private readonly promptVersionAttribute?: string,
  ) {}

  async authenticate(key: string | undefined): Promise<{ name: string; service: string }> {
    if (!key) throw new AppError('unauthorized', 'send the integration key as Authorization: Bearer <key> or ?key=<key>');
    const sender = await this.keys.verify(key);
    if (!sender) throw new AppError('unauthorized', 'the integration key is not valid for LLM telemetry');
    return sender;
  }

  async exportTraces(request: OtlpTraceRequest, key: string | undefined): Promise<TraceExportResponse> {
    const sender = await this.authenticate(key);
    // Rate limits of integrations are sized for alerts, not telemetry volume, so they do not apply here.
    const { calls, ignoredSpans } = callsFromOtlp(request, sender.service, this.promptVersionAttribute);
    const outcome = this.telemetry.ingest(calls, 'otlp', sender.service);
    if (ignoredSpans > 0) this.telemetry.observeIgnored(ignoredSpans);
    // Accepted once written to the database (a failure is answered as such, and the exporter retries);
    // the detectors' and burn rates' own failures are logged and retried, not the sender's problem.
    await this.telemetry.persist();
    await this.telemetry.maintain().catch(() => undefined);
    const rejected = outcome.rejections.length;
    if (rejected === 0 && ignoredSpans === 0) return {};
    const parts: string[] = [];
    if (rejected > 0) {
      const byReason = new Map<string, number>();
      for (const r of outcome.rejections) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
      parts.push(`${rejected} GenAI spans rejected (${[...byReason].map(([reason, n]) => `${n} ${reason}`).join(', ')})`);
    }
    if (ignoredSpans > 0) parts.push(`${ignoredSpans} spans without GenAI attributes accepted and ignored`);
    return { partialSuccess: { rejectedSpans: rejected, errorMessage: parts.join('; ') } };
  }

  async exportMetrics(request: OtlpMetricsRequest, key: string | undefined): Promise<MetricsExportResponse> {
    const sender = await this.authenticate(key);
    const conversion = samplesFromOtlpMetrics(request, sender.service, this.streams);
    const outcome = this.telemetry.ingestAggregates(conversion.samples, sender.service);
    if (conversion.ignoredPoints > 0) this.telemetry.observeIgnored(conversion.ignoredPoints, 'otlp_metrics');
    await this.telemetry.persist();
    await this.telemetry.maintain().catch(() => undefined);
    const rejected = conversion.rejectedPoints + outcome.rejected;
    if (rejected === 0 && conversion.ignoredPoints === 0) return {};
    const parts: string[] = [];
    if (conversion.rejectedPoints > 0) parts.push(`${conversion.rejectedPoints} GenAI data points rejected (no time, or bucket counts that do not add up to the count)`);
    if (outcome.rejected > 0) parts.push(`${outcome.rejected} GenAI data points rejected (implausible time or values, or too many series)`);
    if (conversion.ignoredPoints > 0) {
      parts.push(`${conversion.ignoredPoints} data points of other metrics accepted and ignored (Firebreak reads gen_ai.client.operation.duration and gen_ai.client.token.usage histograms)`);
    }
    return { partialSuccess: { rejectedDataPoints: rejected, errorMessage: parts.join('; ') } };
  }
}
