import { Type } from 'typebox';
import type { HttpApp } from '../../http/app.ts';
import { actorOf } from '../../http/app.ts';
import { ProblemResponseSchema } from '../../http/problem.ts';
import { versionFromIfMatch } from '../../shared/concurrency.ts';
import type { AppContext } from '../../app/context.ts';
import {
  ChannelSchema,
  ChannelTestResultSchema,
  CreateChannelSchema,
  CreatedChannelSchema,
  ListNotificationsQuerySchema,
  NotificationSchema,
  NotifyEventSchema,
  PatchChannelSchema,
  PutTemplateSchema,
  SendNotificationSchema,
  SentNotificationsSchema,
  TemplateSchema,
} from './schemas.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String()) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };
const admin = { role: 'admin' as const };

export function notificationRoutes(app: HttpApp, ctx: AppContext): void {
  const notifications = ctx.services.notifications;
  const tags = ['notifications'];

  app.get('/api/v1/notification-channels', { schema: { tags, response: { 200: Type.Array(ChannelSchema) } } }, async () => notifications.listChannels());
  app.get('/api/v1/notification-channels/:id', { schema: { tags, params: IdParams, response: { 200: ChannelSchema, ...errors } } }, async (request) =>
    notifications.getChannel(request.params.id),
  );
  app.post(
    '/api/v1/notification-channels',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Configure a webhook, Slack, Teams or e-mail channel; secrets are stored encrypted and never returned',
        body: CreateChannelSchema,
        response: { 201: CreatedChannelSchema, ...errors },
      },
    },
    async (request, reply) => {
      void reply.status(201);
      return notifications.createChannel(request.body);
    },
  );
  app.patch(
    '/api/v1/notification-channels/:id',
    { config: admin, schema: { tags, params: IdParams, headers: IfMatch, body: PatchChannelSchema, response: { 200: ChannelSchema, ...errors, 428: ProblemResponseSchema } } },
    async (request) => notifications.updateChannel(request.params.id, request.body, versionFromIfMatch(request.headers['if-match'])),
  );
  app.delete('/api/v1/notification-channels/:id', { config: admin, schema: { tags, params: IdParams, response: { 204: Type.Null(), 404: ProblemResponseSchema, 409: ProblemResponseSchema } } }, async (request, reply) => {
    await notifications.deleteChannel(request.params.id);
    return reply.status(204).send(null);
  });
  app.post(
    '/api/v1/notification-channels/:id/test',
    { config: admin, schema: { tags, summary: 'Send a real test message now and report the outcome', params: IdParams, response: { 200: ChannelTestResultSchema, ...errors } } },
    async (request) => notifications.testChannel(request.params.id, actorOf(request)),
  );

  app.get('/api/v1/notification-templates', { schema: { tags, response: { 200: Type.Array(TemplateSchema) } } }, async () => notifications.listTemplates());
  app.get(
    '/api/v1/notification-templates/:event',
    { schema: { tags, params: Type.Object({ event: NotifyEventSchema }), response: { 200: TemplateSchema, ...errors } } },
    async (request) => notifications.getTemplate(request.params.event),
  );
  app.put(
    '/api/v1/notification-templates/:event',
    {
      config: admin,
      schema: { tags, summary: 'Replace the template of an event (Mustache, logic-less)', params: Type.Object({ event: NotifyEventSchema }), body: PutTemplateSchema, response: { 200: TemplateSchema, ...errors } },
    },
    async (request) => notifications.putTemplate(request.params.event, request.body, actorOf(request)),
  );
  app.delete(
    '/api/v1/notification-templates/:event',
    { config: admin, schema: { tags, summary: 'Back to the built-in template', params: Type.Object({ event: NotifyEventSchema }), response: { 200: TemplateSchema, ...errors } } },
    async (request) => notifications.resetTemplate(request.params.event),
  );

  app.get('/api/v1/notifications', { schema: { tags, querystring: ListNotificationsQuerySchema, response: { 200: Type.Array(NotificationSchema) } } }, async (request) =>
    notifications.list(request.query),
  );
  app.get(
    '/api/v1/notifications/:id',
    { schema: { tags, summary: 'A notification with every delivery attempt', params: Type.Object({ id: Type.Integer() }), response: { 200: NotificationSchema, ...errors } } },
    async (request) => notifications.get(request.params.id),
  );
  app.post(
    '/api/v1/notifications',
    {
      schema: {
        tags,
        summary: 'Enqueue a notification: to channels, a team’s channels, or people; delivered by the outbox worker',
        body: SendNotificationSchema,
        response: { 202: SentNotificationsSchema, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await notifications.notify({
        event: body.event,
        ...(body.incident_id ? { incidentId: body.incident_id } : {}),
        ...(body.channel_ids ? { channelIds: body.channel_ids } : {}),
        ...(body.team ? { team: body.team } : {}),
        ...(body.users ? { users: body.users } : {}),
        ...(body.context ? { context: body.context } : {}),
        actor: actorOf(request),
      });
      void reply.status(202);
      return { notification_ids: outcome.ids };
    },
  );
}
