import { inputEvent, type CompiledTree } from './compile.ts';

/**
 * FORCE (Aloul, Markov & Sakallah 2003): a static variable order from the circuit's hypergraph. Every gate
 * with its inputs is one hyperedge over nodes (gates, then basic events); each round moves every node to the
 * mean of the centres of gravity of its hyperedges and re-ranks, which pulls the events a gate combines
 * together. The order with the smallest total span (sum over hyperedges of last minus first position) wins.
 * Returns a rank per node (gates 0..G-1, then events), lower first; starts from depth-first first appearance.
 */
export function forceRank(tree: CompiledTree, rounds = 40): Float64Array {
  const gateCount = tree.gates.length;
  const nodeCount = gateCount + tree.events.length;
  const edges: Int32Array[] = [];
  for (let g = 0; g < gateCount; g++) {
    const pins = [g];
    for (const input of tree.gates[g]!.inputs) {
      if (input >= 0) pins.push(input);
      else {
        const e = inputEvent(input);
        if (e >= 0 && e < tree.events.length) pins.push(gateCount + e);
      }
    }
    edges.push(Int32Array.from(pins));
  }
  const degree = new Int32Array(nodeCount);
  for (const pins of edges) for (const v of pins) degree[v]!++;

  let position = depthFirstPositions(tree);
  const span = (pos: Float64Array): number => {
    let total = 0;
    for (const pins of edges) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of pins) {
        const x = pos[v]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      total += hi - lo;
    }
    return total;
  };
  let best = position;
  let bestSpan = span(position);
  const sum = new Float64Array(nodeCount);
  const order = Array.from({ length: nodeCount }, (_, i) => i);
  for (let round = 0; round < rounds; round++) {
    sum.fill(0);
    for (const pins of edges) {
      let cog = 0;
      for (const v of pins) cog += position[v]!;
      cog /= pins.length;
      for (const v of pins) sum[v] = sum[v]! + cog;
    }
    const target = new Float64Array(nodeCount);
    for (let v = 0; v < nodeCount; v++) target[v] = degree[v]! > 0 ? sum[v]! / degree[v]! : position[v]!;
    order.sort((a, b) => target[a]! - target[b]! || position[a]! - position[b]!);
    const next = new Float64Array(nodeCount);
    order.forEach((v, i) => {
      next[v] = i;
    });
    position = next;
    const s = span(position);
    if (s < bestSpan) {
      bestSpan = s;
      best = position;
    }
  }
  return best;
}

/**
 * Heaviest-first depth-first order: from the top, each gate's inputs are visited largest support first
 * (the number of distinct basic events under an input; an event weighs 1), ties in written order. Big,
 * shared sub-trees then get the top of the order and small ones are finished next to where they are used.
 * Returns a position per node (gates 0..G-1, then events).
 */
export function heaviestFirstPositions(tree: CompiledTree): Float64Array {
  const weight = supportSizes(tree);
  return depthFirstPositions(tree, (node) => -weight[node]!);
}

