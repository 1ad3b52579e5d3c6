import { Type } from 'typebox';
import type { HttpApp } from '../../http/app.ts';
import { actorOf } from '../../http/app.ts';
import { ProblemResponseSchema } from '../../http/problem.ts';
import { versionFromIfMatch } from '../../shared/concurrency.ts';
import type { AppContext } from '../../app/context.ts';
import { renderStatusPageHtml } from './html.ts';
import {
  CreatePublicUpdateSchema,
  CreateStatusPageSchema,
  PatchStatusPageSchema,
  PublicStatusSchema,
  PublicUpdateSchema,
  StatusPageSchema,
} from './schemas.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const SlugParams = Type.Object({ slug: Type.String({ maxLength: 64 }) });
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String()) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };
const admin = { role: 'admin' as const };

export function statusPageRoutes(app: HttpApp, ctx: AppContext): void {
  const pages = ctx.services.oncall.statusPages;
  const tags = ['status-pages'];

  app.get('/api/v1/status-pages', { schema: { tags, response: { 200: Type.Array(StatusPageSchema) } } }, async () => pages.list());
  app.get('/api/v1/status-pages/:id', { schema: { tags, params: IdParams, response: { 200: StatusPageSchema, ...errors } } }, async (request) => pages.get(request.params.id));
  app.post(
    '/api/v1/status-pages',
    { config: admin, schema: { tags, summary: 'A public status page over a set of services', body: CreateStatusPageSchema, response: { 201: StatusPageSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return pages.create(request.body);
    },
  );
  app.patch(
    '/api/v1/status-pages/:id',
    { config: admin, schema: { tags, params: IdParams, headers: IfMatch, body: PatchStatusPageSchema, response: { 200: StatusPageSchema, ...errors, 428: ProblemResponseSchema } } },
    async (request) => pages.update(request.params.id, request.body, versionFromIfMatch(request.headers['if-match'])),
  );
  app.delete('/api/v1/status-pages/:id', { config: admin, schema: { tags, params: IdParams, response: { 204: Type.Null(), 404: ProblemResponseSchema } } }, async (request, reply) => {
    await pages.remove(request.params.id);
    return reply.status(204).send(null);
  });

  app.post(
    '/api/v1/incidents/:id/public-updates',
    {
      schema: {
        tags,
        summary: 'Write an update for public status pages; the only incident text the public ever sees',
        params: IdParams,
        body: CreatePublicUpdateSchema,
        response: { 201: PublicUpdateSchema, ...errors },
      },
    },
    async (request, reply) => {
      void reply.status(201);
      return pages.addPublicUpdate(request.params.id, request.body, actorOf(request));
    },
  );
  app.get(
    '/api/v1/incidents/:id/public-updates',
    { schema: { tags, params: IdParams, response: { 200: Type.Array(PublicUpdateSchema), ...errors } } },
    async (request) => pages.publicUpdates(request.params.id),
  );

  // Public, unauthenticated: no token, no JavaScript, every value escaped.
  app.get(
    '/status/:slug.json',
    { config: { public: true }, schema: { tags: ['public'], summary: 'Public status (JSON)', params: SlugParams, response: { 200: PublicStatusSchema, 404: ProblemResponseSchema } } },
    async (request, reply) => {
      void reply.header('cache-control', 'public, max-age=30');
      return pages.publicStatus(request.params.slug);
    },
  );
  app.get(
    '/status/:slug',
    {
      config: { public: true },
      schema: { tags: ['public'], summary: 'Public status page (HTML, works without JavaScript)', params: SlugParams, produces: ['text/html'], response: { 200: Type.String({ description: 'HTML' }), 404: ProblemResponseSchema } },
    },
    async (request, reply) => {
      const status = await pages.publicStatus(request.params.slug);
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'public, max-age=30')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(renderStatusPageHtml(status, `/status/${encodeURIComponent(status.page.id)}.json`));
    },
  );
}
