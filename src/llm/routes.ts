import { Type } from 'typebox';
import { createGunzip } from 'node:zlib';
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HttpApp } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { requireObjectBody } from '../http/body.ts';
import { AppError, notFound } from '../shared/errors.ts';
import type { AppContext } from '../app/context.ts';
import { OtlpTraceRequestSchema, OtlpTraceResponseSchema } from './otlp.ts';
import { OtlpMetricsRequestSchema, OtlpMetricsResponseSchema } from './otlp-metrics.ts';
import { decodeOtlpRequest, encodeOtlpResponse, type OtlpSignal } from './otlp-proto.ts';
import { keyFromCredentials, type OtlpReceiver } from './otlp-receiver.ts';
import { DetectorStatusSchema, IngestResultSchema, LlmRequestBatchSchema, SloStatusSchema, StatsQuerySchema, StatsResponseSchema } from './schemas.ts';
import { callFromRecord } from './batch.ts';
import type { LlmTelemetryService } from './service.ts';

/** Who may send LLM telemetry. The ingest capability's integration keys plug in here. */
export interface IngestKeyVerifier {
  /** The sender and the service its key belongs to, or null when the key is not valid. */
  verify(key: string): Promise<{ name: string; service: string } | null>;
}

/** Telemetry bodies are large batches (an OTLP exporter sends up to 512 spans a request by default). */
const TELEMETRY_BODY_LIMIT = 16 * 1024 * 1024;

const KeyQuerySchema = Type.Object({ key: Type.Optional(Type.String({ maxLength: 500, description: 'integration key, when the sender cannot set Authorization' })) }, { additionalProperties: true });

const PROTOBUF_TYPES = ['application/x-protobuf', 'application/protobuf'];

async function authenticateSender(
  request: { headers: { authorization?: string | undefined }; query: { key?: string | undefined } },
  keys: IngestKeyVerifier,
): Promise<{ name: string; service: string }> {
  const header = request.headers.authorization;
  const key = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : request.query.key;
  if (!key) throw new AppError('unauthorized', 'send the integration key as Authorization: Bearer <key> or ?key=<key>');
  const sender = await keys.verify(key);
  if (!sender) throw new AppError('unauthorized', 'the integration key is not valid for LLM telemetry');
  return sender;
}

function isProtobuf(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type !== undefined && PROTOBUF_TYPES.includes(type);
}

