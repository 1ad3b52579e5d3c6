import client from 'prom-client';
import type { FirebreakModule } from '../app/context.ts';
import { compare } from '../checks/index.ts';
import type { IntegrationService } from '../ingest/index.ts';
import { llmMigrations } from './schema.ts';
import { LlmTelemetryService, DEFAULT_LLM_OPTIONS } from './service.ts';
import { loadSloConfig } from './config.ts';
import { llmRoutes, type IngestKeyVerifier } from './routes.ts';
import type { StatsPoint } from './buckets.ts';

export { LlmTelemetryService, DETECTED_SIGNALS, type LlmTelemetryOptions } from './service.ts';
export { QuantileSketch, type SerializedSketch } from './sketch.ts';
export { BURN_RATE_RULES, type SloDefinition } from './slo.ts';
export { llmMigrations } from './schema.ts';
export type { IngestKeyVerifier } from './routes.ts';
export type { LlmRequestRecord } from './schemas.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    llmTelemetry: LlmTelemetryService;
  }
}

/**
 * Telemetry is sent with an integration's routing key (the same keys alert senders use), so a team
 * needs one credential per service and a leaked key cannot read or change anything.
 */
export function integrationKeyVerifier(integrations: IntegrationService): IngestKeyVerifier {
  return {
    async verify(key) {
      const integration = await integrations.authenticate(key);
      return integration ? { name: integration.name, service: integration.service } : null;
    },
  };
}

const STAT_VALUES: Record<string, (s: StatsPoint) => number | null> = {
  error_rate: (s) => s.error_rate,
  rate_limit_rate: (s) => s.rate_limit_rate,
  latency_p50_ms: (s) => s.latency_ms.p50,
  latency_p95_ms: (s) => s.latency_ms.p95,
  latency_p99_ms: (s) => s.latency_ms.p99,
  ttft_p95_ms: (s) => s.ttft_ms.p95,
  cost_per_hour: (s) => s.cost_per_hour,
  safety_flag_rate: (s) => s.safety_flag_rate,
  requests_per_second: (s) => s.requests_per_second,
};

/** Per server: tests and embedders may run several in one process. */
const maintenanceTimers = new WeakMap<object, NodeJS.Timeout>();

export const llmModule: FirebreakModule = {
  name: 'llm',
  migrations: llmMigrations,
  async init(ctx) {
    const calls = new client.Counter({
      name: 'firebreak_llm_calls_total',
      help: 'LLM calls received as OTLP spans or JSON records, by source and outcome (accepted, ignored_non_genai, rejected_<reason>)',
      labelNames: ['source', 'outcome'] as const,
      registers: [ctx.metrics],
    });
    const telemetry = new LlmTelemetryService(
      ctx.database,
      ctx.clock,
      ctx.log,
      loadSloConfig(ctx.config.configDir),
      // Looked up at use, so the pipeline installed on ctx.services is the one used.
      () => ctx.services.alertSink,
      DEFAULT_LLM_OPTIONS,
      (source, outcome, count) => calls.inc({ source, outcome }, count),
    );
    new client.Gauge({
      name: 'firebreak_llm_open_buckets',
      help: 'LLM aggregation buckets held in memory',
      registers: [ctx.metrics],
      collect() {
        this.set(telemetry.openBucketCount);
      },
    });
    await telemetry.load();
    ctx.services.llmTelemetry = telemetry;
    ctx.events.on('alert.resolved', ({ alert }) => telemetry.forgetResolved(alert.dedup_key));
    ctx.services.checks.register('llm_stat', async (spec) => {
      const stats = await telemetry.statOverWindow({ service: spec.service, provider: spec.provider, model: spec.model }, spec.window_minutes);
      const expected = `${spec.stat} of ${spec.service} over ${spec.window_minutes} min ${spec.op} ${spec.threshold}`;
      const value = stats ? STAT_VALUES[spec.stat]!(stats) : null;
      if (value === null) {
        return { passed: false, observed: { requests: stats?.requests ?? 0 }, expected, detail: `no LLM calls from ${spec.service} in the last ${spec.window_minutes} min` };
      }
      const passed = compare(value, spec.op, spec.threshold);
      return { passed, observed: { [spec.stat]: value, requests: stats!.requests }, expected, detail: `${spec.stat} is ${value} over ${stats!.requests} calls` };
    });
  },
  routes(app, ctx) {
    llmRoutes(app, ctx, ctx.services.llmTelemetry, integrationKeyVerifier(ctx.services.integrations));
  },
  start(ctx) {
    // Burn rates must fall (and alerts resolve) even when traffic stops entirely.
    const timer = setInterval(() => void ctx.services.llmTelemetry.maintain().catch(() => undefined), 30_000);
    timer.unref();
    maintenanceTimers.set(ctx, timer);
  },
  async stop(ctx) {
    clearInterval(maintenanceTimers.get(ctx));
    maintenanceTimers.delete(ctx);
    await ctx.services.llmTelemetry.close();
  },
};
