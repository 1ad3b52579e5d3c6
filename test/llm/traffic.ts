/**
 * Synthetic LLM traffic for replay tests and the ingest benchmark: a diurnal request rate, log-normal
 * latencies and TTFTs, token counts and per-call cost, with knobs for outages, regressions and spikes.
 * Deterministic (seeded), so a failing run replays exactly.
 */
import { seededRandom } from '../support/random.ts';
import type { DrillCall } from '../../src/drills/traffic.ts';

// Replay tests and the OTLP load generator import it from here too.
export { seededRandom };

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

export interface Conditions {
  /** Multiplies the diurnal request rate. */
  rateFactor: number;
  /** Probability a call fails with 429 / with a 5xx. */
  rateLimitProbability: number;
  serverErrorProbability: number;
  ttftMedianMs: number;
  latencyMedianMs: number;
  /** Multiplies each call's cost. */
  costFactor: number;
  responseModel: string;
}

export const NORMAL: Conditions = {
  rateFactor: 1,
  // A healthy service: one call in 10,000 fails, well inside a 99.9% objective even in a quiet 6-hour window.
  rateLimitProbability: 0.00005,
  serverErrorProbability: 0.00005,
  ttftMedianMs: 300,
  latencyMedianMs: 1500,
  costFactor: 1,
  responseModel: 'gpt-4o-2024-08-06',
};

/** One call as `POST /api/v1/llm/requests` takes it, every measured field filled in (the drills' generator makes the same). */
export type SyntheticCall = DrillCall;

export interface TrafficOptions {
  service?: string;
  provider?: string;
  model?: string;
  /** Mean calls per minute at the daily average. */
  meanPerMinute?: number;
}

/** Calls for every minute in [fromMs, toMs) under the given conditions. */
export function generateCalls(r: () => number, fromMs: number, toMs: number, conditions: Conditions, options: TrafficOptions = {}): SyntheticCall[] {
  const calls: SyntheticCall[] = [];
  const mean = options.meanPerMinute ?? 30;
  for (let minute = fromMs; minute < toMs; minute += 60_000) {
    const hour = new Date(minute).getUTCHours() + new Date(minute).getUTCMinutes() / 60;
    // Peak mid-afternoon UTC, trough at night: 0.4× to 1.6× the mean.
    const rate = mean * conditions.rateFactor * (1 + 0.6 * Math.sin((2 * Math.PI * (hour - 9)) / 24));
    const count = Math.max(0, Math.round(rate + Math.sqrt(rate) * normal(r)));
    for (let i = 0; i < count; i++) {
      const started = minute + Math.floor(r() * 60_000);
      const u = r();
      const status = u < conditions.rateLimitProbability ? 429 : u < conditions.rateLimitProbability + conditions.serverErrorProbability ? 503 : 200;
      const ok = status === 200;
      const inputTokens = Math.round(400 + 200 * r());
      const outputTokens = ok ? Math.round(150 + 100 * r()) : 0;
      const ttft = conditions.ttftMedianMs * Math.exp(0.15 * normal(r));
      const latency = ok ? Math.max(ttft + 50, conditions.latencyMedianMs * Math.exp(0.2 * normal(r)) + (conditions.ttftMedianMs - NORMAL.ttftMedianMs)) : 80 + 40 * r();
      calls.push({
        service: options.service ?? 'chat-api',
        provider: options.provider ?? 'openai',
        model: options.model ?? 'gpt-4o',
        response_model: conditions.responseModel,
        started_at: new Date(started).toISOString(),
        latency_ms: Math.round(latency),
        ttft_ms: Math.round(ttft),
        http_status: status,
        input_tokens: inputTokens,
        output_tokens: outputTokens,
        cost_usd: ok ? (inputTokens * 2.5e-6 + outputTokens * 1e-5) * conditions.costFactor : 0,
      });
    }
  }
  return calls.sort((a, b) => a.started_at.localeCompare(b.started_at));
}

/** The same calls as an OTLP/JSON ExportTraceServiceRequest with GenAI span attributes. */
export function toOtlp(calls: readonly SyntheticCall[], extraSpans = 0): unknown {
  const byService = new Map<string, SyntheticCall[]>();
  for (const call of calls) byService.set(call.service, [...(byService.get(call.service) ?? []), call]);
  const nanos = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'opentelemetry.instrumentation.openai' },
          spans: [
            ...list.map((call, i) => {
              const start = Date.parse(call.started_at);
              const attributes = [
                { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                { key: 'gen_ai.provider.name', value: { stringValue: call.provider } },
                { key: 'gen_ai.request.model', value: { stringValue: call.model } },
                { key: 'gen_ai.response.model', value: { stringValue: call.response_model } },
                { key: 'gen_ai.usage.input_tokens', value: { intValue: String(call.input_tokens) } },
                { key: 'gen_ai.usage.output_tokens', value: { intValue: call.output_tokens } },
                { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
                { key: 'gen_ai.usage.cost', value: { doubleValue: call.cost_usd } },
                { key: 'gen_ai.server.time_to_first_token', value: { doubleValue: call.ttft_ms / 1000 } },
                ...(call.http_status >= 400 ? [{ key: 'error.type', value: { stringValue: String(call.http_status) } }] : []),
              ];
              return {
                traceId: (i + 1).toString(16).padStart(32, '0'),
                spanId: (i + 1).toString(16).padStart(16, '0'),
                name: `chat ${call.model}`,
                kind: 3,
                startTimeUnixNano: nanos(start),
                endTimeUnixNano: nanos(start + call.latency_ms),
                attributes,
                status: { code: call.http_status >= 400 ? 2 : 0 },
              };
            }),
            ...Array.from({ length: extraSpans }, (_, i) => ({
              traceId: 'f'.repeat(32),
              spanId: (i + 1).toString(16).padStart(16, '0'),
              name: 'GET /healthz',
              startTimeUnixNano: nanos(Date.parse(list[0]!.started_at)),
              endTimeUnixNano: nanos(Date.parse(list[0]!.started_at) + 3),
              attributes: [{ key: 'http.request.method', value: { stringValue: 'GET' } }],
            })),
          ],
        },
      ],
    })),
  };
}