/** Number of distinct basic events under each node (gates 0..G-1, then events at 1), by bitsets. */
export function supportSizes(tree: CompiledTree): Float64Array {
  const gateCount = tree.gates.length;
  const eventCount = tree.events.length;
  const words = (eventCount + 31) >>> 5;
  const bits = new Uint32Array(gateCount * words);
  const size = new Float64Array(gateCount + eventCount).fill(1);
  // Gates are children-first, so each input's set is complete when its parent is reached.
  for (let g = 0; g < gateCount; g++) {
    const base = g * words;
    for (const input of tree.gates[g]!.inputs) {
      if (input >= 0) {
        const from = input * words;
        for (let w = 0; w < words; w++) bits[base + w]! |= bits[from + w]!;
      } else {
        const e = inputEvent(input);
        if (e >= 0 && e < eventCount) bits[base + (e >>> 5)]! |= 1 << (e & 31);
      }
    }
    let count = 0;
    for (let w = 0; w < words; w++) {
      let x = bits[base + w]!;
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      count += (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
    }
    size[g] = count;
  }
  return size;
}

/**
 * Position of every node (gates, then events) in a depth-first traversal from the top; each gate's inputs
 * in written order, or by ascending `key(node)` (stable).
 */
export function depthFirstPositions(tree: CompiledTree, key?: (node: number) => number): Float64Array {
  const gateCount = tree.gates.length;
  const eventCount = tree.events.length;
  const position = new Float64Array(gateCount + eventCount).fill(-1);
  const nodesOf = (gate: number): number[] => {
    const nodes: number[] = [];
    for (const input of tree.gates[gate]!.inputs) {
      if (input >= 0) nodes.push(input);
      else {
        const e = inputEvent(input);
        if (e >= 0 && e < eventCount) nodes.push(gateCount + e);
      }
    }
    if (key) {
      const keys = nodes.map(key);
      const order = nodes.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
      return order.map((i) => nodes[i]!);
    }
    return nodes;
  };
  let next = 0;
  const top = gateCount - 1;
  position[top] = next++;
  const stack: { nodes: number[]; next: number }[] = [{ nodes: nodesOf(top), next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.nodes.length) {
      stack.pop();
      continue;
    }
    const node = frame.nodes[frame.next++]!;
    if (position[node]! >= 0) continue;
    position[node] = next++;
    if (node < gateCount) stack.push({ nodes: nodesOf(node), next: 0 });
  }
  return position;
}

/**
 * Variable orders the engine can use (see the README for how they fare on the Aralia trees). `auto` races
 * depth-first against heaviest-first: neither wins on every tree.
 */
export type VariableOrder = 'auto' | 'depth-first' | 'heaviest-first' | 'force';
export const VARIABLE_ORDERS: readonly VariableOrder[] = ['auto', 'depth-first', 'heaviest-first', 'force'];

/** Candidate ranks per node for `analyzeExactly`; undefined means plain depth-first, inputs in written order. */
export function variableRanks(tree: CompiledTree, order: VariableOrder): (Float64Array | undefined)[] {
  const hoisted = topSiblingEvents(tree);
  const hoist = (rank: Float64Array | undefined): Float64Array | undefined => hoistEvents(tree, rank, hoisted);
  switch (order) {
    case 'auto':
      return [hoist(undefined), hoist(heaviestFirstPositions(tree))];
    case 'depth-first':
      return [hoist(undefined)];
    case 'heaviest-first':
      return [hoist(heaviestFirstPositions(tree))];
    case 'force':
      return [hoist(forceRank(tree))];
  }
}

/** Inputs of the top gate with at most this many basic events under them count as small (see topSiblingEvents). */
const HOIST_SUPPORT = 16;

/**
 * The events under the top gate's small inputs (a basic event, or a gate over at most HOIST_SUPPORT events),
 * which go first in every order. Such a sibling is often repeated deep inside the big inputs (das9701: e0 or
 * g1292 or g1402 or a 2.8M-node gate that uses g1292 and g1402 again). Combined last, at the bottom of the
 * order, it makes the top gate rebuild the whole big diagram; at the top of the order the big diagrams split
 * on it once, near the root. On das9701 this cuts the nodes created by 19% (17.0M to 13.8M); on the other
 * Aralia trees it changes little either way (see the README).
 */
export function topSiblingEvents(tree: CompiledTree): number[] {
  const gateCount = tree.gates.length;
  const eventCount = tree.events.length;
  const top = tree.gates[gateCount - 1]!;
  if (top.inputs.length < 2) return [];
  const support = supportSizes(tree);
  const hoisted: number[] = [];
  const seen = new Uint8Array(gateCount + eventCount);
  const addEvent = (e: number): void => {
    if (e < 0 || e >= eventCount || seen[gateCount + e]) return;
    seen[gateCount + e] = 1;
    hoisted.push(e);
  };
  for (const input of top.inputs) {
    if (input < 0) {
      addEvent(inputEvent(input));
      continue;
    }
    if (support[input]! > HOIST_SUPPORT) continue;
    const stack = [input];
    while (stack.length > 0) {
      const g = stack.pop()!;
      if (seen[g]) continue;
      seen[g] = 1;
      for (const x of tree.gates[g]!.inputs) {
        if (x >= 0) stack.push(x);
        else addEvent(inputEvent(x));
      }
    }
  }
  return hoisted;
}

/** `rank` with the `hoisted` events first, in that order (undefined, plain depth-first, stays so when none). */
function hoistEvents(tree: CompiledTree, rank: Float64Array | undefined, hoisted: readonly number[]): Float64Array | undefined {
  if (hoisted.length === 0) return rank;
  const ranked = rank ? Float64Array.from(rank) : depthFirstPositions(tree);
  const gateCount = tree.gates.length;
  hoisted.forEach((e, i) => {
    ranked[gateCount + e] = i - hoisted.length - 1;
  });
  return ranked;
}
