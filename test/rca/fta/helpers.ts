import { AppError } from '../../../src/shared/errors.ts';
import { FAULT_TREE_FORMAT, type BasicEvent, type FaultTreeModel, type Gate, type HouseEvent } from '../../../src/rca/fta/index.ts';

/** A one-tree model from gates (top first) and event probabilities. */
export function model(gates: Gate[], probabilities: Record<string, number>, houseEvents: Record<string, boolean> = {}): FaultTreeModel {
  const basicEvents: BasicEvent[] = Object.entries(probabilities).map(([name, probability]) => ({ name, probability }));
  const house: HouseEvent[] = Object.entries(houseEvents).map(([name, state]) => ({ name, state }));
  return {
    format: FAULT_TREE_FORMAT,
    name: 'test',
    faultTrees: [{ name: 'test', gates }],
    basicEvents,
    ...(house.length > 0 ? { houseEvents: house } : {}),
  };
}

export function gate(name: string, type: Gate['type'], inputs: string[], k?: number): Gate {
  return k === undefined ? { name, type, inputs } : { name, type, inputs, k };
}

/** The AppError thrown by `fn`, for asserting on its code and message. */
export function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

/** Deterministic, so property-test failures reproduce from their seed. */
export { seededRandom } from '../../support/random.ts';

export function sortedSets(sets: { events: string[] }[]): string[] {
  return sets.map((s) => [...s.events].sort().join(',')).sort();
}
