import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { NORMAL, generateCalls, seededRandom, type Conditions } from './traffic.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = Date.parse('2026-11-16T00:00:00Z');

/**
 * Outages caught with no configuration: an application instrumented with the real OpenTelemetry SDK
 * exports its GenAI spans (OTLP/HTTP JSON) to a server with no slos.yaml. A day of normal diurnal
 * traffic pages nothing; then a provider outage (48% failed calls, ten times the latency, 28 minutes)
 * pages within two minutes of event time (error rate; the latency rule within five), on the error-rate and latency rules, each saying why.
 * Time is the test's: spans carry their own start and end, and the server's clock is injected.
 */
describeEachDatabase('LLM outage without SLOs, over the OpenTelemetry SDK', (kind) => {
  let server: TestServer;
  let database: TestDatabase;
  let configDir: string;
  let now = T0;
  let provider: TracerProvider;
  const r = seededRandom(2811);

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-otel-'));
    database = await createTestDatabase(kind);
    // The shipped allowed lateness (5 minutes): the outage rules judge minutes before they close, as burn rates do.
    server = await startTestServer(kind, { database, clock: () => new Date(now), config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    const key = (await server.api('POST', '/api/v1/integrations', { name: 'chat-api telemetry', service: 'chat-api' })).body.routing_key as string;
    const exporter = new OTLPTraceExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${key}` } });
    provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'chat-api' }),
      spanProcessors: [new BatchSpanProcessor({ exporter, maxExportBatchSize: 2000, maxQueueSize: 100_000, scheduledDelayMillis: 3_600_000 })],
    });
  });
  afterAll(async () => {
    await provider?.shutdown();
    await server?.close();
    await database?.drop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  /** The application's calls over [now, until), exported by the SDK at the end of each step. */
  async function replay(until: number, conditions: Conditions, stepMs: number): Promise<void> {
    const tracer = provider.getTracer('opentelemetry.instrumentation.openai');
    while (now < until) {
      const end = Math.min(until, now + stepMs);
      for (const call of generateCalls(r, now, end, conditions, { meanPerMinute: 25 })) {
        const start = Date.parse(call.started_at);
        const span = tracer.startSpan(`chat ${call.model}`, {
          kind: SpanKind.CLIENT,
          startTime: start,
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': call.provider,
            'gen_ai.request.model': call.model,
            'gen_ai.response.model': call.response_model,
            'gen_ai.usage.input_tokens': call.input_tokens,
            'gen_ai.usage.output_tokens': call.output_tokens,
            'gen_ai.usage.cost': call.cost_usd,
            'gen_ai.server.time_to_first_token': call.ttft_ms / 1000,
            ...(call.http_status >= 400 ? { 'error.type': String(call.http_status) } : {}),
          },
        });
        if (call.http_status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end(start + call.latency_ms);
      }
      now = end;
      await provider.forceFlush();
    }
    // One more request after the last step, so the server closes the minutes that are due.
    await server.api('GET', '/api/v1/llm/detectors?service=chat-api');
  }

  interface Alert {
    dedup_key: string;
    severity: string;
    status: string;
    signal_at: string;
    summary: string;
    details: Record<string, unknown>;
  }
  async function alerts(): Promise<Alert[]> {
    const response = await server.api<{ items: Alert[] }>('GET', '/api/v1/alerts?service=chat-api&limit=100');
    expect(response.status).toBe(200);
    return response.body.items;
  }

  it('pages nothing through a day of normal diurnal traffic', async () => {
    await replay(T0 + 24 * HOUR, NORMAL, HOUR);
    const stats = await server.api('GET', `/api/v1/llm/stats?service=chat-api&from=${new Date(T0).toISOString()}&to=${new Date(now).toISOString()}&step=3600`);
    expect(stats.status).toBe(200);
    expect(stats.body.series[0].points.reduce((n: number, p: { requests: number }) => n + p.requests, 0)).toBeGreaterThan(30_000);
    expect(await alerts()).toEqual([]);
  });

  it('pages on an outage within minutes with no SLO configured, saying why, before its minutes close', async () => {
    const start = now;
    const outage = { ...NORMAL, serverErrorProbability: 0.48, latencyMedianMs: 10 * NORMAL.latencyMedianMs };
    await replay(start + 5 * MINUTE, outage, MINUTE);
    const paged = (await alerts()).filter((a) => a.severity === 'critical');
    expect(paged.map((a) => a.dedup_key).sort()).toEqual(['llm-detector:chat-api:openai:gpt-4o:error_rate', 'llm-detector:chat-api:openai:gpt-4o:latency_p95_exceedance']);
    for (const alert of paged) {
      // Two firing minutes confirm a rule: the error rate's first two (half the calls fail), the latency rule's
      // once the pooled window holds enough slow calls of ~25 a minute. With 5 minutes of allowed lateness none
      // of those minutes has closed yet: the rules judged them open.
      expect(Date.parse(alert.signal_at)).toBeLessThanOrEqual(start + (alert.dedup_key.endsWith(':error_rate') ? 2 : 5) * MINUTE);
      expect(alert.details.minute_closed).toBe(false);
      const details = alert.details;
      expect(details.rule).toBe(alert.dedup_key.split(':').pop());
      expect(details.why as string).toMatch(/of \d+ calls .* baseline/);
      const band = details.band as { lower: number; upper: number };
      expect(details.value as number).toBeGreaterThan(band.upper);
      expect((details.values as { value: number | null }[]).some((v) => (v.value ?? 0) > 0.4)).toBe(true);
    }
    const errors = paged.find((a) => a.dedup_key.endsWith(':error_rate'))!;
    expect(errors.details.baseline as number).toBeLessThan(0.01);

    // The rest of the outage: the baselines do not learn it, so the alerts stay open throughout.
    await replay(start + 28 * MINUTE, outage, 2 * MINUTE);
    expect((await alerts()).filter((a) => a.status === 'firing').map((a) => a.dedup_key).sort()).toEqual(paged.map((a) => a.dedup_key).sort());
    // The listing shows the rate rules beside the signals' detectors, firing, with their alerts open and
    // the baseline they learned before the outage (it learned none of the outage's minutes).
    const detectors = await server.api<{ signal: string; kind: string; firing: boolean | null; alert_open: boolean; learning: boolean; baseline_share: number | null; last_value: number | null; slower_than_ms: number | null }[]>(
      'GET',
      '/api/v1/llm/detectors?service=chat-api',
    );
    expect(detectors.status).toBe(200);
    const rates = detectors.body.filter((d) => d.kind === 'rate');
    expect(rates.map((d) => d.signal).sort()).toEqual(['error_rate', 'latency_p95_exceedance']);
    for (const rule of rates) {
      expect(rule).toMatchObject({ firing: true, alert_open: true, learning: false });
      expect(rule.last_value!).toBeGreaterThan(rule.baseline_share! + 0.2);
    }
    expect(rates.find((d) => d.signal === 'error_rate')!.baseline_share!).toBeLessThan(0.01);
    expect(rates.find((d) => d.signal === 'latency_p95_exceedance')!.slower_than_ms!).toBeLessThan(outage.latencyMedianMs);
    expect(detectors.body.filter((d) => d.kind === 'anomaly').map((d) => d.signal).sort()).toEqual(['cost_per_hour', 'safety_flag_rate', 'tokens_per_second', 'ttft_p95_ms']);

    // Recovery resolves both, and nothing else was raised.
    await replay(now + 30 * MINUTE, NORMAL, 5 * MINUTE);
    const after = await alerts();
    expect(after.every((a) => a.status === 'resolved')).toBe(true);
    const recovered = (await server.api<{ kind: string; firing: boolean | null; alert_open: boolean }[]>('GET', '/api/v1/llm/detectors?service=chat-api')).body;
    expect(recovered.filter((d) => d.kind === 'rate').every((d) => d.firing === false && !d.alert_open)).toBe(true);
    expect(after.map((a) => a.dedup_key).sort()).toEqual(paged.map((a) => a.dedup_key).sort());
  });
});
