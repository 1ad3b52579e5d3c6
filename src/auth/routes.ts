import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf, principalOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import type { AppContext } from '../app/context.ts';
import { CreatedTokenSchema, CreateTokenSchema, TokenSchema } from './tokens.ts';

export function tokenRoutes(app: HttpApp, ctx: AppContext): void {
  const tokens = ctx.services.tokens;
  const admin = { role: 'admin' as const };
  const tags = ['tokens'];

  app.get(
    '/api/v1/me',
    {
      schema: {
        tags,
        summary: 'Who the presented token belongs to',
        response: { 200: Type.Object({ name: Type.String(), role: Type.String(), token_id: Type.String() }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return { name: principal.name, role: principal.role, token_id: principal.tokenId };
    },
  );
  app.get('/api/v1/tokens', { config: admin, schema: { tags, response: { 200: Type.Array(TokenSchema) } } }, async () => tokens.list());
  app.post(
    '/api/v1/tokens',
    { config: admin, schema: { tags, body: CreateTokenSchema, response: { 201: CreatedTokenSchema, 400: ProblemResponseSchema } } },
    async (request, reply) => {
      void reply.status(201);
      return tokens.create(request.body.name, request.body.role, actorOf(request));
    },
  );
  app.delete(
    '/api/v1/tokens/:id',
    { config: admin, schema: { tags, params: Type.Object({ id: Type.String() }), response: { 200: TokenSchema, 404: ProblemResponseSchema } } },
    async (request) => tokens.revoke(request.params.id),
  );
}
