import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { versionFromIfMatch } from '../shared/concurrency.ts';
import type { AppContext } from '../app/context.ts';
import {
  ContactMethodSchema,
  CreateContactMethodSchema,
  CreateNotificationRuleSchema,
  CreateOverrideSchema,
  CreatePolicySchema,
  CreateScheduleSchema,
  EscalationStateSchema,
  NotificationRuleSchema,
  OnCallAnswerSchema,
  OnCallQuerySchema,
  OnCallUserSchema,
  OverrideSchema,
  PolicySchema,
  ReplacePolicySchema,
  ReplaceScheduleSchema,
  ScheduleSchema,
} from './schemas.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const UserParams = Type.Object({ user: Type.String({ minLength: 1, maxLength: 200 }) });
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String()) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };
const admin = { role: 'admin' as const };

export function onCallRoutes(app: HttpApp, ctx: AppContext): void {
  const { schedules, escalations } = ctx.services.oncall;

  app.get(
    '/api/v1/oncall',
    { schema: { tags: ['oncall'], summary: 'Who is on call, per team and schedule, at a time (default now)', querystring: OnCallQuerySchema, response: { 200: OnCallAnswerSchema, ...errors } } },
    async (request) => schedules.whoIsOnCall(request.query.at ? new Date(request.query.at) : ctx.clock(), request.query.team),
  );

  // People: the catalogue's team members, their contact methods and notification rules.
  const people = ['oncall-users'];
  app.get('/api/v1/oncall/users', { schema: { tags: people, response: { 200: Type.Array(OnCallUserSchema) } } }, async () => schedules.listUsers());
  app.get('/api/v1/oncall/users/:user', { schema: { tags: people, params: UserParams, response: { 200: OnCallUserSchema, ...errors } } }, async (request) =>
    schedules.getUser(request.params.user),
  );
  app.post(
    '/api/v1/oncall/users/:user/contact-methods',
    { config: admin, schema: { tags: people, params: UserParams, body: CreateContactMethodSchema, response: { 201: ContactMethodSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return schedules.addContactMethod(request.params.user, request.body);
    },
  );
  app.delete(
    '/api/v1/oncall/users/:user/contact-methods/:id',
    { config: admin, schema: { tags: people, params: Type.Object({ user: Type.String(), id: Type.Integer() }), response: { 204: Type.Null(), 404: ProblemResponseSchema } } },
    async (request, reply) => {
      await schedules.removeContactMethod(request.params.user, request.params.id);
      return reply.status(204).send(null);
    },
  );
  app.post(
    '/api/v1/oncall/users/:user/notification-rules',
    { config: admin, schema: { tags: people, params: UserParams, body: CreateNotificationRuleSchema, response: { 201: NotificationRuleSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return schedules.addRule(request.params.user, request.body);
    },
  );
  app.delete(
    '/api/v1/oncall/users/:user/notification-rules/:id',
    { config: admin, schema: { tags: people, params: Type.Object({ user: Type.String(), id: Type.Integer() }), response: { 204: Type.Null(), 404: ProblemResponseSchema } } },
    async (request, reply) => {
      await schedules.removeRule(request.params.user, request.params.id);
      return reply.status(204).send(null);
    },
  );

  const tags = ['schedules'];
  app.get(
    '/api/v1/schedules',
    { schema: { tags, querystring: Type.Object({ team: Type.Optional(Type.String()) }, { additionalProperties: false }), response: { 200: Type.Array(ScheduleSchema) } } },
    async (request) => schedules.listSchedules(request.query.team),
  );
  app.get('/api/v1/schedules/:id', { schema: { tags, params: IdParams, response: { 200: ScheduleSchema, ...errors } } }, async (request) =>
    schedules.getSchedule(request.params.id),
  );
  app.post(
    '/api/v1/schedules',
    { config: admin, schema: { tags, summary: 'Create a schedule with rotation layers', body: CreateScheduleSchema, response: { 201: ScheduleSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return schedules.createSchedule(request.body);
    },
  );
  app.patch(
    '/api/v1/schedules/:id',
    { config: admin, schema: { tags, params: IdParams, headers: IfMatch, body: ReplaceScheduleSchema, response: { 200: ScheduleSchema, ...errors, 428: ProblemResponseSchema } } },
    async (request) => schedules.replaceSchedule(request.params.id, request.body, versionFromIfMatch(request.headers['if-match'])),
  );
  app.delete('/api/v1/schedules/:id', { config: admin, schema: { tags, params: IdParams, response: { 204: Type.Null(), 404: ProblemResponseSchema, 409: ProblemResponseSchema } } }, async (request, reply) => {
    await schedules.deleteSchedule(request.params.id);
    return reply.status(204).send(null);
  });
  app.post(
    '/api/v1/schedules/:id/overrides',
    { schema: { tags, summary: 'Put someone on call for a period (responders swap shifts)', params: IdParams, body: CreateOverrideSchema, response: { 201: OverrideSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return schedules.addOverride(request.params.id, request.body, actorOf(request));
    },
  );
  app.delete(
    '/api/v1/schedules/:id/overrides/:overrideId',
    { schema: { tags, params: Type.Object({ id: Type.String(), overrideId: Type.Integer() }), response: { 204: Type.Null(), 404: ProblemResponseSchema } } },
    async (request, reply) => {
      await schedules.removeOverride(request.params.id, request.params.overrideId);
      return reply.status(204).send(null);
    },
  );

  const policyTags = ['escalation'];
  app.get('/api/v1/escalation-policies', { schema: { tags: policyTags, response: { 200: Type.Array(PolicySchema) } } }, async () => escalations.listPolicies());
  app.get('/api/v1/escalation-policies/:id', { schema: { tags: policyTags, params: IdParams, response: { 200: PolicySchema, ...errors } } }, async (request) =>
    escalations.getPolicy(request.params.id),
  );
  app.post(
    '/api/v1/escalation-policies',
    { config: admin, schema: { tags: policyTags, summary: 'One policy per team: levels of schedules or people, each with an acknowledgment timeout', body: CreatePolicySchema, response: { 201: PolicySchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return escalations.createPolicy(request.body);
    },
  );
  app.patch(
    '/api/v1/escalation-policies/:id',
    { config: admin, schema: { tags: policyTags, params: IdParams, headers: IfMatch, body: ReplacePolicySchema, response: { 200: PolicySchema, ...errors, 428: ProblemResponseSchema } } },
    async (request) => escalations.replacePolicy(request.params.id, request.body, versionFromIfMatch(request.headers['if-match'])),
  );
  app.delete('/api/v1/escalation-policies/:id', { config: admin, schema: { tags: policyTags, params: IdParams, response: { 204: Type.Null(), 404: ProblemResponseSchema } } }, async (request, reply) => {
    await escalations.deletePolicy(request.params.id);
    return reply.status(204).send(null);
  });
  app.get(
    '/api/v1/incidents/:id/escalation',
    { schema: { tags: policyTags, summary: 'The escalation running (or finished) for an incident', params: IdParams, response: { 200: EscalationStateSchema, ...errors } } },
    async (request) => escalations.escalationOf(request.params.id),
  );
}
