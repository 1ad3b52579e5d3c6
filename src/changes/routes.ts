import type { FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../app/context.ts';
import { actorOf, type HttpApp } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { pagerDutyErrorHandler, pagerDutyReject } from '../http/pagerduty.ts';
import { roleAllows } from '../auth/index.ts';
import type { Integration } from '../ingest/index.ts';
import { AppError } from '../shared/errors.ts';
import { parseWithSchema } from '../shared/validation.ts';
import { GITHUB_RECORDED_STATES, draftFromArgoCd, draftFromGitHub, draftFromPagerDuty } from './domain.ts';
import type { ChangeService } from './service.ts';
import { verifyGitHubSignature } from './signature.ts';
import {
  ArgoCdNotificationSchema,
  ChangePageSchema,
  ChangeSchema,
  CreateChangeSchema,
  GitHubDeploymentStatusSchema,
  ListChangesQuerySchema,
  PagerDutyAcceptedSchema,
  PagerDutyChangeEventSchema,
  PagerDutyRejectedSchema,
  SuspectsQuerySchema,
  SuspectsResponseSchema,
  WebhookAcceptedSchema,
  WebhookSecretInputSchema,
  WebhookSecretSchema,
} from './schemas.ts';

/** PagerDuty's limit for Events API payloads. */
const MAX_EVENT_BYTES = 512 * 1024;
/** GitHub deliveries carry whole repository objects; a deployment_status is far below this. */
const MAX_GITHUB_BYTES = 2 * 1024 * 1024;

const errors = { 400: ProblemResponseSchema, 401: ProblemResponseSchema, 403: ProblemResponseSchema, 404: ProblemResponseSchema, 413: ProblemResponseSchema, 415: ProblemResponseSchema, 429: ProblemResponseSchema };
const noBearer: Record<string, string[]>[] = [];
const KeyQuerySchema = Type.Object({ key: Type.Optional(Type.String({ maxLength: 200, description: 'routing key, when the sender cannot set Authorization' })) }, { additionalProperties: false });

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}

