import { Type, type TSchema } from 'typebox';
import type { FastifySchemaCompiler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf, principalOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { roleAllows } from '../auth/index.ts';
import type { AppContext } from '../app/context.ts';
import { AppError } from '../shared/errors.ts';
import { createAjv } from '../shared/validation.ts';
import { PlanDefinitionSchema } from './schemas.ts';
import { parsePlanDefinition } from './validate.ts';
import { parsePlanYaml } from './service.ts';
import { dryRun } from './dry-run.ts';
import {
  ApprovalDecisionSchema,
  DecideSchema,
  DryRunReportSchema,
  DryRunRequestSchema,
  ExecutionSchema,
  PlanDetailSchema,
  PlanSummarySchema,
  PlanVersionSchema,
  RunPlanSchema,
  ValidationReportSchema,
} from './api.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const StepParams = Type.Object({ id: Type.String({ maxLength: 64 }), step: Type.String({ maxLength: 64 }) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };

/**
 * Plan bodies are validated step by step (see `parsePlanDefinition`) so an error names `steps[3].with.url`
 * rather than "must match a schema in anyOf"; the full schema still documents the body in /openapi.json.
 */
const paramsAjv = createAjv({ coerceTypes: true });
const planBodyValidator = (check: (data: unknown) => void): FastifySchemaCompiler<TSchema> => ({ schema, httpPart }) => {
  if (httpPart !== 'body') return paramsAjv.compile(schema);
  return (data: unknown) => {
    try {
      check(data);
      return { value: data };
    } catch (error) {
      return { error: error as Error };
    }
  };
};
const strictPlanBody = planBodyValidator((data) => parsePlanDefinition(data));
/** The validate endpoint reports every problem itself, so anything is accepted here. */
const anyPlanBody = planBodyValidator(() => undefined);

export const PLAN_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://firebreak.dev/schemas/plan.json',
  title: 'Firebreak response plan',
  ...JSON.parse(JSON.stringify(PlanDefinitionSchema)),
} as Record<string, unknown>;

