import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { versionFromIfMatch } from '../shared/concurrency.ts';
import type { AppContext } from '../app/context.ts';
import {
  ActionItemSchema,
  CreateActionItemSchema,
  CreatePlanSchema,
  CreatePostmortemSchema,
  DataLossSchema,
  EvaluationSchema,
  ListActionItemsQuerySchema,
  PatchActionItemSchema,
  PatchPostmortemSchema,
  PatchStepSchema,
  PlanSchema,
  PostmortemSchema,
  PostmortemTransitionSchema,
  PutTemplateSchema,
  ReliabilityQuerySchema,
  ReportSchema,
  RollbackRecordSchema,
  RollbackSchema,
  SignOffSchema,
  StepActionSchema,
  TemplateSchema,
} from './schemas.ts';
import { renderHtml, renderMarkdown } from './render.ts';

const IncidentParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const StepParams = Type.Object({ id: Type.String({ maxLength: 64 }), step: Type.String({ maxLength: 64 }) });
const TierParams = Type.Object({ tier: Type.Integer({ minimum: 1, maximum: 4 }) });
const ItemParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String()) });
const errors = {
  400: ProblemResponseSchema,
  403: ProblemResponseSchema,
  404: ProblemResponseSchema,
  409: ProblemResponseSchema,
  422: ProblemResponseSchema,
};

