import client from 'prom-client';
import type { Logger } from 'pino';
import { defineModule } from '../app/context.ts';
import { compare } from '../checks/index.ts';
import type { IntegrationService } from '../ingest/index.ts';
import { llmMigrations } from './schema.ts';
import { LlmTelemetryService, DEFAULT_LLM_OPTIONS, formatNumber } from './service.ts';
import { loadSloConfig } from './config.ts';
import { llmRoutes, type IngestKeyVerifier } from './routes.ts';
import { OtlpReceiver } from './otlp-receiver.ts';
import type { OtlpGrpcServer } from './otlp-grpc.ts';
import type { StatsPoint } from './buckets.ts';

export { LlmTelemetryService, DETECTED_SIGNALS, type LlmTelemetryOptions } from './service.ts';
export { QuantileSketch, type SerializedSketch } from './sketch.ts';
export { BURN_RATE_RULES, type SloDefinition } from './slo.ts';
export { llmMigrations } from './schema.ts';
export type { IngestKeyVerifier } from './routes.ts';
export { encodeOtlpRequest } from './otlp-proto.ts';
export type { OtlpGrpcServer } from './otlp-grpc.ts';
export type { LlmRequestRecord } from './schemas.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    llmTelemetry: LlmTelemetryService;
    otlp: OtlpEndpoints;
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

/** The OTLP receiver behind the HTTP routes, and the gRPC server while the module's `listen` has it open. */
export class OtlpEndpoints {
  #grpc: OtlpGrpcServer | null = null;

  constructor(readonly receiver: OtlpReceiver) {}

  get grpc(): OtlpGrpcServer | null {
    return this.#grpc;
  }

  async openGrpc(host: string, port: number, log: Logger): Promise<void> {
    // Loaded only when gRPC is on, so a server without it does not pay for grpc-js at start.
    const { OtlpGrpcServer } = await import('./otlp-grpc.ts');
    const grpc = new OtlpGrpcServer(this.receiver, log);
    await grpc.start(host, port);
    this.#grpc = grpc;
  }

  async closeGrpc(): Promise<void> {
    const grpc = this.#grpc;
    this.#grpc = null;
    await grpc?.stop();
  }
}

/** Every this long the telemetry closes due buckets, evaluates burn rates and resolves alerts, with or without traffic. */
const MAINTENANCE_INTERVAL_MS = 30_000;

export const llmModule = defineModule({
  name: 'llm',
  migrations: llmMigrations,
  needs: ['integrations', 'checks'],
  // Without an alert pipeline the detectors still run and say in the log that their alerts went nowhere.
  uses: ['alertSink'],
  provides: ['llmTelemetry', 'otlp'],
  async init(ctx) {
    const { alertSink } = ctx.services;
    const calls = new client.Counter({
      name: 'firebreak_llm_calls_total',
      help: 'LLM calls received as OTLP spans, OTLP metric points or JSON records, by source (otlp, otlp_metrics, json) and outcome (accepted, ignored_non_genai, rejected_<reason>)',
      labelNames: ['source', 'outcome'] as const,
      registers: [ctx.metrics],
    });
    const late = new client.Counter({
      name: 'firebreak_llm_late_calls_total',
      help: 'Accepted LLM calls that arrived after their minute had closed (later than the allowed lateness): in the roll-ups, not seen by the detectors',
      labelNames: ['source'] as const,
      registers: [ctx.metrics],
    });
    const telemetry = new LlmTelemetryService(
      ctx.database,
      ctx.clock,
      ctx.log,
      loadSloConfig(ctx.config.configDir),
      () => alertSink,
      { ...DEFAULT_LLM_OPTIONS, allowedLatenessMs: ctx.config.llmAllowedLatenessMs ?? DEFAULT_LLM_OPTIONS.allowedLatenessMs },
      (source, outcome, count) => (outcome === 'late' ? late.inc({ source }, count) : calls.inc({ source, outcome }, count)),
      // Series and burn-rate jobs are leased with the storage job primitive: one server judges each at a time.
      { queue: ctx.worker.queue, owner: ctx.worker.owner },
    );
    let failuresSeen = 0;
    new client.Counter({
      name: 'firebreak_llm_series_maintenance_failures_total',
      help: 'Times one LLM series failed in maintenance (logged; the other series went on)',
      registers: [ctx.metrics],
      collect() {
        const now = telemetry.counts.seriesMaintenanceFailures;
        if (now > failuresSeen) this.inc(now - failuresSeen);
        failuresSeen = now;
      },
    });
    new client.Gauge({
      name: 'firebreak_llm_open_buckets',
      help: 'Open LLM aggregation minutes in the database, one per (series, minute, server that took calls for it)',
      registers: [ctx.metrics],
      async collect() {
        this.set(await telemetry.openPartialCount());
      },
    });
    await telemetry.load();
    const otlp = new OtlpEndpoints(new OtlpReceiver(telemetry, integrationKeyVerifier(ctx.services.integrations), ctx.config.promptVersionAttribute));
    // Burn rates must fall (and alerts resolve) even when traffic stops entirely. Every server looks for the
    // series and burn-rate jobs that are due; each runs on the one server whose claim holds its lease.
    ctx.worker.every('llm.maintenance', { intervalMs: MAINTENANCE_INTERVAL_MS, run: () => telemetry.maintain() });
    ctx.events.on('alert.resolved', ({ alert }) => telemetry.forgetResolved(alert.dedup_key));
    ctx.services.checks.register('llm_stat', async (spec) => {
      const stats = await telemetry.statOverWindow({ service: spec.service, provider: spec.provider, model: spec.model }, spec.window_minutes);
      const expected = `${spec.stat} of ${spec.service} over ${spec.window_minutes} min ${spec.op} ${spec.threshold}`;
      const value = stats ? STAT_VALUES[spec.stat]!(stats) : null;
      if (value === null) {
        return { passed: false, observed: { requests: stats?.requests ?? 0 }, expected, detail: `no LLM calls from ${spec.service} in the last ${spec.window_minutes} min` };
      }
      const passed = compare(value, spec.op, spec.threshold);
      return { passed, observed: { [spec.stat]: value, requests: stats!.requests }, expected, detail: `${spec.stat} is ${formatNumber(value)} over ${stats!.requests} calls` };
    });
    return { llmTelemetry: telemetry, otlp };
  },
  routes(app, ctx) {
    llmRoutes(app, ctx, ctx.services.llmTelemetry, integrationKeyVerifier(ctx.services.integrations), ctx.services.otlp.receiver);
  },
  async listen(ctx) {
    const port = ctx.config.otlpGrpcPort;
    if (port === null || port === undefined) return;
    try {
      await ctx.services.otlp.openGrpc(ctx.config.host, port, ctx.log);
    } catch (error) {
      // HTTP ingest (and everything else) still works; the operator is told why gRPC does not.
      ctx.log.error({ err: error, port }, `the OTLP/gRPC receiver could not listen on port ${port}; OTLP/HTTP still works (set FIREBREAK_OTLP_GRPC_PORT to a free port, or 0 to turn gRPC off)`);
    }
  },
  async unlisten(ctx) {
    await ctx.services.otlp.closeGrpc();
  },
  async stop(ctx) {
    await ctx.services.llmTelemetry.close();
  },
});
