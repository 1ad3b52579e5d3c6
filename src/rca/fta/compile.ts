import { AppError } from '../../shared/errors.ts';
import { basicEventProbability, type FaultTreeModel, type GateType } from './model.ts';
import { defaultTopGate, validateFaultTreeModel, type ModelIndex } from './validate.ts';

/**
 * The part of a model under one top gate, with names replaced by integers.
 * Basic events are numbered in depth-first order of first appearance; gates are listed children-first.
 */
export interface CompiledTree {
  top: string;
  faultTree: string;
  /** Basic event names in depth-first order of first appearance. */
  events: string[];
  probabilities: Float64Array;
  /** Gates children-first; the top gate is last. */
  gates: CompiledGate[];
  houseEvents: Map<string, boolean>;
  coherent: boolean;
}

export interface CompiledGate {
  name: string;
  type: GateType;
  k: number;
  /** Gate index (>= 0), basic event (eventInput(index)), or a house event's constant (TRUE_INPUT / FALSE_INPUT). */
  inputs: number[];
}

export const TRUE_INPUT = -1_000_000_000;
export const FALSE_INPUT = -1_000_000_001;
export const eventInput = (event: number): number => -2 - event;
export const inputEvent = (input: number): number => -2 - input;

export function resolveTop(model: FaultTreeModel, index: ModelIndex, top: string | undefined): string {
  if (top === undefined) return defaultTopGate(model, index);
  if (!index.gates.has(top)) {
    throw new AppError('unprocessable', `top "${top}" is not a gate of this model`, { field: 'top', element: top });
  }
  return top;
}

/**
 * Variable order: depth-first, inputs in the order they are written, each basic event at its first
 * appearance. Fault trees are usually written so that related events sit under the same gate, so this
 * keeps interacting variables close together, which is what keeps BDDs small.
 */
export function compileTree(model: FaultTreeModel, options: { top?: string; index?: ModelIndex } = {}): CompiledTree {
  const index = options.index ?? validateFaultTreeModel(model);
  const top = resolveTop(model, index, options.top);
  const eventIndex = new Map<string, number>();
  const events: string[] = [];
  const gateIndex = new Map<string, number>();
  const gates: CompiledGate[] = [];
  const houseEvents = new Map<string, boolean>();
  let coherent = true;

  // Iterative post-order DFS: trees thousands of gates deep must not overflow the stack.
  const stack: { name: string; next: number }[] = [{ name: top, next: 0 }];
  const onStack = new Set<string>([top]);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const gate = index.gates.get(frame.name)!.gate;
    if (frame.next < gate.inputs.length) {
      const input = gate.inputs[frame.next++]!;
      if (index.gates.has(input)) {
        if (!gateIndex.has(input) && !onStack.has(input)) {
          onStack.add(input);
          stack.push({ name: input, next: 0 });
        }
      } else if (index.basicEvents.has(input)) {
        if (!eventIndex.has(input)) {
          eventIndex.set(input, events.length);
          events.push(input);
        }
      } else {
        houseEvents.set(input, index.houseEvents.get(input)!.event.state);
      }
      continue;
    }
    stack.pop();
    onStack.delete(frame.name);
    if (gate.type === 'not' || gate.type === 'xor' || gate.type === 'nand' || gate.type === 'nor') coherent = false;
    const inputs = gate.inputs.map((input) => {
      const g = gateIndex.get(input);
      if (g !== undefined) return g;
      const event = eventIndex.get(input);
      if (event !== undefined) return eventInput(event);
      return houseEvents.get(input) ? TRUE_INPUT : FALSE_INPUT;
    });
    gateIndex.set(gate.name, gates.length);
    gates.push({ name: gate.name, type: gate.type, k: gate.k ?? 0, inputs });
  }
  const probabilities = Float64Array.from(events, (name) => basicEventProbability(index.basicEvents.get(name)!.event));
  const faultTree = model.faultTrees[index.gates.get(top)!.tree]!.name;
  return { top, faultTree, events, probabilities, gates, houseEvents, coherent };
}
