/**
 * OTLP/gRPC: `TraceService/Export` and `MetricsService/Export` on their own port (grpc-js, messages
 * decoded with the opentelemetry-proto definitions). The integration key is the `authorization: Bearer
 * <key>` metadata, as OTLP exporters send headers. Plaintext HTTP/2: terminate TLS in front of it.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AppError } from '../shared/errors.ts';
import { decodeOtlpRequest, encodeOtlpResponse, type OtlpSignal } from './otlp-proto.ts';
import { keyFromCredentials, type OtlpReceiver } from './otlp-receiver.ts';
import type { OtlpTraceRequest } from './otlp.ts';
import type { OtlpMetricsRequest } from './otlp-metrics.ts';

/** Large enough for an exporter's biggest batch, as the HTTP receiver's body limit. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

type Handler = grpc.handleUnaryCall<Buffer, Record<string, unknown>>;

function methodDefinition(signal: OtlpSignal, path: string): grpc.MethodDefinition<Buffer, Record<string, unknown>> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    // Decoded in the handler, so an undecodable message gets INVALID_ARGUMENT with the reason.
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Record<string, unknown>) => encodeOtlpResponse(signal, value),
    responseDeserialize: () => ({}),
    originalName: 'export',
  };
}

const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: methodDefinition('traces', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'),
};
const METRICS_SERVICE: grpc.ServiceDefinition = {
  Export: methodDefinition('metrics', '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'),
};

/** OTLP's gRPC status codes: UNAUTHENTICATED and INVALID_ARGUMENT are not retried by exporters; UNAVAILABLE is. */
function grpcStatusOf(error: unknown): { code: grpc.status; details: string } {
  if (error instanceof AppError) {
    switch (error.code) {
      case 'unauthorized':
        return { code: grpc.status.UNAUTHENTICATED, details: error.message };
      case 'malformed_input':
      case 'validation_failed':
        return { code: grpc.status.INVALID_ARGUMENT, details: error.message };
      case 'payload_too_large':
        return { code: grpc.status.RESOURCE_EXHAUSTED, details: error.message };
      default:
        return { code: grpc.status.UNAVAILABLE, details: error.message };
    }
  }
  return { code: grpc.status.UNAVAILABLE, details: 'internal error; retry later' };
}

export class OtlpGrpcServer {
  private server: grpc.Server | null = null;
  private boundPort: number | null = null;

  constructor(
    private readonly receiver: OtlpReceiver,
    private readonly log: Logger,
  ) {}

  /** The port it listens on, once started. */
  get port(): number | null {
    return this.boundPort;
  }

  private handler(signal: OtlpSignal): Handler {
    return (call, callback) => {
      const authorization = call.metadata.get('authorization')[0];
      const key = keyFromCredentials(typeof authorization === 'string' ? authorization : authorization?.toString('utf8'), undefined);
      void (async () => {
        try {
          const request = decodeOtlpRequest(signal, call.request);
          const response =
            signal === 'traces'
              ? await this.receiver.exportTraces(request as OtlpTraceRequest, key)
              : await this.receiver.exportMetrics(request as OtlpMetricsRequest, key);
          callback(null, response as Record<string, unknown>);
        } catch (error) {
          const status = grpcStatusOf(error);
          if (status.code === grpc.status.UNAVAILABLE) this.log.error({ err: error, signal }, 'OTLP/gRPC export failed');
          callback({ code: status.code, details: status.details, name: 'OtlpExportError', message: status.details, metadata: new grpc.Metadata() });
        }
      })();
    };
  }

  async start(host: string, port: number): Promise<number> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
    server.addService(TRACE_SERVICE, { Export: this.handler('traces') });
    server.addService(METRICS_SERVICE, { Export: this.handler('metrics') });
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) => (error ? reject(error) : resolve(actual)));
    });
    this.server = server;
    this.boundPort = bound;
    this.log.info({ port: bound }, 'OTLP/gRPC receiver listening');
    return bound;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.boundPort = null;
    await new Promise<void>((resolve) => {
      // In-flight exports finish first; a stuck one is cut after a few seconds.
      const timer = setTimeout(() => server.forceShutdown(), 5000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
