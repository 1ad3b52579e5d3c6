import { inputEvent, type CompiledTree } from './compile.ts';

/**
 * Modules (Dutuit & Rauzy 1996, linear time): a gate is a module when nothing outside its sub-tree uses
 * anything inside it. A module can be analysed on its own and stand in its parent as a single variable,
 * which is what keeps the BDDs of industrial trees small: the diagram of the whole is never built.
 *
 * One depth-first traversal dates every visit; a gate is a module iff all its descendants are first
 * visited after it is entered and last visited before it is left.
 */
export function findModules(tree: CompiledTree): Uint8Array {
  const gateCount = tree.gates.length;
  const nodeCount = gateCount + tree.events.length;
  const nodeOf = (input: number): number => (input >= 0 ? input : gateCount + inputEvent(input));
  const isReal = (input: number): boolean => input >= 0 || (inputEvent(input) >= 0 && inputEvent(input) < tree.events.length);
  const first = new Int32Array(nodeCount);
  const last = new Int32Array(nodeCount);
  const exit = new Int32Array(gateCount);
  let date = 0;
  const top = gateCount - 1;
  const stack: { gate: number; next: number }[] = [];
  date++;
  first[top] = date;
  stack.push({ gate: top, next: 0 });
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const inputs = tree.gates[frame.gate]!.inputs;
    if (frame.next < inputs.length) {
      const input = inputs[frame.next++]!;
      if (!isReal(input)) continue;
      const v = nodeOf(input);
      date++;
      if (first[v] === 0) {
        first[v] = date;
        if (v < gateCount) {
          stack.push({ gate: v, next: 0 });
          continue;
        }
      }
      last[v] = date;
      continue;
    }
    date++;
    exit[frame.gate] = date;
    last[frame.gate] = date;
    stack.pop();
  }

  const low = new Int32Array(gateCount);
  const high = new Int32Array(gateCount);
  const modules = new Uint8Array(gateCount);
  // Gates are listed children-first, so each gate's children are done when it is reached.
  for (let g = 0; g < gateCount; g++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const input of tree.gates[g]!.inputs) {
      if (!isReal(input)) continue;
      const v = nodeOf(input);
      lo = Math.min(lo, first[v]!);
      hi = Math.max(hi, last[v]!);
      if (v < gateCount) {
        lo = Math.min(lo, low[v]!);
        hi = Math.max(hi, high[v]!);
      }
    }
    low[g] = lo;
    high[g] = hi;
    modules[g] = lo > first[g]! && hi < exit[g]! ? 1 : 0;
  }
  modules[top] = 1;
  return modules;
}

/**
 * BDD levels: depth-first from the top, inputs in written order; a module gets a level (for the variable
 * standing for it in its parent) when first entered, then its own variables follow. So every module's
 * variables form one contiguous block right after its own level, which lets its cut sets be spliced into
 * the parent's without reordering.
 */
export function assignLevels(tree: CompiledTree, modules: Uint8Array): { levelOfEvent: Int32Array; levelOfGate: Int32Array; levels: number } {
  const gateCount = tree.gates.length;
  const levelOfEvent = new Int32Array(tree.events.length).fill(-1);
  const levelOfGate = new Int32Array(gateCount).fill(-1);
  let next = 0;
  const top = gateCount - 1;
  const entered = new Uint8Array(gateCount);
  entered[top] = 1;
  const stack: { gate: number; next: number }[] = [{ gate: top, next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const inputs = tree.gates[frame.gate]!.inputs;
    if (frame.next >= inputs.length) {
      stack.pop();
      continue;
    }
    const input = inputs[frame.next++]!;
    if (input >= 0) {
      if (entered[input]) continue;
      entered[input] = 1;
      if (modules[input]) levelOfGate[input] = next++;
      stack.push({ gate: input, next: 0 });
    } else {
      const e = inputEvent(input);
      if (e >= 0 && e < tree.events.length && levelOfEvent[e] === -1) levelOfEvent[e] = next++;
    }
  }
  return { levelOfEvent, levelOfGate, levels: next };
}
