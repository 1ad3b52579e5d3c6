import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { pagerDutyErrorHandler, pagerDutyReject } from '../http/pagerduty.ts';
import { requireObjectBody } from '../http/body.ts';
import { AppError } from '../shared/errors.ts';
import { versionFromIfMatch } from '../shared/concurrency.ts';
import type { AppContext } from '../app/context.ts';
import { originOf, type IngestOutcome } from './alerts.ts';
import { contentDedupKey, signalFromEventsV2, signalFromGeneric, signalsFromAlertmanager } from './normalize.ts';
import {
  AlertActionSchema,
  AlertmanagerAcceptedSchema,
  AlertmanagerWebhookSchema,
  AlertPageSchema,
  AlertSchema,
  AlertWithRawSchema,
  CreatedIntegrationSchema,
  CreateIntegrationSchema,
  CreateLinkSchema,
  EventsV2AcceptedSchema,
  EventsV2RejectedSchema,
  EventsV2Schema,
  GenericAlertSchema,
  IncidentAlertSummarySchema,
  IncidentLinkSchema,
  IngestOutcomeSchema,
  IntegrationDetailSchema,
  IntegrationSchema,
  ListAlertsQuerySchema,
  MAX_ALERT_PAYLOAD_BYTES,
  DEFAULT_ALERTMANAGER_BODY_LIMIT,
  PutRoutingRulesSchema,
  RelatedResponseSchema,
  RoutingKeyQuerySchema,
  RoutingRuleSetSchema,
  RoutingTestSchema,
  type EventsV2Event,
  type Integration,
} from './schemas.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };
/** Ingestion endpoints authenticate with the integration's routing key, not an API token. */
const routingKeyAuth = { public: true } as const;
/** What a receiver authenticated by routing key can answer besides success: a bad key, a body too large, a rate limit. */
const routingKeyErrors = { ...errors, 401: ProblemResponseSchema, 413: ProblemResponseSchema, 429: ProblemResponseSchema };
const noBearer: Record<string, string[]>[] = [];

function bearerOrQueryKey(request: FastifyRequest, query: { key?: string | undefined }): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  return query.key;
}

function outcomeBody(outcome: IngestOutcome) {
  return { ...outcome, alert_id: outcome.alert_id ?? '' };
}

// ---------------------------------------------------------------------------------------------
// PagerDuty's error bodies: this endpoint answers exactly as the Events API does, so senders'
// retry logic (retry on 429 and 5xx, give up on 400) keeps working unchanged.


function requireTriggerFields(body: EventsV2Event): void {
  if (body.event_action === 'trigger' && !body.payload) throw new AppError('validation_failed', 'payload: is required to trigger', { field: 'payload' });
  if (body.event_action !== 'trigger' && !body.dedup_key) {
    throw new AppError('validation_failed', `dedup_key: is required to ${body.event_action}`, { field: 'dedup_key' });
  }
}

/** Ingest bodies must be objects: `null` (which the shared validator reads as `{}`), arrays and scalars are 400, never a 5xx. */
function bodyMustBeObject(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  // Callback-style (a throw here reaches Fastify as the hook's error): no promise per ingest request.
  requireObjectBody(request.body);
  done();
}

