import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import type { AppContext } from '../app/context.ts';
import { AnalysisSchema, CreateAnalysisSchema, HistoryEntrySchema, UpdateAnalysisSchema, type FishboneBody } from './schemas.ts';
import { FIVE_WHYS_TEMPLATES } from './templates.ts';
import { renderFishboneSvg } from './fishbone-svg.ts';
import { AppError } from '../shared/errors.ts';

const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };
const IncidentParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const AnalysisParams = Type.Object({ analysisId: Type.String({ maxLength: 64 }) });

export function rcaRoutes(app: HttpApp, ctx: AppContext): void {
  const rca = ctx.services.rca;
  const tags = ['root cause analysis'];

  app.get(
    '/api/v1/rca/templates',
    { schema: { tags, summary: '5-whys starter templates: questions only', response: { 200: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), questions: Type.Array(Type.String()) })) } } },
    async () => [...FIVE_WHYS_TEMPLATES],
  );
  app.post(
    '/api/v1/incidents/:id/analyses',
    { schema: { tags, params: IncidentParams, body: CreateAnalysisSchema, response: { 201: AnalysisSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return rca.create(request.params.id, request.body, actorOf(request));
    },
  );
  app.get(
    '/api/v1/incidents/:id/analyses',
    { schema: { tags, params: IncidentParams, response: { 200: Type.Array(AnalysisSchema), 404: ProblemResponseSchema } } },
    async (request) => rca.list(request.params.id),
  );
  app.get('/api/v1/analyses/:analysisId', { schema: { tags, params: AnalysisParams, response: { 200: AnalysisSchema, ...errors } } }, async (request) =>
    rca.get(request.params.analysisId),
  );
  app.put(
    '/api/v1/analyses/:analysisId',
    { schema: { tags, summary: 'Replace the analysis structure (whys or fishbone) at a version', params: AnalysisParams, body: UpdateAnalysisSchema, response: { 200: AnalysisSchema, ...errors } } },
    async (request) => rca.update(request.params.analysisId, request.body, actorOf(request)),
  );
  app.post(
    '/api/v1/analyses/:analysisId/review',
    { schema: { tags, params: AnalysisParams, body: Type.Optional(Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false })), response: { 200: AnalysisSchema, ...errors } } },
    async (request) => rca.review(request.params.analysisId, request.body?.version, actorOf(request)),
  );
  app.post(
    '/api/v1/analyses/:analysisId/accept',
    { schema: { tags, summary: 'Make its root cause the incident’s root cause', params: AnalysisParams, response: { 200: AnalysisSchema, ...errors } } },
    async (request) => rca.accept(request.params.analysisId, actorOf(request)),
  );
  app.post(
    '/api/v1/analyses/:analysisId/causes/:causeId/vote',
    { schema: { tags, summary: 'Toggle your vote on a fishbone cause', params: Type.Object({ analysisId: Type.String(), causeId: Type.String() }), response: { 200: AnalysisSchema, ...errors } } },
    async (request) => rca.vote(request.params.analysisId, request.params.causeId, actorOf(request)),
  );
  app.post(
    '/api/v1/analyses/:analysisId/recommendations/:recommendationId/action-item',
    {
      schema: {
        tags,
        params: Type.Object({ analysisId: Type.String(), recommendationId: Type.String() }),
        body: Type.Object(
          {
            owner: Type.String({ minLength: 1, maxLength: 200 }),
            priority: Type.Enum(['p1', 'p2', 'p3', 'p4']),
            due_date: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ analysis: AnalysisSchema, action_item_id: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      void reply.status(201);
      return rca.createActionItem(request.params.analysisId, request.params.recommendationId, request.body, actorOf(request));
    },
  );
  app.get(
    '/api/v1/analyses/:analysisId/history',
    { schema: { tags, params: AnalysisParams, response: { 200: Type.Array(HistoryEntrySchema), 404: ProblemResponseSchema } } },
    async (request) => rca.history(request.params.analysisId),
  );
  app.get(
    '/api/v1/analyses/:analysisId/diagram.svg',
    { schema: { tags, summary: 'Fishbone diagram rendered by the server', params: AnalysisParams } },
    async (request, reply) => {
      const analysis = await rca.get(request.params.analysisId);
      if (analysis.kind !== 'fishbone') throw new AppError('conflict', 'only fishbone analyses have a diagram');
      void reply.type('image/svg+xml; charset=utf-8');
      return renderFishboneSvg(analysis.body as FishboneBody);
    },
  );
}