export function recoveryRoutes(app: HttpApp, ctx: AppContext): void {
  const recovery = ctx.services.recovery;
  const postmortems = ctx.services.postmortems;
  const tags = ['recovery'];
  const base = '/api/v1/incidents/:id/recovery';

  app.get('/api/v1/recovery/templates', { schema: { tags, summary: 'Default recovery steps per service tier', response: { 200: Type.Array(TemplateSchema) } } }, async () =>
    recovery.listTemplates(),
  );
  app.get(
    '/api/v1/recovery/templates/:tier',
    { schema: { tags, params: TierParams, response: { 200: TemplateSchema, ...errors } } },
    async (request) => recovery.getTemplate(request.params.tier),
  );
  app.put(
    '/api/v1/recovery/templates/:tier',
    {
      config: { role: 'admin' },
      schema: { tags, summary: 'Replace a tier’s default steps (If-Match or `version` once it exists)', params: TierParams, headers: IfMatch, body: PutTemplateSchema, response: { 200: TemplateSchema, ...errors } },
    },
    async (request) => recovery.putTemplate(request.params.tier, request.body, versionFromIfMatch(request.headers['if-match']), actorOf(request)),
  );

  app.post(
    base,
    { schema: { tags, summary: 'Create the recovery plan: objectives from the catalogue, steps, verification criteria', params: IncidentParams, body: CreatePlanSchema, response: { 201: PlanSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return recovery.createPlan(request.params.id, request.body, actorOf(request));
    },
  );
  app.get(
    base,
    { schema: { tags, summary: 'The plan with elapsed time against the RTO, critical path and projected completion', params: IncidentParams, response: { 200: PlanSchema, ...errors } } },
    async (request) => recovery.getPlan(request.params.id),
  );
  app.patch(
    `${base}/steps/:step`,
    { schema: { tags, summary: 'Assign an owner or change an estimate', params: StepParams, body: PatchStepSchema, response: { 200: PlanSchema, ...errors } } },
    async (request) => recovery.patchStep(request.params.id, request.params.step, request.body, actorOf(request)),
  );
  app.post(
    `${base}/steps/:step/start`,
    { schema: { tags, params: StepParams, body: StepActionSchema, response: { 200: PlanSchema, ...errors } } },
    async (request) => recovery.startStep(request.params.id, request.params.step, actorOf(request), request.body.note),
  );
  app.post(
    `${base}/steps/:step/complete`,
    { schema: { tags, summary: 'Complete a step; its dependencies must be done', params: StepParams, body: StepActionSchema, response: { 200: PlanSchema, ...errors } } },
    async (request) => recovery.completeStep(request.params.id, request.params.step, actorOf(request), request.body.note),
  );
  app.post(
    `${base}/signoffs`,
    { schema: { tags, summary: 'Record a human sign-off criterion', params: IncidentParams, body: SignOffSchema, response: { 200: PlanSchema, ...errors } } },
    async (request) => recovery.signOff(request.params.id, request.body.criterion, actorOf(request), request.body.note),
  );
  app.post(
    `${base}/verify`,
    { schema: { tags, summary: 'Evaluate every criterion now and record what each observed', params: IncidentParams, body: Type.Object({}, { additionalProperties: false }), response: { 200: EvaluationSchema, ...errors } } },
    async (request) => recovery.verify(request.params.id, actorOf(request)),
  );
  app.get(
    `${base}/verifications`,
    { schema: { tags, params: IncidentParams, response: { 200: Type.Array(EvaluationSchema), ...errors } } },
    async (request) => recovery.evaluations(request.params.id),
  );
  app.post(
    `${base}/rollback`,
    { schema: { tags, summary: 'Decide to roll the recovery back', params: IncidentParams, body: RollbackSchema, response: { 200: RollbackRecordSchema, ...errors } } },
    async (request) => recovery.rollback(request.params.id, request.body.reason, actorOf(request), 'decision'),
  );
  app.get(
    `${base}/rollbacks`,
    { schema: { tags, params: IncidentParams, response: { 200: Type.Array(RollbackRecordSchema), ...errors } } },
    async (request) => recovery.rollbacks(request.params.id),
  );
  app.post(
    `${base}/data-loss`,
    { schema: { tags, summary: 'Record the data-loss window (last good data, or a measurement) for the RPO', params: IncidentParams, body: DataLossSchema, response: { 200: PlanSchema, ...errors } } },
    async (request) => recovery.recordDataLoss(request.params.id, request.body, actorOf(request)),
  );
  app.get(
    `${base}/report`,
    { schema: { tags, summary: 'Duration, RTO/RPO met or missed, verification evidence, rollbacks', params: IncidentParams, response: { 200: ReportSchema, ...errors } } },
    async (request) => recovery.report(request.params.id),
  );

  const pmTags = ['postmortems'];
  const pm = '/api/v1/incidents/:id/postmortem';
  app.post(
    pm,
    { schema: { tags: pmTags, summary: 'Start the postmortem draft', params: IncidentParams, body: CreatePostmortemSchema, response: { 201: PostmortemSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return postmortems.create(request.params.id, request.body, actorOf(request));
    },
  );
  app.get(pm, { schema: { tags: pmTags, params: IncidentParams, response: { 200: PostmortemSchema, ...errors } } }, async (request) =>
    postmortems.get(request.params.id),
  );
  app.patch(
    pm,
    { schema: { tags: pmTags, summary: 'Edit what people write; needs If-Match or `version`', params: IncidentParams, headers: IfMatch, body: PatchPostmortemSchema, response: { 200: PostmortemSchema, ...errors, 428: ProblemResponseSchema } } },
    async (request) => postmortems.update(request.params.id, request.body, versionFromIfMatch(request.headers['if-match']), actorOf(request)),
  );
  app.post(
    `${pm}/transition`,
    { schema: { tags: pmTags, summary: 'draft → in_review → published (publishing needs a root cause and an action item, or a reason)', params: IncidentParams, body: PostmortemTransitionSchema, response: { 200: PostmortemSchema, ...errors } } },
    async (request) =>
      postmortems.transition(request.params.id, request.body.to, actorOf(request), {
        ...(request.body.reason ? { reason: request.body.reason } : {}),
        ...(request.body.version ? { version: request.body.version } : {}),
      }),
  );
  app.get(
    `${pm}/export`,
    {
      schema: {
        tags: pmTags,
        summary: 'Markdown or a standalone HTML page',
        params: IncidentParams,
        querystring: Type.Object({ format: Type.Enum(['md', 'html'], { default: 'md' }) }, { additionalProperties: false }),
        response: { 200: Type.String(), ...errors },
      },
    },
    async (request, reply) => {
      const postmortem = await postmortems.get(request.params.id);
      if (request.query.format === 'html') {
        void reply.type('text/html; charset=utf-8');
        return renderHtml(postmortem);
      }
      void reply.type('text/markdown; charset=utf-8');
      return renderMarkdown(postmortem);
    },
  );

  const aiTags = ['action-items'];
  app.post(
    '/api/v1/incidents/:id/action-items',
    { schema: { tags: aiTags, params: IncidentParams, body: CreateActionItemSchema, response: { 201: ActionItemSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return postmortems.createActionItem(request.params.id, request.body, actorOf(request));
    },
  );
  app.get(
    '/api/v1/action-items',
    { schema: { tags: aiTags, summary: 'Action items across incidents', querystring: ListActionItemsQuerySchema, response: { 200: Type.Array(ActionItemSchema) } } },
    async (request) => postmortems.listActionItems(request.query),
  );
  app.get('/api/v1/action-items/:id', { schema: { tags: aiTags, params: ItemParams, response: { 200: ActionItemSchema, ...errors } } }, async (request) =>
    postmortems.getActionItem(request.params.id),
  );
  app.patch(
    '/api/v1/action-items/:id',
    { schema: { tags: aiTags, summary: 'Update; needs If-Match or `version`', params: ItemParams, headers: IfMatch, body: PatchActionItemSchema, response: { 200: ActionItemSchema, ...errors, 428: ProblemResponseSchema } } },
    async (request) => postmortems.updateActionItem(request.params.id, request.body, versionFromIfMatch(request.headers['if-match']), actorOf(request)),
  );

  app.get(
    '/api/v1/metrics/reliability',
    {
      schema: {
        tags: ['metrics'],
        summary: 'MTTD, MTTA, MTTR, time in state, RTO attainment, action-item completion and recurrence over incidents detected in [from, to)',
        querystring: ReliabilityQuerySchema,
      },
    },
    async (request) => ctx.services.reliability.compute(request.query.from, request.query.to),
  );
}