const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export function changeRoutes(app: HttpApp, ctx: AppContext, changes: ChangeService): void {
  const { integrations, tokens } = ctx.services;
  const tags = ['changes'];

  const integrationFor = async (key: string | undefined): Promise<Integration> => {
    if (!key) throw new AppError('unauthorized', 'missing routing key: send it as the bearer token or ?key=');
    const integration = await integrations.authenticate(key);
    if (!integration) throw new AppError('unauthorized', 'unknown routing key');
    return integration;
  };

  // ----------------------------------------------------------------------------- senders

  app.post(
    '/v2/change/enqueue',
    {
      config: { public: true },
      bodyLimit: MAX_EVENT_BYTES,
      errorHandler: pagerDutyErrorHandler(MAX_EVENT_BYTES, 'change events'),
      schema: {
        tags,
        summary: 'PagerDuty Change Events API compatible: point any change-event sender at this URL',
        security: noBearer,
        body: PagerDutyChangeEventSchema,
        response: { 202: PagerDutyAcceptedSchema, 400: PagerDutyRejectedSchema, 413: PagerDutyRejectedSchema, 429: PagerDutyRejectedSchema },
      },
    },
    async (request, reply) => {
      const integration = await integrations.authenticate(request.body.routing_key);
      if (!integration) return pagerDutyReject(reply, 400, ['Invalid routing key']);
      integrations.checkRate(integration);
      await changes.record(draftFromPagerDuty(request.body, integration.service, ctx.clock().toISOString()), 'pagerduty', integration.id);
      return reply.status(202).send({ status: 'success', message: 'Change event processed' });
    },
  );

  app.post(
    '/api/v1/changes',
    {
      config: { public: true },
      bodyLimit: MAX_EVENT_BYTES,
      schema: {
        tags,
        summary: 'Record a change; authenticate with an integration routing key (bearer or ?key=) or an API token with the responder role',
        querystring: KeyQuerySchema,
        body: CreateChangeSchema,
        response: { 200: ChangeSchema, 201: ChangeSchema, ...errors },
      },
    },
    async (request, reply) => {
      const key = bearerOf(request) ?? request.query.key;
      const integration = key ? await integrations.authenticate(key) : null;
      let actor: string;
      if (integration) {
        integrations.checkRate(integration);
        actor = `integration:${integration.name}`;
      } else {
        const principal = await tokens.authenticate(bearerOf(request));
        if (!roleAllows(principal.role, 'responder')) throw new AppError('forbidden', `recording a change needs the responder role; token ${principal.name} has ${principal.role}`);
        actor = principal.name;
      }
      const { change, created } = await changes.recordFromApi(request.body, integration?.id ?? null, actor);
      void reply.status(created ? 201 : 200).header('location', `/api/v1/changes/${change.id}`);
      return change;
    },
  );

  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    // The signature covers the exact bytes GitHub sent, so the body is kept raw beside its parse.
    // The server may install its own JSON parser; this scope replaces it for the GitHub receiver only.
    if (scope.hasContentTypeParser('application/json')) scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      rawBodies.set(request, body as Buffer);
      try {
        done(null, JSON.parse((body as Buffer).toString('utf8')));
      } catch {
        done(new AppError('malformed_input', 'the body is not valid JSON'), undefined);
      }
    });
    scope.addContentTypeParser('application/x-www-form-urlencoded', (_request, _payload, done) => {
      done(new AppError('unsupported_media_type', 'set the webhook’s content type to application/json', { field: 'Content-Type' }), undefined);
    });
    scope.post(
      '/api/v1/integrations/github',
      {
        config: { public: true },
        bodyLimit: MAX_GITHUB_BYTES,
        schema: {
          tags,
          summary: 'GitHub webhook (deployment_status events); ?key=<routing key>, signed with the integration’s webhook secret (X-Hub-Signature-256)',
          security: noBearer,
          querystring: KeyQuerySchema,
          response: { 200: WebhookAcceptedSchema, 202: WebhookAcceptedSchema, ...errors },
        },
      },
      async (request, reply) => {
        const integration = await integrationFor(bearerOf(request) ?? request.query.key);
        const secret = await changes.webhookSecret(integration.id);
        if (!secret) {
          throw new AppError('unauthorized', `integration ${integration.name} has no webhook secret: set one with PUT /api/v1/integrations/${integration.id}/webhook-secret and give it to GitHub`);
        }
        const raw = rawBodies.get(request) ?? Buffer.alloc(0);
        const signature = request.headers['x-hub-signature-256'];
        if (!verifyGitHubSignature(raw, secret, typeof signature === 'string' ? signature : undefined)) {
          throw new AppError('unauthorized', 'X-Hub-Signature-256 is missing or does not match the integration’s webhook secret', { field: 'X-Hub-Signature-256' });
        }
        integrations.checkRate(integration);
        const event = request.headers['x-github-event'];
        if (event === 'ping') return reply.status(200).send({ status: 'ignored', reason: 'ping: the webhook is set up' });
        if (event !== 'deployment_status') return reply.status(202).send({ status: 'ignored', reason: `${String(event ?? 'no')} event: only deployment_status is recorded` });
        const payload = parseWithSchema(GitHubDeploymentStatusSchema, request.body);
        if (!GITHUB_RECORDED_STATES.has(payload.deployment_status.state)) {
          return reply.status(202).send({ status: 'ignored', reason: `deployment state ${payload.deployment_status.state}: only successful deployments are changes` });
        }
        const environment = payload.deployment_status.environment ?? payload.deployment.environment;
        const previous = await changes.previousVersion(`${payload.repository.full_name}@${environment}`, payload.deployment_status.created_at);
        const delivery = request.headers['x-github-delivery'];
        const draft = draftFromGitHub(payload, integration.service, typeof delivery === 'string' ? delivery : null, previous);
        const { change, created } = await changes.record(draft, 'github', integration.id);
        return reply.status(202).send({ status: created ? 'recorded' : 'duplicate', change });
      },
    );
  });

  app.post(
    '/api/v1/integrations/argocd',
    {
      config: { public: true },
      bodyLimit: MAX_EVENT_BYTES,
      schema: {
        tags,
        summary: 'Argo CD notifications webhook (the template is in the README); routing key as bearer or ?key=',
        security: noBearer,
        querystring: KeyQuerySchema,
        body: ArgoCdNotificationSchema,
        response: { 202: WebhookAcceptedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const integration = await integrationFor(bearerOf(request) ?? request.query.key);
      integrations.checkRate(integration);
      const body = request.body;
      if (body.phase !== undefined && body.phase !== 'Succeeded') {
        return reply.status(202).send({ status: 'ignored', reason: `sync phase ${body.phase}: only a Succeeded sync is a change` });
      }
      const service = body.service ?? integration.service;
      if (body.service) {
        const known = await ctx.services.catalog.servicesById([body.service]);
        if (!known.has(body.service)) throw new AppError('validation_failed', `service: ${body.service} is not a catalogue service`, { field: 'service' });
      }
      const receivedAt = ctx.clock().toISOString();
      const previous = await changes.previousVersion(`argocd:${body.app}`, body.finished_at ? new Date(body.finished_at).toISOString() : receivedAt);
      const { change, created } = await changes.record(draftFromArgoCd(body, service, receivedAt, previous), 'argocd', integration.id);
      return reply.status(202).send({ status: created ? 'recorded' : 'duplicate', change });
    },
  );

  app.put(
    '/api/v1/integrations/:id/webhook-secret',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Set (or generate) the secret signed webhooks of this integration use (GitHub); shown once',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: WebhookSecretInputSchema,
        response: { 200: WebhookSecretSchema, ...errors },
      },
    },
    async (request) => {
      const integration = await integrations.get(request.params.id);
      return changes.setWebhookSecret(integration.id, request.body.secret, actorOf(request));
    },
  );

  // ----------------------------------------------------------------------------- records

  app.get(
    '/api/v1/changes',
    { schema: { tags, summary: 'Changes, newest first; filter by service, kind and time', querystring: ListChangesQuerySchema, response: { 200: ChangePageSchema, 400: ProblemResponseSchema } } },
    async (request) => changes.list(request.query),
  );
  app.get(
    '/api/v1/changes/:id',
    { schema: { tags, params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 200: ChangeSchema, 404: ProblemResponseSchema } } },
    async (request) => changes.get(request.params.id),
  );
  app.get(
    '/api/v1/incidents/:id/changes',
    {
      schema: {
        tags,
        summary: 'Suspects: changes on the incident’s services and their dependencies before detection, ranked, with the parts of each score',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        querystring: SuspectsQuerySchema,
        response: { 200: SuspectsResponseSchema, 400: ProblemResponseSchema, 404: ProblemResponseSchema },
      },
    },
    async (request) => changes.suspects(request.params.id, { windowHours: request.query.window_hours, limit: request.query.limit, withFollowers: true }),
  );
}
