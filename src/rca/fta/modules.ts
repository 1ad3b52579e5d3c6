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
 * BDD levels. A module gets a level (for the variable standing for it in its parent) and its own variables
 * follow it as one contiguous block, which lets its cut sets be spliced into the parent's without
 * reordering. Within a module, its items (basic events and sub-module variables reached without crossing
 * another module) come in depth-first order of first appearance, inputs in written order, or, given
 * `rank` (one number per gate then per event, lower first), sorted by rank; a sub-module's block follows
 * its own level wherever that lands.
 */
export function assignLevels(
  tree: CompiledTree,
  modules: Uint8Array,
  rank?: Float64Array,
): { levelOfEvent: Int32Array; levelOfGate: Int32Array; levels: number } {
  const gateCount = tree.gates.length;
  const eventCount = tree.events.length;
  const top = gateCount - 1;
  // Items of each module gate, in depth-first order of first appearance: gate index, or gateCount + event.
  const itemsOf = new Map<number, number[]>();
  const seen = new Uint8Array(gateCount + eventCount);
  const moduleGates: number[] = [top];
  for (let m = 0; m < moduleGates.length; m++) {
    const owner = moduleGates[m]!;
    const items: number[] = [];
    const stack: { gate: number; next: number }[] = [{ gate: owner, next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const inputs = tree.gates[frame.gate]!.inputs;
      if (frame.next >= inputs.length) {
        stack.pop();
        continue;
      }
      const input = inputs[frame.next++]!;
      if (input >= 0) {
        if (seen[input]) continue;
        seen[input] = 1;
        if (modules[input]) {
          items.push(input);
          moduleGates.push(input);
        } else stack.push({ gate: input, next: 0 });
      } else {
        const e = inputEvent(input);
        if (e < 0 || e >= eventCount || seen[gateCount + e]) continue;
        seen[gateCount + e] = 1;
        items.push(gateCount + e);
      }
    }
    if (rank) {
      const position = new Map(items.map((item, i) => [item, i]));
      items.sort((a, b) => rank[a]! - rank[b]! || position.get(a)! - position.get(b)!);
    }
    itemsOf.set(owner, items);
  }
  const levelOfEvent = new Int32Array(eventCount).fill(-1);
  const levelOfGate = new Int32Array(gateCount).fill(-1);
  let next = 0;
  // Iterative: modules can nest thousands deep.
  const stack: { items: number[]; next: number }[] = [{ items: itemsOf.get(top)!, next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.items.length) {
      stack.pop();
      continue;
    }
    const item = frame.items[frame.next++]!;
    if (item >= gateCount) levelOfEvent[item - gateCount] = next++;
    else {
      levelOfGate[item] = next++;
      stack.push({ items: itemsOf.get(item)!, next: 0 });
    }
  }
  return { levelOfEvent, levelOfGate, levels: next };
}
