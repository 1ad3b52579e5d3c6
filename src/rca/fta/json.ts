import { AppError, isAppError } from '../../shared/errors.ts';
import { parseWithSchema } from '../../shared/validation.ts';
import { FaultTreeModelSchema, type FaultTreeModel } from './model.ts';
import { validateFaultTreeModel } from './validate.ts';

/**
 * Reads a model in the Firebreak JSON format, from text or an already-parsed value.
 * Schema problems throw `validation_failed`, semantic ones (cycles, undefined names, bad k) `unprocessable`.
 */
export function parseFaultTreeJson(input: string | unknown): FaultTreeModel {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new AppError('malformed_input', `fault tree JSON does not parse: ${(error as Error).message}`, { field: '(root)' });
    }
  }
  let model: FaultTreeModel;
  try {
    model = parseWithSchema(FaultTreeModelSchema, value);
  } catch (error) {
    throw isAppError(error) ? nameTheElement(error, value) : error;
  }
  validateFaultTreeModel(model);
  return model;
}

/**
 * Schema errors point at an array index (`basicEvents[3].probability`); people look for names,
 * so the message also says which gate or event that index holds.
 */
function nameTheElement(error: AppError, value: unknown): AppError {
  const field = error.details.field ?? '';
  const match = /^(faultTrees\[(\d+)\](?:\.gates\[(\d+)\])?|basicEvents\[(\d+)\]|houseEvents\[(\d+)\])/.exec(field);
  if (!match) return error;
  const root = value as { faultTrees?: { name?: unknown; gates?: { name?: unknown }[] }[]; basicEvents?: { name?: unknown }[]; houseEvents?: { name?: unknown }[] };
  let element: unknown;
  let kind = '';
  if (match[4] !== undefined) [element, kind] = [root.basicEvents?.[Number(match[4])]?.name, 'basic event'];
  else if (match[5] !== undefined) [element, kind] = [root.houseEvents?.[Number(match[5])]?.name, 'house event'];
  else if (match[3] !== undefined) [element, kind] = [root.faultTrees?.[Number(match[2])]?.gates?.[Number(match[3])]?.name, 'gate'];
  else [element, kind] = [root.faultTrees?.[Number(match[2])]?.name, 'fault tree'];
  if (typeof element !== 'string') return error;
  return new AppError(error.code, `${error.message} (${kind} "${element}")`, { ...error.details, element });
}

/** The model as a plain JSON value in the Firebreak format, keys in a stable order (diff-friendly). */
export function exportFaultTreeJson(model: FaultTreeModel): FaultTreeModel {
  const optional = <T extends object>(entries: T): T =>
    Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as T;
  return optional({
    format: model.format,
    name: model.name,
    label: model.label,
    description: model.description,
    faultTrees: model.faultTrees.map((tree) =>
      optional({
        name: tree.name,
        top: tree.top,
        label: tree.label,
        description: tree.description,
        gates: tree.gates.map((g) =>
          optional({ name: g.name, type: g.type, k: g.k, inputs: [...g.inputs], label: g.label, description: g.description }),
        ),
      }),
    ),
    basicEvents: model.basicEvents.map((e) =>
      optional({
        name: e.name,
        probability: e.probability,
        failureRate: e.failureRate,
        missionTime: e.missionTime,
        label: e.label,
        description: e.description,
      }),
    ),
    houseEvents: model.houseEvents?.map((e) => optional({ name: e.name, state: e.state, label: e.label, description: e.description })),
  });
}

/** The model serialised as Firebreak JSON text. */
export function stringifyFaultTreeJson(model: FaultTreeModel): string {
  return `${JSON.stringify(exportFaultTreeJson(model), null, 2)}\n`;
}
