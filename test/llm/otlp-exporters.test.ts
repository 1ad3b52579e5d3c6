import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as HttpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPMetricExporter as HttpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { encodeOtlpRequest } from '../../src/llm/index.ts';

const MINUTE = 60_000;

type Encoding = 'http/json' | 'http/protobuf' | 'grpc';

function traceExporter(encoding: Encoding, server: TestServer, key: string, gzip = false): SpanExporter {
  const compression = gzip ? 'gzip' : 'none';
  switch (encoding) {
    case 'http/json':
      return new HttpJsonTraceExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${key}` }, compression: compression as never });
    case 'http/protobuf':
      return new HttpProtoTraceExporter({ url: `${server.url}/v1/traces?key=${key}`, compression: compression as never });
    case 'grpc': {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${key}`);
      return new GrpcTraceExporter({ url: `http://127.0.0.1:${server.firebreak.ctx.services.otlp.grpc!.port}`, metadata, compression: compression as never });
    }
  }
}

function metricExporter(encoding: Encoding, server: TestServer, key: string): PushMetricExporter {
  switch (encoding) {
    case 'http/json':
      return new HttpJsonMetricExporter({ url: `${server.url}/v1/metrics`, headers: { authorization: `Bearer ${key}` } });
    case 'http/protobuf':
      return new HttpProtoMetricExporter({ url: `${server.url}/v1/metrics`, headers: { authorization: `Bearer ${key}` } });
    case 'grpc': {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${key}`);
      return new GrpcMetricExporter({ url: `http://127.0.0.1:${server.firebreak.ctx.services.otlp.grpc!.port}`, metadata });
    }
  }
}

/** Real GenAI spans through a real SDK pipeline: `count` chat calls of `model` starting at `startMs`, one a second. */
async function sendSpans(exporter: SpanExporter, serviceName: string | null, model: string, startMs: number, count: number, failEvery = 0): Promise<void> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes(serviceName ? { 'service.name': serviceName } : {}),
    spanProcessors: [new BatchSpanProcessor({ exporter, maxExportBatchSize: 512, scheduledDelayMillis: 60_000 })],
  });
  const tracer = provider.getTracer('firebreak-test');
  for (let i = 0; i < count; i++) {
    const start = startMs + i * 1000;
    const failed = failEvery > 0 && i % failEvery === 0;
    const span = tracer.startSpan(`chat ${model}`, {
      startTime: new Date(start),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': model,
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20,
        ...(failed ? { 'error.type': '500' } : {}),
      },
    });
    span.end(new Date(start + 400));
  }
  await provider.forceFlush();
  await provider.shutdown();
}

async function statsOf(server: TestServer, query: string) {
  const from = new Date(Date.now() - 3 * 3_600_000).toISOString();
  const to = new Date(Date.now() + 10 * MINUTE).toISOString();
  const response = await server.api('GET', `/api/v1/llm/stats?from=${from}&to=${to}&${query}`);
  expect(response.status).toBe(200);
  const series = response.body.series as { service: string; model: string; points: { requests: number; input_tokens: number; output_tokens: number; errors: Record<string, number>; latency_ms: { p50: number | null } }[] }[];
  return series;
}

