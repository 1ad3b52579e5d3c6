/**
 * Load generator for bench/llm/run.ts, run as its own process: GenAI spans through the real
 * OpenTelemetry JS SDK (a TracerProvider with a BatchSpanProcessor) and one of the real OTLP trace
 * exporters (http/json, http/protobuf or grpc). Prints one JSON line: spans sent, seconds, failures.
 *
 * usage: node --import tsx bench/llm/exporter-load.ts '<json spec>'
 */
import { Metadata } from '@grpc/grpc-js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';

interface Spec {
  encoding: 'http/json' | 'http/protobuf' | 'grpc';
  httpUrl: string;
  grpcUrl: string;
  key: string;
  spans: number;
  services: number;
}

const spec = JSON.parse(process.argv[2]!) as Spec;

function exporterFor(): SpanExporter {
  const headers = { authorization: `Bearer ${spec.key}` };
  if (spec.encoding === 'http/json') return new HttpJsonExporter({ url: `${spec.httpUrl}/v1/traces`, headers });
  if (spec.encoding === 'http/protobuf') return new HttpProtoExporter({ url: `${spec.httpUrl}/v1/traces`, headers });
  const metadata = new Metadata();
  metadata.set('authorization', headers.authorization);
  return new GrpcExporter({ url: spec.grpcUrl, metadata });
}

let failures = 0;
const exporter = exporterFor();
const counting: SpanExporter = {
  export(spans, done) {
    exporter.export(spans, (result) => {
      if (result.code !== 0) failures += spans.length;
      done(result);
    });
  },
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
};
// The SDK's default batch size (512 spans); the queue holds what is made between two flushes.
const providers = Array.from({ length: spec.services }, (_, s) => {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': `bench-svc-${s}` }),
    spanProcessors: [new BatchSpanProcessor({ exporter: counting, maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 200 })],
  });
  return { provider, tracer: provider.getTracer('bench') };
});

const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet'];
const started = performance.now();
const now = Date.now();
for (let i = 0; i < spec.spans; i++) {
  const { tracer } = providers[i % providers.length]!;
  const start = now - 60_000 + (i % 60_000);
  const span = tracer.startSpan('chat', {
    startTime: start,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': models[i % models.length]!,
      'gen_ai.response.model': models[i % models.length]!,
      'gen_ai.usage.input_tokens': 200 + (i % 500),
      'gen_ai.usage.output_tokens': 50 + (i % 200),
      'gen_ai.response.finish_reasons': ['stop'],
      ...(i % 50 === 0 ? { 'error.type': '429' } : {}),
    },
  });
  span.end(start + 300 + (i % 700));
  // Every 2,048 spans (a few batches per service) the exports are awaited, as an application's export
  // pipeline keeps up with it; otherwise the generator would outrun the exporters' concurrency limit.
  if (i % 2048 === 2047) await Promise.all(providers.map((p) => p.provider.forceFlush()));
}
await Promise.all(providers.map((p) => p.provider.forceFlush()));
const seconds = (performance.now() - started) / 1000;
await Promise.all(providers.map((p) => p.provider.shutdown()));
console.log(JSON.stringify({ spans: spec.spans, seconds, failures }));