export function ingestRoutes(app: HttpApp, ctx: AppContext): void {
  const { integrations, alerts, routingRules, correlation } = ctx.services;
  const admin = { role: 'admin' as const };

  // A refused body is a sender losing data: say so, with the integration (when its key is in the
  // header or the URL; the Events API's is inside the refused body) and the size.
  const warnTooLarge = async (request: FastifyRequest): Promise<void> => {
    const query = request.query as { key?: unknown } | undefined;
    const key = bearerOrQueryKey(request, { key: typeof query?.key === 'string' ? query.key : undefined });
    const integration = key ? await integrations.authenticate(key).catch(() => null) : null;
    request.log.warn(
      {
        route: request.routeOptions.url ?? request.url.split('?')[0],
        integration: integration ? integration.name : null,
        integration_id: integration?.id ?? null,
        content_length: Number(request.headers['content-length'] ?? NaN) || null,
        body_limit: request.routeOptions.bodyLimit ?? null,
      },
      `request body refused as too large (413)${integration ? ` from integration ${integration.name}` : ''}: ${request.headers['content-length'] ?? 'unknown'} bytes, limit ${request.routeOptions.bodyLimit ?? '?'}`,
    );
  };
  // Callback-style: every ingest request runs this hook, and only a 413 has anything to do.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 413) return done();
    void warnTooLarge(request).then(() => done(), done);
  });

  const authenticate = async (key: string | undefined): Promise<Integration> => {
    const integration = await integrations.authenticate(key);
    if (!integration) {
      throw new AppError('unauthorized', key ? 'unknown routing key' : 'missing routing key: send it as the bearer token or ?key=');
    }
    return integration;
  };

  // ----------------------------------------------------------------------------- ingestion

  app.post(
    '/v2/enqueue',
    {
      config: routingKeyAuth,
      bodyLimit: MAX_ALERT_PAYLOAD_BYTES,
      errorHandler: pagerDutyErrorHandler(MAX_ALERT_PAYLOAD_BYTES, 'events API'),
      preValidation: bodyMustBeObject,
      schema: {
        tags: ['alerts'],
        summary: 'PagerDuty Events API v2 compatible: point any Events API sender at this URL',
        security: noBearer,
        body: EventsV2Schema,
        response: { 202: EventsV2AcceptedSchema, 400: EventsV2RejectedSchema, 413: EventsV2RejectedSchema, 429: EventsV2RejectedSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const integration = await integrations.authenticate(body.routing_key);
      if (!integration) return pagerDutyReject(reply, 400, ['Invalid routing key']);
      requireTriggerFields(body);
      integrations.checkRate(integration);
      const { routing_key: _secret, ...event } = body;
      const dedupKey = body.dedup_key ?? contentDedupKey(integration.id, event);
      const outcome = await alerts.ingestCoalesced(originOf(integration), signalFromEventsV2(body, dedupKey, JSON.stringify(event)));
      return reply.status(202).send({ status: 'success', message: 'Event processed', dedup_key: outcome.dedup_key });
    },
  );

  app.post(
    '/api/v1/integrations/alertmanager',
    {
      config: routingKeyAuth,
      // Alertmanager sends a whole group in one request (2,000 alerts are about 1 MB) and re-sends it
      // whole on any error, so a limit below the group size would lose every alert of it.
      bodyLimit: ctx.config.alertmanagerBodyLimitBytes ?? DEFAULT_ALERTMANAGER_BODY_LIMIT,
      preValidation: bodyMustBeObject,
      schema: {
        tags: ['alerts'],
        summary: 'Prometheus Alertmanager webhook receiver (version 4); routing key as bearer token or ?key=',
        security: noBearer,
        querystring: RoutingKeyQuerySchema,
        body: AlertmanagerWebhookSchema,
        response: { 202: AlertmanagerAcceptedSchema, ...routingKeyErrors },
      },
    },
    async (request, reply) => {
      const integration = await authenticate(bearerOrQueryKey(request, request.query));
      integrations.checkRate(integration, request.body.alerts.length);
      const origin = originOf(integration);
      // On any failure the answer is an error: Alertmanager re-sends the whole group, and dedup by
      // fingerprint makes the re-sent ones count as repeats, never as new alerts.
      const signals = signalsFromAlertmanager(request.body);
      const outcomes = await alerts.ingestDelivery(origin, signals, {
        truncatedAlerts: request.body.truncatedAlerts ?? 0,
        label: `Alertmanager group ${request.body.groupKey ?? ''} via receiver ${request.body.receiver ?? '?'}, ${signals.length} alerts`.replace('  ', ' '),
      });
      const results = outcomes.map((outcome, i) => ({ fingerprint: signals[i]!.dedupKey, ...outcomeBody(outcome) }));
      return reply.status(202).send({ status: 'success' as const, alerts: results });
    },
  );

  app.post(
    '/api/v1/alerts',
    {
      config: routingKeyAuth,
      bodyLimit: MAX_ALERT_PAYLOAD_BYTES,
      preValidation: bodyMustBeObject,
      schema: {
        tags: ['alerts'],
        summary: 'Generic JSON alert; routing key as bearer token or ?key=',
        security: noBearer,
        querystring: RoutingKeyQuerySchema,
        body: GenericAlertSchema,
        response: { 202: IngestOutcomeSchema, ...routingKeyErrors },
      },
    },
    async (request, reply) => {
      const integration = await authenticate(bearerOrQueryKey(request, request.query));
      const body = request.body;
      const action = body.action ?? 'trigger';
      if (action === 'trigger') {
        for (const field of ['summary', 'source', 'severity'] as const) {
          if (body[field] === undefined) throw new AppError('validation_failed', `${field}: is required to trigger`, { field });
        }
      } else if (!body.dedup_key) {
        throw new AppError('validation_failed', `dedup_key: is required to ${action}`, { field: 'dedup_key' });
      }
      integrations.checkRate(integration);
      const dedupKey = body.dedup_key ?? contentDedupKey(integration.id, body);
      const outcome = await alerts.ingest(originOf(integration), signalFromGeneric(body, dedupKey, JSON.stringify(body)));
      return reply.status(202).send(outcomeBody(outcome));
    },
  );

  // ----------------------------------------------------------------------------- integrations

  const integrationTags = ['integrations'];
  app.post(
    '/api/v1/integrations',
    { config: admin, schema: { tags: integrationTags, summary: 'Create an integration; its routing key is shown once', body: CreateIntegrationSchema, response: { 201: CreatedIntegrationSchema, ...errors } } },
    async (request, reply) => {
      const created = await integrations.create(request.body, actorOf(request));
      void reply.status(201).header('location', `/api/v1/integrations/${created.id}`);
      return created;
    },
  );
  app.get(
    '/api/v1/integrations',
    {
      config: admin,
      schema: {
        tags: integrationTags,
        querystring: Type.Object({ service: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: { 200: Type.Array(IntegrationDetailSchema) },
      },
    },
    async (request) => integrations.withActivity(await integrations.list(request.query.service), ctx.config.publicUrl),
  );
  app.get(
    '/api/v1/integrations/:id',
    { config: admin, schema: { tags: integrationTags, params: IdParams, response: { 200: IntegrationDetailSchema, 404: ProblemResponseSchema } } },
    async (request) => (await integrations.withActivity([await integrations.get(request.params.id)], ctx.config.publicUrl))[0]!,
  );
  app.delete(
    '/api/v1/integrations/:id',
    { config: admin, schema: { tags: integrationTags, summary: 'Delete an integration; its routing key stops working', params: IdParams, response: { 200: IntegrationSchema, 404: ProblemResponseSchema } } },
    async (request) => integrations.delete(request.params.id),
  );

  // ----------------------------------------------------------------------------- alerts

  const alertTags = ['alerts'];
  app.get(
    '/api/v1/alerts',
    { schema: { tags: alertTags, summary: 'List alerts, newest first', querystring: ListAlertsQuerySchema, response: { 200: AlertPageSchema, 400: ProblemResponseSchema } } },
    async (request) => alerts.list(request.query),
  );
  app.get(
    '/api/v1/alerts/:id',
    { schema: { tags: alertTags, summary: 'One alert with its latest raw payload', params: IdParams, response: { 200: AlertWithRawSchema, 404: ProblemResponseSchema } } },
    async (request) => alerts.getWithRaw(request.params.id),
  );
  app.post(
    '/api/v1/alerts/:id/acknowledge',
    { schema: { tags: alertTags, params: IdParams, body: Type.Optional(AlertActionSchema), response: { 200: AlertSchema, ...errors } } },
    async (request) => alerts.acknowledgeById(request.params.id, actorOf(request)),
  );
  app.post(
    '/api/v1/alerts/:id/resolve',
    { schema: { tags: alertTags, params: IdParams, body: Type.Optional(AlertActionSchema), response: { 200: AlertSchema, ...errors } } },
    async (request) => alerts.resolveById(request.params.id, actorOf(request)),
  );
  app.get(
    '/api/v1/incidents/:id/alerts',
    {
      schema: {
        tags: alertTags,
        summary: "An incident's alerts and their totals (occurrences counted over all of them)",
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ summary: IncidentAlertSummarySchema, items: Type.Array(AlertSchema) }), 404: ProblemResponseSchema },
      },
    },
    async (request) => ({
      summary: await alerts.summaryForIncident(request.params.id),
      items: await alerts.listByIncident(request.params.id, request.query.limit ?? 100),
    }),
  );

  // ----------------------------------------------------------------------------- routing rules

  const ruleTags = ['routing rules'];
  app.get('/api/v1/routing-rules', { schema: { tags: ruleTags, summary: 'The rule set in force', response: { 200: RoutingRuleSetSchema } } }, async (_request, reply) => {
    const current = await routingRules.get();
    void reply.header('etag', `"${current.version}"`);
    return current;
  });
  app.put(
    '/api/v1/routing-rules',
    {
      config: admin,
      schema: {
        tags: ruleTags,
        summary: 'Replace the rule set (a new version); send the version it is based on as If-Match or `version`',
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        body: PutRoutingRulesSchema,
        response: { 200: RoutingRuleSetSchema, ...errors },
      },
    },
    async (request, reply) => {
      const expected = versionFromIfMatch(request.headers['if-match']) ?? request.body.version;
      const saved = await routingRules.put(request.body.yaml, expected, actorOf(request));
      void reply.header('etag', `"${saved.version}"`);
      return saved;
    },
  );
  app.get(
    '/api/v1/routing-rules/versions',
    {
      schema: {
        tags: ruleTags,
        response: { 200: Type.Array(Type.Object({ version: Type.Integer(), source: Type.String(), created_at: Type.String(), created_by: Type.String() })) },
      },
    },
    async () => routingRules.history(),
  );
  app.post(
    '/api/v1/routing-rules/test',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ruleTags,
        summary: 'Dry run: what the rules in force decide for an alert with these labels',
        body: RoutingTestSchema,
        response: {
          200: Type.Object({
            action: Type.String(),
            service: Type.String(),
            severity: Type.String(),
            rule: Type.String(),
            modified_by: Type.Array(Type.String()),
            reason: Type.String(),
            attach_to: Type.Union([Type.String(), Type.Null()]),
            suppressed_until: Type.Union([Type.String(), Type.Null()]),
            group_window_minutes: Type.Integer(),
          }),
          400: ProblemResponseSchema,
        },
      },
    },
    async (request) => {
      const { service, severity, labels, at } = request.body;
      const decision = await routingRules.route({ service, severity, labels: labels ?? {} }, at ? new Date(at) : ctx.clock());
      return {
        action: decision.action,
        service: decision.service,
        severity: decision.severity,
        rule: decision.rule,
        modified_by: decision.modifiedBy,
        reason: decision.reason,
        attach_to: decision.attachTo ?? null,
        suppressed_until: decision.suppressedUntil ?? null,
        group_window_minutes: decision.groupWindowMinutes,
      };
    },
  );

  // ----------------------------------------------------------------------------- correlation

  const correlationTags = ['correlation'];
  app.get(
    '/api/v1/incidents/:id/related',
    {
      schema: {
        tags: correlationTags,
        summary: 'Incidents that likely belong with this one, with score, evidence and reason, and the recorded links',
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) }, { additionalProperties: false }),
        response: { 200: RelatedResponseSchema, 404: ProblemResponseSchema },
      },
    },
    async (request) => correlation.related(request.params.id, request.query.limit ?? 20),
  );
  app.get(
    '/api/v1/incidents/:id/links',
    { schema: { tags: correlationTags, params: IdParams, response: { 200: Type.Array(IncidentLinkSchema) } } },
    async (request) => {
      await ctx.services.incidents.get(request.params.id);
      return correlation.links(request.params.id);
    },
  );
  app.post(
    '/api/v1/incidents/:id/links',
    {
      schema: {
        tags: correlationTags,
        summary: 'Link this incident to another: related, duplicate_of or caused_by',
        params: IdParams,
        body: CreateLinkSchema,
        response: { 201: IncidentLinkSchema, ...errors },
      },
    },
    async (request, reply) => {
      void reply.status(201);
      return correlation.link(request.params.id, request.body, actorOf(request));
    },
  );
  app.delete(
    '/api/v1/incidents/:id/links/:linkId',
    {
      schema: {
        tags: correlationTags,
        params: Type.Object({ id: Type.String({ maxLength: 64 }), linkId: Type.Integer({ minimum: 1 }) }),
        response: { 200: IncidentLinkSchema, 404: ProblemResponseSchema },
      },
    },
    async (request) => correlation.unlink(request.params.id, request.params.linkId, actorOf(request)),
  );
}