describeEachDatabase('OTLP from the real OpenTelemetry exporters', (kind) => {
  let server: TestServer;
  let key: string;
  let configDir: string;

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-otlp-'));
    server = await startTestServer(kind, { config: { otlpGrpcPort: 0, configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    key = (await server.api('POST', '/api/v1/integrations', { name: 'otel', service: 'chat-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  for (const encoding of ['http/json', 'http/protobuf', 'grpc'] as const) {
    for (const gzip of [false, true]) {
      it(`aggregates GenAI spans from the ${encoding} trace exporter${gzip ? ' with gzip' : ''}`, async () => {
        const model = `model-${encoding.replace('/', '-')}${gzip ? '-gz' : ''}`;
        const startMs = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;
        await sendSpans(traceExporter(encoding, server, key, gzip), 'chat-api', model, startMs, 40, 10);
        const [series] = await statsOf(server, `service=chat-api&model=${model}`);
        expect(series).toBeDefined();
        const point = series!.points[0]!;
        expect(point.requests).toBe(40);
        expect(point.input_tokens).toBe(4000);
        expect(point.output_tokens).toBe(800);
        expect(point.errors.server_error).toBe(4);
        expect(point.latency_ms.p50).toBeGreaterThan(390);
        expect(point.latency_ms.p50).toBeLessThan(410);
      });
    }

    it(`aggregates gen_ai.client.* metrics from the ${encoding} metrics exporter, cumulative points as deltas`, async () => {
      const model = `metrics-${encoding.replace('/', '-')}`;
      const exporter = metricExporter(encoding, server, key);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'chat-api' }), readers: [reader] });
      const meter = provider.getMeter('firebreak-test');
      const duration = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' });
      const tokens = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}' });
      const attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': model };
      const record = (calls: number) => {
        for (let i = 0; i < calls; i++) {
          duration.record(0.8, attributes);
          tokens.record(50, { ...attributes, 'gen_ai.token.type': 'input' });
          tokens.record(10, { ...attributes, 'gen_ai.token.type': 'output' });
        }
        duration.record(2, { ...attributes, 'error.type': 'RateLimitError' });
      };
      record(30);
      await reader.forceFlush();
      // The SDK's default is cumulative: the second export repeats the first 31 calls, which count once.
      record(9);
      await reader.forceFlush();
      await provider.shutdown();
      const [series] = await statsOf(server, `service=chat-api&model=${model}`);
      expect(series).toBeDefined();
      const total = series!.points.reduce(
        (sum, p) => ({ requests: sum.requests + p.requests, input: sum.input + p.input_tokens, output: sum.output + p.output_tokens, limited: sum.limited + (p.errors.rate_limit ?? 0) }),
        { requests: 0, input: 0, output: 0, limited: 0 },
      );
      expect(total).toEqual({ requests: 41, input: 39 * 50, output: 39 * 10, limited: 2 });
      // 0.8 s lies in the SDK's default (0.75, 1] bucket: its midpoint stands for those calls.
      expect(series!.points[0]!.latency_ms.p50).toBeGreaterThan(750);
      expect(series!.points[0]!.latency_ms.p50).toBeLessThan(1000);
    });
  }

  it('aggregates the calls of a service that is not in the catalogue under its own name', async () => {
    const startMs = Math.floor(Date.now() / MINUTE) * MINUTE - 20 * MINUTE;
    await sendSpans(traceExporter('http/protobuf', server, key), 'shadow-service', 'gpt-shadow', startMs, 25);
    const [series] = await statsOf(server, 'service=shadow-service');
    expect(series!.points[0]!.requests).toBe(25);
    const health = await server.api('GET', '/healthz');
    expect(health.status).toBe(200);
  });

  it('answers a protobuf request in protobuf, with partialSuccess for spans it rejects', async () => {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const span = (start: bigint, end: bigint) => ({
      name: 'chat',
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: end.toString(),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.request.model', value: { stringValue: 'partial' } },
      ],
    });
    // One call ends before it starts (negative latency): rejected, the other accepted.
    const body = encodeOtlpRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: [span(nowNs - 5_000_000_000n, nowNs - 4_000_000_000n), span(nowNs, nowNs - 1_000_000_000n)] }] }] });
    const response = await fetch(`${server.url}/v1/traces?key=${key}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: gzipSync(body) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-protobuf');
    const bytes = Buffer.from(await response.arrayBuffer());
    // ExportTraceServiceResponse { partial_success (1) { rejected_spans (1) = 1, error_message (2) } }
    expect(bytes[0]).toBe(0x0a);
    expect(bytes.includes(Buffer.from('negative_latency'))).toBe(true);
  });
});
