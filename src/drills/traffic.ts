/**
 * Synthetic LLM traffic for drills: a diurnal call rate, log-normal latencies and times to first token,
 * token counts and per-call cost, with faults applied minute by minute. Deterministic: one seeded
 * generator per stream, so a run replays exactly from its seed whatever order streams are sent in.
 */
import type { Fault, TrafficStream } from './scenario.ts';
import { seededRandom } from '../shared/random.ts';
import type { LlmRequestRecord } from '../llm/index.ts';

/** One call as the JSON LLM-request endpoint takes it (`POST /api/v1/llm/requests`), every measured field filled in. */
export type DrillCall = Required<Omit<LlmRequestRecord, 'operation' | 'status' | 'safety_flags' | 'prompt_version'>> & Partial<Pick<LlmRequestRecord, 'safety_flags' | 'prompt_version'>>;

/** What the team's own monitoring would see in one minute of a service's traffic. */
export interface MinuteStats {
  calls: number;
  errors: number;
  server_errors: number;
  rate_limited: number;
  ttft_p95_ms: number | null;
  latency_p95_ms: number | null;
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** A stable per-stream seed, so adding a stream does not change the others' traffic. */
export function streamSeed(seed: number, stream: TrafficStream): number {
  let h = seed >>> 0;
  for (const ch of `${stream.service}/${stream.provider}/${stream.model}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** The conditions a stream's calls see in one minute: faults active then, on the provider the calls go to. */
export interface MinuteConditions {
  provider: string;
  faults: Fault[];
}

export class TrafficGenerator {
  private readonly random: () => number;

  constructor(
    readonly stream: TrafficStream,
    seed: number,
    /** The label the calls carry as their model: the stream's model, tagged per run so each run's detectors learn afresh. */
    private readonly modelLabel: string,
    private readonly serviceLabel: string,
  ) {
    this.random = seededRandom(streamSeed(seed, stream));
  }

  /**
   * Calls whose start falls in the simulated minute starting at `minuteStartMs`; `hourOfDay` places the
   * minute on the daily traffic curve (the scenario's clock, not the wall clock's, so a seed replays the
   * same traffic whenever the drill runs).
   */
  minute(minuteStartMs: number, conditions: MinuteConditions, hourOfDay: number): { calls: DrillCall[]; stats: MinuteStats } {
    const r = this.random;
    const s = this.stream;
    const applicable = conditions.faults.filter((f) => f.provider === undefined || f.provider === conditions.provider);
    const product = (pick: (f: Fault) => number | undefined) => applicable.reduce((acc, f) => acc * (pick(f) ?? 1), 1);
    const highest = (pick: (f: Fault) => number | undefined, base: number) => applicable.reduce((acc, f) => Math.max(acc, pick(f) ?? 0), base);
    const hour = hourOfDay;
    const amplitude = s.diurnal_amplitude ?? 0.3;
    // Peak mid-afternoon UTC, trough at night.
    const rate = s.calls_per_minute * product((f) => f.rate_factor) * (1 + amplitude * Math.sin((2 * Math.PI * (hour - 9)) / 24));
    const count = Math.max(0, Math.round(rate + Math.sqrt(rate) * normal(r)));
    const serverErrorRate = highest((f) => f.server_error_rate, s.error_rate ?? 0.0001);
    const rateLimitRate = highest((f) => f.rate_limit_rate, 0);
    // No background flags unless the scenario says: the safety detector treats a lone flag over a near-zero baseline as an anomaly.
    const safetyRate = highest((f) => f.safety_flag_rate, s.safety_flag_rate ?? 0);
    const ttftMedian = (s.ttft_ms ?? 300) * product((f) => f.ttft_factor);
    const latencyMedian = (s.latency_ms ?? 1500) * product((f) => f.latency_factor);
    const inputMean = (s.input_tokens ?? 500) * product((f) => f.input_token_factor);
    const outputMean = (s.output_tokens ?? 200) * product((f) => f.output_token_factor);
    const responseModel = [...applicable].reverse().find((f) => f.response_model)?.response_model ?? s.response_model ?? s.model;
    const inPrice = (s.usd_per_1k_input_tokens ?? 0.0025) / 1000;
    const outPrice = (s.usd_per_1k_output_tokens ?? 0.01) / 1000;
    const calls: DrillCall[] = [];
    const ttfts: number[] = [];
    const latencies: number[] = [];
    let serverErrors = 0;
    let rateLimited = 0;
    for (let i = 0; i < count; i++) {
      const started = minuteStartMs + Math.floor(r() * 60_000);
      const u = r();
      const status = u < rateLimitRate ? 429 : u < rateLimitRate + serverErrorRate ? 503 : 200;
      const ok = status === 200;
      const inputTokens = Math.max(1, Math.round(inputMean * (0.8 + 0.4 * r())));
      const outputTokens = ok ? Math.max(1, Math.round(outputMean * (0.75 + 0.5 * r()))) : 0;
      const ttft = ttftMedian * Math.exp(0.15 * normal(r));
      const latency = ok ? Math.max(ttft + 50, latencyMedian * Math.exp(0.2 * normal(r)) + (ttftMedian - (s.ttft_ms ?? 300))) : 80 + 40 * r();
      const flagged = ok && r() < safetyRate;
      if (status === 503) serverErrors++;
      if (status === 429) rateLimited++;
      if (ok) {
        ttfts.push(ttft);
        latencies.push(latency);
      }
      calls.push({
        service: this.serviceLabel,
        provider: conditions.provider,
        model: this.modelLabel,
        response_model: responseModel,
        started_at: new Date(started).toISOString(),
        latency_ms: Math.round(latency),
        ttft_ms: Math.round(ttft),
        http_status: status,
        input_tokens: inputTokens,
        output_tokens: outputTokens,
        cost_usd: ok ? inputTokens * inPrice + outputTokens * outPrice : 0,
        ...(flagged ? { safety_flags: ['jailbreak'] } : {}),
      });
    }
    calls.sort((a, b) => a.started_at.localeCompare(b.started_at));
    return {
      calls,
      stats: {
        calls: count,
        errors: serverErrors + rateLimited,
        server_errors: serverErrors,
        rate_limited: rateLimited,
        ttft_p95_ms: percentile(ttfts, 0.95),
        latency_p95_ms: percentile(latencies, 0.95),
      },
    };
  }
}

function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Faults of a service active in minute `minute` of the timeline. */
export function activeFaults(faults: readonly Fault[], service: string, minute: number): Fault[] {
  return faults.filter((f) => f.service === service && minute >= f.at && (f.until === undefined || minute < f.until));
}
