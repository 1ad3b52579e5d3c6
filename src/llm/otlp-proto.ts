/**
 * The OTLP protobuf encoding, decoded with protobufjs from the official opentelemetry-proto definitions
 * (the static module generated from them that `@opentelemetry/otlp-transformer` ships). Decoded messages
 * are turned into the OTLP/JSON object shape (64-bit integers as decimal strings, enums as numbers), so
 * one schema and one converter serve both encodings.
 */
import { createRequire } from 'node:module';
import { AppError } from '../shared/errors.ts';

interface MessageType {
  decode(data: Uint8Array): object;
  toObject(message: object, options: { longs: StringConstructor; enums: NumberConstructor; bytes: StringConstructor }): Record<string, unknown>;
  fromObject(object: Record<string, unknown>): object;
  encode(message: object): { finish(): Uint8Array };
}

interface CollectorNamespace {
  trace: { v1: { ExportTraceServiceRequest: MessageType; ExportTraceServiceResponse: MessageType } };
  metrics: { v1: { ExportMetricsServiceRequest: MessageType; ExportMetricsServiceResponse: MessageType } };
}

const require = createRequire(import.meta.url);

export type OtlpSignal = 'traces' | 'metrics';

/** Loaded on first use: the generated module is large, and servers that only see OTLP/JSON never need it. */
let types: { requests: Record<OtlpSignal, MessageType>; responses: Record<OtlpSignal, MessageType> } | null = null;
function messageTypes() {
  if (!types) {
    const root = require('@opentelemetry/otlp-transformer/build/src/generated/root') as { opentelemetry: { proto: { collector: CollectorNamespace } } };
    const collector = root.opentelemetry.proto.collector;
    types = {
      requests: { traces: collector.trace.v1.ExportTraceServiceRequest, metrics: collector.metrics.v1.ExportMetricsServiceRequest },
      responses: { traces: collector.trace.v1.ExportTraceServiceResponse, metrics: collector.metrics.v1.ExportMetricsServiceResponse },
    };
  }
  return types;
}

/** An ExportTraceServiceRequest or ExportMetricsServiceRequest in the OTLP/JSON object shape; 400 when it does not decode. */
export function decodeOtlpRequest(signal: OtlpSignal, data: Uint8Array): Record<string, unknown> {
  const type = messageTypes().requests[signal];
  let message: object;
  try {
    message = type.decode(data);
  } catch (error) {
    throw new AppError('malformed_input', `the request body is not a protobuf Export${signal === 'traces' ? 'Trace' : 'Metrics'}ServiceRequest: ${(error as Error).message}`, {
      field: 'body',
    });
  }
  return type.toObject(message, { longs: String, enums: Number, bytes: String });
}

/** The protobuf ExportTraceServiceResponse / ExportMetricsServiceResponse for a JSON-shaped response object. */
export function encodeOtlpResponse(signal: OtlpSignal, response: Record<string, unknown>): Buffer {
  const type = messageTypes().responses[signal];
  return Buffer.from(type.encode(type.fromObject(response)).finish());
}

/** Test and benchmark helper: the protobuf encoding of a JSON-shaped request. */
export function encodeOtlpRequest(signal: OtlpSignal, request: Record<string, unknown>): Buffer {
  const type = messageTypes().requests[signal];
  return Buffer.from(type.encode(type.fromObject(request)).finish());
}
