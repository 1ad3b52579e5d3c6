import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import { versionFromIfMatch } from '../shared/concurrency.ts';
import type { AppContext } from '../app/context.ts';
import {
  AcknowledgeSchema,
  BulkActionSchema,
  BulkResultSchema,
  CreateIncidentSchema,
  IncidentCountsQuerySchema,
  IncidentCountsSchema,
  IncidentPageSchema,
  IncidentSchema,
  ListIncidentsQuerySchema,
  NoteSchema,
  PatchIncidentSchema,
  ResolveSchema,
  TimelineEntrySchema,
  TimelineQuerySchema,
  TransitionSchema,
  type Incident,
} from './schemas.ts';
import { computeIncidentMetrics } from './metrics.ts';
import { AppError } from '../shared/errors.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String()) });
const errors = { 400: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema };

function withEtag(reply: FastifyReply, incident: Incident): Incident {
  void reply.header('etag', `"${incident.version}"`);
  return incident;
}

export function incidentRoutes(app: HttpApp, ctx: AppContext): void {
  const incidents = ctx.services.incidents;
  const people = ctx.services.people;
  const tags = ['incidents'];

  app.post(
    '/api/v1/incidents',
    { schema: { tags, summary: 'Open an incident', body: CreateIncidentSchema, response: { 201: IncidentSchema, ...errors } } },
    async (request, reply) => {
      const body = request.body.assignee === undefined ? request.body : { ...request.body, assignee: await people.resolveAssignee(request.body.assignee) };
      const incident = await incidents.create(body, actorOf(request));
      void reply.status(201).header('location', `/api/v1/incidents/${incident.id}`);
      return withEtag(reply, incident);
    },
  );

  app.get(
    '/api/v1/incidents',
    {
      schema: {
        tags,
        summary: 'List incidents: active ones most urgent first, others newest first (see `sort`)',
        querystring: ListIncidentsQuerySchema,
        response: { 200: IncidentPageSchema, 400: ProblemResponseSchema },
      },
    },
    async (request) => incidents.list(request.query),
  );

  app.get(
    '/api/v1/incidents/counts',
    {
      schema: {
        tags,
        summary: 'How many incidents match the filters: active, triggered, acknowledged, mine (assigned to the caller), closed and total',
        querystring: IncidentCountsQuerySchema,
        response: { 200: IncidentCountsSchema, 400: ProblemResponseSchema },
      },
    },
    async (request) => incidents.counts(request.query, actorOf(request)),
  );

  app.post(
    '/api/v1/incidents/bulk',
    {
      schema: {
        tags,
        summary: 'Acknowledge or resolve several incidents; each succeeds or fails on its own',
        body: BulkActionSchema,
        response: { 200: BulkResultSchema, 400: ProblemResponseSchema },
      },
    },
    async (request) => incidents.bulk(request.body, actorOf(request)),
  );

  app.get(
    '/api/v1/incidents/:id',
    { schema: { tags, params: IdParams, response: { 200: IncidentSchema, 404: ProblemResponseSchema } } },
    async (request, reply) => withEtag(reply, await incidents.get(request.params.id)),
  );

  app.patch(
    '/api/v1/incidents/:id',
    {
      schema: {
        tags,
        summary: 'Update fields; needs If-Match or `version`',
        params: IdParams,
        headers: IfMatchHeaders,
        body: PatchIncidentSchema,
        response: { 200: IncidentSchema, ...errors, 428: ProblemResponseSchema },
      },
    },
    async (request, reply) => {
      const version = versionFromIfMatch(request.headers['if-match']);
      const assignee = request.body.assignee;
      // Assignees are people: an account (by handle or e-mail, stored as the handle) or a team member.
      const body = assignee === undefined || assignee === null ? request.body : { ...request.body, assignee: await people.resolveAssignee(assignee) };
      return withEtag(reply, await incidents.update(request.params.id, body, version, actorOf(request)));
    },
  );

  app.post(
    '/api/v1/incidents/:id/acknowledge',
    { schema: { tags, params: IdParams, headers: IfMatchHeaders, body: Type.Optional(AcknowledgeSchema), response: { 200: IncidentSchema, ...errors } } },
    async (request, reply) => {
      const version = versionFromIfMatch(request.headers['if-match']) ?? request.body?.version;
      return withEtag(reply, await incidents.acknowledge(request.params.id, actorOf(request), version));
    },
  );

  app.post(
    '/api/v1/incidents/:id/transition',
    { schema: { tags, params: IdParams, headers: IfMatchHeaders, body: TransitionSchema, response: { 200: IncidentSchema, ...errors } } },
    async (request, reply) => {
      const version = versionFromIfMatch(request.headers['if-match']) ?? request.body.version;
      const options = { ...(request.body.note ? { note: request.body.note } : {}), ...(version ? { expectedVersion: version } : {}) };
      return withEtag(reply, await incidents.transition(request.params.id, request.body.to, actorOf(request), options));
    },
  );

  app.post(
    '/api/v1/incidents/:id/resolve',
    { schema: { tags, params: IdParams, headers: IfMatchHeaders, body: ResolveSchema, response: { 200: IncidentSchema, ...errors } } },
    async (request, reply) => {
      const version = versionFromIfMatch(request.headers['if-match']) ?? request.body.version;
      return withEtag(reply, await incidents.resolve(request.params.id, { ...request.body, ...(version ? { version } : {}) }, actorOf(request)));
    },
  );

  app.get(
    '/api/v1/incidents/:id/timeline',
    { schema: { tags, params: IdParams, querystring: TimelineQuerySchema, response: { 200: Type.Array(TimelineEntrySchema) } } },
    async (request) => incidents.timeline(request.params.id, request.query),
  );

  app.post(
    '/api/v1/incidents/:id/notes',
    { schema: { tags, params: IdParams, body: NoteSchema, response: { 201: TimelineEntrySchema, ...errors } } },
    async (request, reply) => {
      void reply.status(201);
      return incidents.addNote(request.params.id, request.body.text, actorOf(request));
    },
  );

  app.get(
    '/api/v1/metrics/incidents',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Totals, resolution rate, MTTA and MTTR over incidents detected in [from, to)',
        querystring: Type.Object(
          { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const from = new Date(request.query.from).toISOString();
      const to = new Date(request.query.to).toISOString();
      if (from >= to) throw new AppError('validation_failed', 'to: must be after from', { field: 'to' });
      return computeIncidentMetrics(await incidents.timesDetectedBetween(from, to), from, to);
    },
  );
}
