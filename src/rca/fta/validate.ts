import { AppError } from '../../shared/errors.ts';
import type { BasicEvent, FaultTreeModel, Gate, HouseEvent } from './model.ts';

/** Where each name of a model is defined; built once by validation and reused by analysis and rendering. */
export interface ModelIndex {
  gates: Map<string, { gate: Gate; tree: number; field: string }>;
  basicEvents: Map<string, { event: BasicEvent; field: string }>;
  houseEvents: Map<string, { event: HouseEvent; field: string }>;
  /** Gates that no other gate uses, per fault tree, in definition order. */
  rootsByTree: string[][];
}

function unprocessable(field: string, element: string, message: string): AppError {
  return new AppError('unprocessable', message, { field, element });
}

/**
 * Checks what a schema cannot: unique names, defined references, gate arities, probabilities, and acyclicity.
 * Throws the first problem as an AppError naming the element; returns the name index on success.
 */
export function validateFaultTreeModel(model: FaultTreeModel): ModelIndex {
  const index: ModelIndex = { gates: new Map(), basicEvents: new Map(), houseEvents: new Map(), rootsByTree: [] };
  const seen = new Map<string, string>();
  const claim = (name: string, field: string, kind: string): void => {
    const previous = seen.get(name);
    if (previous !== undefined) {
      throw unprocessable(field, name, `${kind} "${name}" is defined twice (also at ${previous}); gates and events share one namespace`);
    }
    seen.set(name, field);
  };

  model.basicEvents.forEach((event, i) => {
    const field = `basicEvents[${i}]`;
    claim(event.name, `${field}.name`, 'basic event');
    checkBasicEvent(event, field);
    index.basicEvents.set(event.name, { event, field });
  });
  (model.houseEvents ?? []).forEach((event, i) => {
    const field = `houseEvents[${i}]`;
    claim(event.name, `${field}.name`, 'house event');
    if (typeof event.state !== 'boolean') throw unprocessable(`${field}.state`, event.name, `house event "${event.name}" needs a boolean state`);
    index.houseEvents.set(event.name, { event, field });
  });
  model.faultTrees.forEach((tree, t) => {
    tree.gates.forEach((gate, g) => {
      const field = `faultTrees[${t}].gates[${g}]`;
      claim(gate.name, `${field}.name`, 'gate');
      index.gates.set(gate.name, { gate, tree: t, field });
    });
  });

  const referenced = new Set<string>();
  for (const [name, { gate, field }] of index.gates) {
    checkGateShape(gate, field);
    gate.inputs.forEach((input, i) => {
      if (!seen.has(input)) {
        throw unprocessable(`${field}.inputs[${i}]`, name, `gate "${name}" references undefined event or gate "${input}"`);
      }
      if (index.gates.has(input)) referenced.add(input);
    });
  }

  model.faultTrees.forEach((tree, t) => {
    if (tree.top !== undefined && !index.gates.has(tree.top)) {
      throw unprocessable(`faultTrees[${t}].top`, tree.name, `fault tree "${tree.name}" names top gate "${tree.top}", which is not a gate`);
    }
    index.rootsByTree.push(tree.gates.filter((gate) => !referenced.has(gate.name)).map((gate) => gate.name));
  });

  const cycle = findGateCycle(index.gates);
  if (cycle) {
    const first = cycle[0] ?? '';
    throw new AppError('unprocessable', `cycle in gate definitions: ${cycle.join(' -> ')}`, {
      field: index.gates.get(first)?.field ?? '',
      element: first,
      cycle,
    });
  }
  return index;
}

