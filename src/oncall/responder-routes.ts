import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import type { AppContext } from '../app/context.ts';
import {
  AssignRoleSchema,
  EscalationStateSchema,
  IncidentRespondersSchema,
  IncidentRoleSchema,
  PageOutcomeSchema,
  PageSomeoneSchema,
  RoleParamsSchema,
  UnassignRoleQuerySchema,
} from './schemas.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };

/** The incident page's on-call and escalation panel: what it reads, and the actions that bring people in. */
export function responderRoutes(app: HttpApp, ctx: AppContext): void {
  const { responders, escalations } = ctx.services.oncall;
  const tags = ['responders'];

  app.get(
    '/api/v1/incidents/:id/responders',
    {
      schema: {
        tags,
        summary: 'Who is on call for the incident now, its escalation (null when none runs), its roles, and who was notified how',
        params: IdParams,
        response: { 200: IncidentRespondersSchema, ...errors },
      },
    },
    async (request) => responders.responders(request.params.id),
  );

  app.post(
    '/api/v1/incidents/:id/escalation/escalate',
    { schema: { tags, summary: 'Fire the next escalation level now instead of at its due time', params: IdParams, response: { 200: EscalationStateSchema, ...errors } } },
    async (request) => escalations.escalateNow(request.params.id, actorOf(request)),
  );

  app.post(
    '/api/v1/incidents/:id/page',
    {
      schema: {
        tags,
        summary: 'Page people through their contact methods now, outside the escalation policy; they join as responders unless add_as_responder is false',
        params: IdParams,
        body: PageSomeoneSchema,
        response: { 200: PageOutcomeSchema, ...errors },
      },
    },
    async (request) => responders.page(request.params.id, request.body, actorOf(request)),
  );

  app.put(
    '/api/v1/incidents/:id/roles/:role',
    {
      schema: {
        tags,
        summary: 'Give a role to a person: a named role (commander, comms_lead, ops_lead, scribe) changes hands; responder adds one more',
        params: RoleParamsSchema,
        body: AssignRoleSchema,
        response: { 200: Type.Array(IncidentRoleSchema), ...errors },
      },
    },
    async (request) => responders.assignRole(request.params.id, request.params.role, request.body.user, actorOf(request)),
  );

  app.delete(
    '/api/v1/incidents/:id/roles/:role',
    {
      schema: {
        tags,
        summary: 'Take a role back (one responder when `user` is given)',
        params: RoleParamsSchema,
        querystring: UnassignRoleQuerySchema,
        response: { 200: Type.Array(IncidentRoleSchema), ...errors },
      },
    },
    async (request) => responders.unassignRole(request.params.id, request.params.role, request.query.user, actorOf(request)),
  );
}