export function llmRoutes(app: HttpApp, ctx: AppContext, telemetry: LlmTelemetryService, keys: IngestKeyVerifier, receiver: OtlpReceiver): void {
  const tags = ['llm'];
  const unauthorized = { 400: ProblemResponseSchema, 401: ProblemResponseSchema, 413: ProblemResponseSchema, 415: ProblemResponseSchema };

  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    // OTLP/HTTP's protobuf encoding (the default of the Python SDK and the Collector's otlphttp exporter),
    // decoded into the OTLP/JSON shape so both encodings share one schema and one converter.
    scope.addContentTypeParser(PROTOBUF_TYPES, { parseAs: 'buffer', bodyLimit: TELEMETRY_BODY_LIMIT }, (request, body, done) => {
      try {
        done(null, decodeOtlpRequest(request.routeOptions.url === '/v1/metrics' ? 'metrics' : 'traces', body as Buffer));
      } catch (error) {
        done(error as Error, undefined);
      }
    });

    // OTLP exporters (the Collector's by default) compress with gzip. The body limit applies to the
    // decompressed bytes, so a small compressed body cannot expand without bound.
    scope.addHook('preParsing', async (request, _reply, payload) => {
      const encoding = request.headers['content-encoding']?.trim().toLowerCase();
      if (!encoding || encoding === 'identity') return payload;
      if (encoding !== 'gzip') {
        throw new AppError('unsupported_media_type', `Content-Encoding ${encoding} is not supported: send gzip or no encoding`, { field: 'Content-Encoding' });
      }
      const gunzip = createGunzip();
      // A body that is not gzip is the sender's mistake: 400, not the zlib error's 500.
      const out = new PassThrough() as PassThrough & { receivedEncodedLength: number };
      out.receivedEncodedLength = 0;
      payload.on('data', (chunk: Buffer) => (out.receivedEncodedLength += chunk.length));
      payload.on('error', (error) => gunzip.destroy(error));
      gunzip.on('error', (error) => out.destroy(new AppError('malformed_input', `the body is not valid gzip: ${error.message}`, { field: 'Content-Encoding' })));
      return payload.pipe(gunzip).pipe(out);
    });
    scope.addHook('preValidation', async (request) => requireObjectBody(request.body));

    const answer = (signal: OtlpSignal, request: { headers: { 'content-type'?: string | undefined } }, reply: FastifyReply, response: Record<string, unknown>) => {
      // OTLP/HTTP answers in the encoding of the request.
      if (isProtobuf(request.headers['content-type'])) return reply.type('application/x-protobuf').send(encodeOtlpResponse(signal, response));
      return reply.send(response);
    };

    scope.post(
      '/v1/traces',
      {
        bodyLimit: TELEMETRY_BODY_LIMIT,
        config: { public: true },
        schema: {
          tags,
          summary: 'OTLP/HTTP trace receiver (JSON or protobuf, gzip or not): reads OpenTelemetry GenAI spans',
          security: [{ bearer: [] }],
          querystring: KeyQuerySchema,
          body: OtlpTraceRequestSchema,
          response: { 200: OtlpTraceResponseSchema, ...unauthorized },
        },
      },
      async (request, reply) => answer('traces', request, reply, { ...(await receiver.exportTraces(request.body, keyFromCredentials(request.headers.authorization, request.query.key))) }),
    );

    scope.post(
      '/v1/metrics',
      {
        bodyLimit: TELEMETRY_BODY_LIMIT,
        config: { public: true },
        schema: {
          tags,
          summary: 'OTLP/HTTP metrics receiver (JSON or protobuf, gzip or not): reads the GenAI client metrics gen_ai.client.operation.duration and gen_ai.client.token.usage',
          security: [{ bearer: [] }],
          querystring: KeyQuerySchema,
          body: OtlpMetricsRequestSchema,
          response: { 200: OtlpMetricsResponseSchema, ...unauthorized },
        },
      },
      async (request, reply) => answer('metrics', request, reply, { ...(await receiver.exportMetrics(request.body, keyFromCredentials(request.headers.authorization, request.query.key))) }),
    );

    scope.post(
      '/api/v1/llm/requests',
      {
        bodyLimit: TELEMETRY_BODY_LIMIT,
        config: { public: true },
        schema: {
          tags,
          summary: 'Record a batch of LLM calls (for teams without OpenTelemetry); implausible records are refused one by one',
          security: [{ bearer: [] }],
          querystring: KeyQuerySchema,
          body: LlmRequestBatchSchema,
          response: { 200: IngestResultSchema, ...unauthorized },
        },
      },
      async (request) => {
        const sender = await authenticateSender(request, keys);
        const outcome = telemetry.ingest(request.body.requests.map((record) => callFromRecord(record, sender.service)), 'json', sender.service);
        // Answered only once written: a call this server acknowledged survives its crash.
        await telemetry.persist();
        await telemetry.maintain().catch(() => undefined);
        return { accepted: outcome.accepted, rejected: outcome.rejections.length, rejections: outcome.rejections.slice(0, 100) };
      },
    );
  });

  app.get(
    '/api/v1/llm/stats',
    {
      schema: {
        tags,
        summary: 'Request rate, errors by kind, latency and TTFT quantiles, tokens/s, cost/hour and safety-flag rate per (service, provider, model)',
        querystring: StatsQuerySchema,
        response: { 200: StatsResponseSchema, 400: ProblemResponseSchema, 422: ProblemResponseSchema },
      },
    },
    async (request) => {
      const fromMs = Date.parse(request.query.from);
      const toMs = Date.parse(request.query.to);
      if (!(toMs > fromMs)) throw new AppError('validation_failed', 'to: must be after from', { field: 'to' });
      const stepSeconds = request.query.step ?? Math.ceil((toMs - fromMs) / 1000);
      if (request.query.step !== undefined && stepSeconds % 60 !== 0) throw new AppError('validation_failed', 'step: must be a multiple of 60 seconds', { field: 'step' });
      const series = await telemetry.stats({ fromMs, toMs, stepSeconds, service: request.query.service, provider: request.query.provider, model: request.query.model });
      return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), step_seconds: stepSeconds, series };
    },
  );

  app.get(
    '/api/v1/llm/detectors',
    {
      schema: {
        tags,
        summary: 'Anomaly detectors per series and signal: points learned, learning or not, open alert',
        querystring: Type.Object({ service: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: { 200: Type.Array(DetectorStatusSchema) },
      },
    },
    async (request) => telemetry.detectorStatuses(request.query.service),
  );

  app.get(
    '/api/v1/slos',
    { schema: { tags, summary: 'SLOs with error budget remaining and current burn rates', response: { 200: Type.Array(SloStatusSchema) } } },
    async () => telemetry.sloStatuses(),
  );

  app.get(
    '/api/v1/slos/:service',
    {
      schema: {
        tags,
        summary: "One service's SLOs with error budget remaining and current burn rates",
        params: Type.Object({ service: Type.String({ maxLength: 200 }) }),
        response: { 200: Type.Array(SloStatusSchema), 404: ProblemResponseSchema },
      },
    },
    async (request) => {
      const statuses = await telemetry.sloStatuses(request.params.service);
      if (statuses.length === 0) throw notFound('SLOs for service', request.params.service);
      return statuses;
    },
  );
  void ctx;
}