function checkBasicEvent(event: BasicEvent, field: string): void {
  const name = event.name;
  const hasP = event.probability !== undefined;
  const hasRate = event.failureRate !== undefined || event.missionTime !== undefined;
  if (hasP === hasRate) {
    throw unprocessable(field, name, `basic event "${name}" needs either a probability or a failureRate with a missionTime`);
  }
  if (hasP) {
    const p = event.probability;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) {
      throw unprocessable(`${field}.probability`, name, `basic event "${name}" has probability ${String(p)}, outside [0, 1]`);
    }
    return;
  }
  for (const key of ['failureRate', 'missionTime'] as const) {
    const value = event[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw unprocessable(`${field}.${key}`, name, `basic event "${name}" needs a finite, non-negative ${key} (got ${String(value)})`);
    }
  }
}

function checkGateShape(gate: Gate, field: string): void {
  const n = gate.inputs.length;
  const name = gate.name;
  if (n < 1) throw unprocessable(`${field}.inputs`, name, `gate "${name}" has no inputs`);
  if (gate.type === 'atleast') {
    const k = gate.k;
    if (k === undefined || !Number.isInteger(k)) throw unprocessable(`${field}.k`, name, `atleast gate "${name}" needs an integer k`);
    if (k < 1 || k > n) throw unprocessable(`${field}.k`, name, `atleast gate "${name}" has k = ${k}, but k must be between 1 and its ${n} inputs`);
    return;
  }
  if (gate.k !== undefined) throw unprocessable(`${field}.k`, name, `gate "${name}" is "${gate.type}"; only atleast gates take k`);
  if (gate.type === 'not' && n !== 1) throw unprocessable(`${field}.inputs`, name, `not gate "${name}" needs exactly one input, has ${n}`);
  if (gate.type === 'xor' && n !== 2) throw unprocessable(`${field}.inputs`, name, `xor gate "${name}" needs exactly two inputs, has ${n}`);
}

/** Iterative DFS (deep trees must not overflow the stack); returns the gate names along a cycle, closed. */
function findGateCycle(gates: ModelIndex['gates']): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1: on the DFS stack, 2: done
  for (const start of gates.keys()) {
    if (state.has(start)) continue;
    const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
    state.set(start, 1);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const inputs = gates.get(frame.name)!.gate.inputs;
      if (frame.next >= inputs.length) {
        state.set(frame.name, 2);
        stack.pop();
        continue;
      }
      const child = inputs[frame.next++]!;
      if (!gates.has(child)) continue;
      const s = state.get(child);
      if (s === 1) {
        const from = stack.findIndex((f) => f.name === child);
        return [...stack.slice(from).map((f) => f.name), child];
      }
      if (s === undefined) {
        state.set(child, 1);
        stack.push({ name: child, next: 0 });
      }
    }
  }
  return undefined;
}

/** The gate analysed when none is named: the model's only root, else the first fault tree's top (or first root). */
export function defaultTopGate(model: FaultTreeModel, index: ModelIndex): string {
  const allRoots = index.rootsByTree.flat();
  const explicit = model.faultTrees[0]?.top;
  if (explicit !== undefined) return explicit;
  if (allRoots.length === 1) return allRoots[0]!;
  const first = index.rootsByTree.find((roots) => roots.length > 0)?.[0];
  if (first === undefined) throw new AppError('unprocessable', 'the model has no root gate', { field: 'faultTrees' });
  return first;
}

export interface TopGate {
  faultTree: string;
  gate: string;
  /** The gate analyseFaultTree picks when no top is given. */
  isDefault: boolean;
}

/** Gates that can be analysed as a top: each fault tree's declared top, else its root gates (used by no other gate). */
export function listTopGates(model: FaultTreeModel): TopGate[] {
  const index = validateFaultTreeModel(model);
  const chosen = defaultTopGate(model, index);
  const out: TopGate[] = [];
  model.faultTrees.forEach((tree, t) => {
    const gates = tree.top !== undefined ? [tree.top, ...index.rootsByTree[t]!.filter((g) => g !== tree.top)] : index.rootsByTree[t]!;
    for (const gate of gates) out.push({ faultTree: tree.name, gate, isDefault: gate === chosen });
  });
  return out;
}
