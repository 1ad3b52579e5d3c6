import { Type } from 'typebox';
import type { AppContext } from '../app/context.ts';
import { actorOf, type HttpApp } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { DrillRunSchema, DrillRunSummarySchema, ListDrillRunsQuerySchema, ScorecardSchema } from './schemas.ts';

export function drillRoutes(app: HttpApp, ctx: AppContext): void {
  const runs = ctx.services.drillRuns;
  const tags = ['drills'];
  const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema };

  app.post(
    '/api/v1/drills/runs',
    { schema: { tags, summary: 'Store a drill scorecard (the CLI posts one after every run)', body: ScorecardSchema, response: { 201: DrillRunSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return runs.record(request.body, actorOf(request));
    },
  );
  app.get(
    '/api/v1/drills/runs',
    { schema: { tags, summary: 'Past drills, newest first', querystring: ListDrillRunsQuerySchema, response: { 200: Type.Array(DrillRunSummarySchema), ...errors } } },
    async (request) => runs.list({ scenario: request.query.scenario, limit: request.query.limit ?? 50 }),
  );
  app.get(
    '/api/v1/drills/runs/:id',
    { schema: { tags, summary: 'One drill with its whole scorecard', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: DrillRunSchema, ...errors } } },
    async (request) => runs.get(request.params.id),
  );
}