export async function planRoutes(app: HttpApp, ctx: AppContext): Promise<void> {
  const plans = ctx.services.plans;
  const engine = plans.engine;
  const tags = ['plans'];
  const admin = { role: 'admin' as const };

  app.get('/api/v1/plans/schema.json', { schema: { tags, summary: 'JSON Schema of plan definitions (YAML files and API bodies)' } }, async () => PLAN_JSON_SCHEMA);

  app.get('/api/v1/plans', { schema: { tags, response: { 200: Type.Array(PlanSummarySchema) } } }, async () => plans.list());
  app.get('/api/v1/plans/:id', { schema: { tags, params: IdParams, response: { 200: PlanDetailSchema, ...errors } } }, async (request) => plans.get(request.params.id));
  app.get('/api/v1/plans/:id/versions', { schema: { tags, summary: 'Every immutable version, oldest first', params: IdParams, response: { 200: Type.Array(PlanVersionSchema), ...errors } } }, async (request) =>
    plans.versions(request.params.id),
  );
  app.get(
    '/api/v1/plans/:id/versions/:version',
    { schema: { tags, params: Type.Object({ id: Type.String(), version: Type.String({ pattern: '^1\\.[0-9]+$' }) }), response: { 200: PlanVersionSchema, ...errors } } },
    async (request) => {
      const found = (await plans.versions(request.params.id)).find((v) => v.version === request.params.version);
      if (!found) throw new AppError('not_found', `plan ${request.params.id} has no version ${request.params.version}`);
      return found;
    },
  );
  // Plan bodies may be sent as YAML too (the file format); the parser is scoped to these routes only.
  await app.register(async (scoped) => {
    const yaml = scoped.withTypeProvider<TypeBoxTypeProvider>();
    yaml.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parsePlanYaml(String(body)));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    yaml.post(
      '/api/v1/plans',
      { config: admin, validatorCompiler: strictPlanBody, schema: { tags, summary: 'Create a plan (version 1.0)', body: PlanDefinitionSchema, response: { 201: PlanDetailSchema, ...errors } } },
      async (request, reply) => {
        const created = await plans.create(request.body, actorOf(request));
        void reply.status(201).header('location', `/api/v1/plans/${created.id}`);
        return created;
      },
    );
    yaml.put(
      '/api/v1/plans/:id',
      {
        config: admin,
        validatorCompiler: strictPlanBody,
        schema: { tags, summary: 'Make a new immutable version (unchanged definitions make none)', params: IdParams, body: PlanDefinitionSchema, response: { 200: PlanDetailSchema, ...errors } },
      },
      async (request) => plans.update(request.params.id, request.body, actorOf(request)),
    );
    yaml.post(
      '/api/v1/plans/validate',
      {
        validatorCompiler: anyPlanBody,
        schema: { tags, summary: 'Every problem of a definition, against this server’s secrets and channels', body: PlanDefinitionSchema, response: { 200: ValidationReportSchema } },
      },
      async (request) => plans.report(request.body),
    );
  });

  app.post(
    '/api/v1/plans/:id/run',
    { schema: { tags, summary: 'Start the plan on an incident', params: IdParams, body: RunPlanSchema, response: { 201: ExecutionSchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return plans.run(request.params.id, request.body.incident_id, actorOf(request), request.body.version);
    },
  );

  app.post(
    '/api/v1/plans/:id/test',
    {
      schema: {
        tags,
        summary: 'Dry run against a synthetic incident: previews instead of side effects, problems and recommendations',
        params: IdParams,
        body: Type.Optional(DryRunRequestSchema),
        response: { 200: DryRunReportSchema, ...errors },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const chosen = await plans.version(request.params.id, body.version);
      const env = await plans.validationEnvironment();
      // Missing secrets are reported as problems and shown as placeholders in the previews.
      const secrets = await plans.existingSecretsFor(chosen.plan);
      const report = await dryRun(request.params.id, chosen.seq, chosen.plan, body, {
        sender: ctx.services.messageSender,
        assess: (incident, minutes) => plans.assess(incident, minutes),
        secrets,
        problems: plans.problemsOf(chosen.plan, env),
        clock: ctx.clock,
        facts: (incident) => plans.factsOf(incident),
      });
      await plans.recordTest(request.params.id, report.tested_at, { version: report.version, problem_count: report.problems.length, recommendations: report.recommendations });
      return report;
    },
  );

  app.get(
    '/api/v1/incidents/:id/executions',
    { schema: { tags, summary: 'Plan executions on an incident, oldest first', params: IdParams, response: { 200: Type.Array(ExecutionSchema), ...errors } } },
    async (request) => engine.executionsForIncident(request.params.id),
  );
  app.get('/api/v1/executions/:id', { schema: { tags, params: IdParams, response: { 200: ExecutionSchema, ...errors } } }, async (request) =>
    engine.execution(request.params.id),
  );
  for (const [verb, approve] of [['approve', true], ['reject', false]] as const) {
    app.post(
      `/api/v1/executions/:id/steps/:step/${verb}`,
      { schema: { tags, summary: `${verb} a waiting approval step (needs the step's role)`, params: StepParams, body: Type.Optional(ApprovalDecisionSchema), response: { 200: ExecutionSchema, ...errors } } },
      async (request) => {
        const principal = principalOf(request);
        return engine.decideApproval(
          request.params.id,
          request.params.step,
          { name: principal.name, role: principal.role, allowed: (required) => roleAllows(principal.role, required) },
          approve,
          request.body?.comment,
        );
      },
    );
  }
  app.post(
    '/api/v1/executions/:id/steps/:step/decide',
    { schema: { tags, summary: 'Retry, skip or fail a step that was in flight when its server stopped', params: StepParams, body: DecideSchema, response: { 200: ExecutionSchema, ...errors } } },
    async (request) => engine.decide(request.params.id, request.params.step, request.body.action, actorOf(request), request.body.comment),
  );
  app.post('/api/v1/executions/:id/cancel', { schema: { tags, params: IdParams, response: { 200: ExecutionSchema, ...errors } } }, async (request) =>
    engine.cancel(request.params.id, actorOf(request)),
  );
}
