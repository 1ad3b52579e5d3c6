import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { versionFromIfMatch } from '../shared/concurrency.ts';
import type { AppContext } from '../app/context.ts';
import {
  CreateServiceSchema,
  CreateTeamSchema,
  PatchServiceSchema,
  PatchTeamSchema,
  ServiceSchema,
  TeamSchema,
} from './schemas.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String()) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };

/** Services and teams are configuration: anyone may read them, only admins change them. */
export function catalogRoutes(app: HttpApp, ctx: AppContext): void {
  const catalog = ctx.services.catalog;
  const admin = { role: 'admin' as const };

  app.get('/api/v1/teams', { schema: { tags: ['teams'], response: { 200: Type.Array(TeamSchema) } } }, async () => catalog.listTeams());
  app.get('/api/v1/teams/:id', { schema: { tags: ['teams'], params: IdParams, response: { 200: TeamSchema, ...errors } } }, async (request) =>
    catalog.getTeam(request.params.id),
  );
  app.post(
    '/api/v1/teams',
    { config: admin, schema: { tags: ['teams'], body: CreateTeamSchema, response: { 201: TeamSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return catalog.createTeam(request.body);
    },
  );
  app.patch(
    '/api/v1/teams/:id',
    { config: admin, schema: { tags: ['teams'], params: IdParams, headers: IfMatch, body: PatchTeamSchema, response: { 200: TeamSchema, ...errors } } },
    async (request) => catalog.updateTeam(request.params.id, request.body, versionFromIfMatch(request.headers['if-match'])),
  );
  app.delete('/api/v1/teams/:id', { config: admin, schema: { tags: ['teams'], params: IdParams } }, async (request, reply) => {
    await catalog.deleteTeam(request.params.id);
    return reply.status(204).send();
  });

  app.get('/api/v1/services', { schema: { tags: ['services'], response: { 200: Type.Array(ServiceSchema) } } }, async () =>
    catalog.listServices(),
  );
  app.get(
    '/api/v1/services/:id',
    { schema: { tags: ['services'], params: IdParams, response: { 200: ServiceSchema, ...errors } } },
    async (request) => catalog.getService(request.params.id),
  );
  app.post(
    '/api/v1/services',
    { config: admin, schema: { tags: ['services'], body: CreateServiceSchema, response: { 201: ServiceSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return catalog.createService(request.body);
    },
  );
  app.patch(
    '/api/v1/services/:id',
    {
      config: admin,
      schema: { tags: ['services'], params: IdParams, headers: IfMatch, body: PatchServiceSchema, response: { 200: ServiceSchema, ...errors } },
    },
    async (request) => catalog.updateService(request.params.id, request.body, versionFromIfMatch(request.headers['if-match'])),
  );
  app.delete('/api/v1/services/:id', { config: admin, schema: { tags: ['services'], params: IdParams } }, async (request, reply) => {
    await catalog.deleteService(request.params.id);
    return reply.status(204).send();
  });
}
