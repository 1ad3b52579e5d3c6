import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import { actorOf } from '../http/app.ts';
import type { AppContext } from '../app/context.ts';
import { analyzeFaultTree, listExampleFaultTrees, listTopGates, renderFaultTreeSvg, stringifyFaultTreeJson } from './fta/index.ts';
import { AnalysisOptionsSchema, ModelSourceSchema, analysisOptions, modelFromSource } from './fault-trees.ts';

// MEF files of industrial trees run to a few hundred KiB; JSON-escaped inside a request they need more than 1 MiB.
const FTA_BODY_LIMIT = 8 * 1024 * 1024;

export function faultTreeRoutes(app: HttpApp, ctx: AppContext): void {
  const trees = ctx.services.faultTrees;
  const tags = ['fault tree analysis'];

  app.post(
    '/api/v1/fta/analyze',
    {
      bodyLimit: FTA_BODY_LIMIT,
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'Minimal cut sets, exact and approximate top-event probability and importance measures',
        body: Type.Object({ ...ModelSourceSchema, ...AnalysisOptionsSchema }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const model = modelFromSource(request.body);
      return { tops: listTopGates(model), analysis: analyzeFaultTree(model, analysisOptions(request.body)) };
    },
  );

  app.post(
    '/api/v1/fta/diagram.svg',
    {
      bodyLimit: FTA_BODY_LIMIT,
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'The tree drawn as SVG, optionally with one cut set highlighted',
        body: Type.Object(
          { ...ModelSourceSchema, top: Type.Optional(Type.String()), highlight: Type.Optional(Type.Array(Type.String(), { maxItems: 200 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const model = modelFromSource(request.body);
      void reply.type('image/svg+xml; charset=utf-8');
      return renderFaultTreeSvg(model, {
        ...(request.body.top ? { top: request.body.top } : {}),
        ...(request.body.highlight ? { highlightCutSet: request.body.highlight } : {}),
      });
    },
  );

  app.post(
    '/api/v1/fta/convert',
    {
      bodyLimit: FTA_BODY_LIMIT,
      config: { role: 'viewer' },
      schema: { tags, summary: 'Import a model (MEF XML or JSON) and export it as Firebreak JSON', body: Type.Object(ModelSourceSchema, { additionalProperties: false }) },
    },
    async (request, reply) => {
      void reply.type('application/json');
      return stringifyFaultTreeJson(modelFromSource(request.body));
    },
  );

  app.get('/api/v1/fta/examples', { schema: { tags, summary: 'Example fault trees for LLM services' } }, async () =>
    listExampleFaultTrees().map((e) => ({ name: e.name, label: e.label, description: e.description, model: e.model })),
  );

  const IncidentParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
  const TreeParams = Type.Object({ treeId: Type.String({ maxLength: 64 }) });
  app.post(
    '/api/v1/incidents/:id/fault-trees',
    {
      bodyLimit: FTA_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Copy a fault tree (an example, MEF or JSON) into an incident',
        params: IncidentParams,
        body: Type.Object({ ...ModelSourceSchema, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      void reply.status(201);
      return trees.create(request.params.id, request.body, actorOf(request));
    },
  );
  app.get('/api/v1/incidents/:id/fault-trees', { schema: { tags, params: IncidentParams } }, async (request) => trees.list(request.params.id));
  app.get('/api/v1/fault-trees/:treeId', { schema: { tags, params: TreeParams } }, async (request) => trees.get(request.params.treeId));
  app.put(
    '/api/v1/fault-trees/:treeId',
    {
      bodyLimit: FTA_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Replace the model (for example with probabilities filled in from history) at a version',
        params: TreeParams,
        body: Type.Object({ version: Type.Integer({ minimum: 1 }), name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), model: Type.Unknown() }, { additionalProperties: false }),
      },
    },
    async (request) => trees.update(request.params.treeId, request.body, actorOf(request)),
  );
  app.post(
    '/api/v1/fault-trees/:treeId/analyze',
    {
      config: { role: 'viewer' },
      schema: { tags, params: TreeParams, body: Type.Optional(Type.Object(AnalysisOptionsSchema, { additionalProperties: false })) },
    },
    async (request) => trees.analyze(request.params.treeId, analysisOptions(request.body ?? {})),
  );
}
