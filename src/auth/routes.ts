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
        summary: 'Who is asking: the signed-in person, or the API token',
        response: {
          200: Type.Object({
            kind: Type.Union([Type.Literal('person'), Type.Literal('token')]),
            name: Type.String({ description: "the person's handle or the token's name, as the timeline records it" }),
            display_name: Type.String(),
            role: Type.String(),
            token_id: Type.Optional(Type.String()),
            email: Type.Optional(Type.String()),
            csrf_token: Type.Optional(Type.String({ description: 'for a session: send as X-CSRF-Token on writes' })),
            session_expires_at: Type.Optional(Type.String({ format: 'date-time' })),
          }),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      void reply.header('cache-control', 'no-store');
      if (principal.kind === 'token') return { kind: 'token' as const, name: principal.name, display_name: principal.name, role: principal.role, token_id: principal.tokenId };
      const user = await ctx.services.people.get(principal.userId);
      return {
        kind: 'person' as const,
        name: principal.name,
        display_name: principal.displayName,
        role: principal.role,
        email: user.email,
        csrf_token: principal.csrfToken,
        session_expires_at: principal.expiresAt,
      };
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
