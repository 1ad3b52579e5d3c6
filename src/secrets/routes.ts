import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import type { AppContext } from '../app/context.ts';
import { PutSecretSchema, SecretInfoSchema, SecretNameSchema } from './schemas.ts';

const NameParams = Type.Object({ name: SecretNameSchema });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema };

/** Secrets are admin-only, in both directions: listing shows names and timestamps, never values. */
export function secretRoutes(app: HttpApp, ctx: AppContext): void {
  const secrets = ctx.services.secrets;
  const config = { role: 'admin' as const };
  const tags = ['secrets'];

  app.get('/api/v1/secrets', { config, schema: { tags, summary: 'Names and timestamps of stored secrets', response: { 200: Type.Array(SecretInfoSchema) } } }, async () =>
    secrets.list(),
  );
  app.put(
    '/api/v1/secrets/:name',
    {
      config,
      schema: { tags, summary: 'Create or replace a secret (encrypted at rest)', params: NameParams, body: PutSecretSchema, response: { 200: SecretInfoSchema, 201: SecretInfoSchema, ...errors } },
    },
    async (request, reply) => {
      const { secret, created } = await secrets.put(request.params.name, request.body.value, actorOf(request));
      void reply.status(created ? 201 : 200);
      return secret;
    },
  );
  app.delete('/api/v1/secrets/:name', { config, schema: { tags, params: NameParams, response: { 204: Type.Null(), 404: ProblemResponseSchema } } }, async (request, reply) => {
    await secrets.delete(request.params.name);
    return reply.status(204).send(null);
  });
}
