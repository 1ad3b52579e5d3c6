import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { AppError, notFound } from '../shared/errors.ts';
import { fromJson, toJson, type Database } from '../storage/index.ts';
import { faultTreesOfIncident, findFaultTree, insertFaultTree, updateFaultTree, type FaultTreeRow } from './repository.ts';
import type { IncidentService } from '../incidents/index.ts';
import {
  analyzeFaultTree,
  listExampleFaultTrees,
  parseFaultTreeJson,
  parseOpenPsaMef,
  validateFaultTreeModel,
  type AnalysisOptions,
  type FaultTreeAnalysis,
  type FaultTreeModel,
} from './fta/index.ts';

/** Where a model comes from in a request: exactly one of these. */
export const ModelSourceSchema = {
  model: Type.Optional(Type.Unknown({ description: 'a model in the firebreak.fault-tree/v1 JSON format' })),
  mef_xml: Type.Optional(Type.String({ maxLength: 4 * 1024 * 1024, description: 'an Open-PSA MEF XML document' })),
  example: Type.Optional(Type.String({ maxLength: 100, description: 'name of a shipped example tree' })),
};

export const AnalysisOptionsSchema = {
  top: Type.Optional(Type.String({ maxLength: 200 })),
  max_order: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  cutoff: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  max_cut_sets: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
};

export interface ModelSource {
  model?: unknown;
  mef_xml?: string;
  example?: string;
}

/** Reads a model from whichever source the request gave, validating it fully. */
export function modelFromSource(source: ModelSource): FaultTreeModel {
  const given = (['model', 'mef_xml', 'example'] as const).filter((key) => source[key] !== undefined);
  if (given.length !== 1) {
    throw new AppError('validation_failed', `give exactly one of model, mef_xml or example${given.length ? ` (got ${given.join(', ')})` : ''}`, {
      field: given[1] ?? 'model',
    });
  }
  let model: FaultTreeModel;
  if (source.example !== undefined) {
    const example = listExampleFaultTrees().find((e) => e.name === source.example);
    if (!example) {
      throw new AppError('not_found', `example ${source.example} does not exist; known: ${listExampleFaultTrees().map((e) => e.name).join(', ')}`, {
        field: 'example',
      });
    }
    model = example.model;
  } else if (source.mef_xml !== undefined) {
    model = parseOpenPsaMef(source.mef_xml);
  } else {
    model = parseFaultTreeJson(source.model);
  }
  validateFaultTreeModel(model);
  return model;
}

export function analysisOptions(input: { top?: string; max_order?: number; cutoff?: number; max_cut_sets?: number }): AnalysisOptions {
  return {
    ...(input.top !== undefined ? { top: input.top } : {}),
    ...(input.max_order !== undefined ? { maxOrder: input.max_order } : {}),
    ...(input.cutoff !== undefined ? { cutoff: input.cutoff } : {}),
    ...(input.max_cut_sets !== undefined ? { maxCutSets: input.max_cut_sets } : {}),
  };
}

export interface IncidentFaultTree {
  id: string;
  incident_id: string;
  name: string;
  model: FaultTreeModel;
  created_by: string;
  created_at: string;
  updated_at: string;
  version: number;
}

/** Fault trees a responder copies into an incident (often from an example) and fills with probabilities. */
export class FaultTreeService {
  private readonly db: Database['db'];
  constructor(
    database: Database,
    private readonly incidents: IncidentService,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db;
  }

  async create(incidentId: string, input: ModelSource & { name?: string }, actor: string): Promise<IncidentFaultTree> {
    await this.incidents.get(incidentId);
    const model = modelFromSource(input);
    const now = this.clock().toISOString();
    const row = {
      id: randomUUID(),
      incident_id: incidentId,
      name: input.name ?? input.example ?? model.name ?? 'fault tree',
      model: toJson(model),
      created_by: actor,
      created_at: now,
      updated_at: now,
      version: 1,
    };
    await insertFaultTree(this.db, row);
    await this.incidents.appendTimeline(incidentId, [{ kind: 'fault_tree_added', summary: `${actor} added fault tree ${row.name}`, data: { fault_tree_id: row.id } }], actor);
    return fromRow(row);
  }

  async list(incidentId: string): Promise<IncidentFaultTree[]> {
    await this.incidents.get(incidentId);
    return (await faultTreesOfIncident(this.db, incidentId)).map(fromRow);
  }

  async get(id: string): Promise<IncidentFaultTree> {
    const row = await findFaultTree(this.db, id);
    if (!row) throw notFound('fault tree', id);
    return fromRow(row);
  }

  async update(id: string, input: { version: number; name?: string; model: unknown }, _actor: string): Promise<IncidentFaultTree> {
    const current = await this.get(id);
    if (current.version !== input.version) {
      throw new AppError('version_conflict', `fault tree ${id} is at version ${current.version}, not ${input.version}`, { field: 'version' });
    }
    const model = modelFromSource({ model: input.model });
    const updated = await updateFaultTree(this.db, id, current.version, {
      name: input.name ?? current.name,
      model: toJson(model),
      updated_at: this.clock().toISOString(),
      version: current.version + 1,
    });
    if (!updated) throw new AppError('version_conflict', `fault tree ${id} was changed concurrently`);
    return this.get(id);
  }

  async analyze(id: string, options: AnalysisOptions): Promise<FaultTreeAnalysis> {
    return analyzeFaultTree((await this.get(id)).model, options);
  }
}

function fromRow(row: FaultTreeRow): IncidentFaultTree {
  return { ...row, model: fromJson<FaultTreeModel>(row.model, { format: 'firebreak.fault-tree/v1' } as FaultTreeModel) };
}
