import type { FaultTreeModel, Gate } from '../../../src/rca/fta/index.ts';
import { model, seededRandom } from './helpers.ts';

/** Random fault trees and a brute-force oracle over every assignment, for the property tests. */
export interface RandomTree {
  model: FaultTreeModel;
  events: string[];
  top: string;
}

/** `wide`: inputs drawn from recent gates and the top takes every unused event, so nearly all events take part. */
export function randomTree(seed: number, eventCount: number, gateCount: number, coherent: boolean, wide = false): RandomTree {
  const rnd = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const events = Array.from({ length: eventCount }, (_, i) => `e${i}`);
  const probabilities: Record<string, number> = {};
  for (const e of events) probabilities[e] = !wide && rnd() < 0.05 ? pick([0, 1]) : 0.01 + rnd() * 0.6;
  const house: Record<string, boolean> = rnd() < 0.3 ? { h0: rnd() < 0.5 } : {};
  const types: Gate['type'][] = coherent ? ['and', 'or', 'atleast'] : ['and', 'or', 'atleast', 'not', 'xor', 'nand', 'nor'];
  const gates: Gate[] = [];
  const unused = new Set(events);
  for (let g = 0; g < gateCount; g++) {
    const type = pick(types);
    const available = events.length + g + ('h0' in house ? 1 : 0);
    const arity = Math.min(available, type === 'not' ? 1 : type === 'xor' ? 2 : 2 + Math.floor(rnd() * 3));
    const inputs = new Set<string>();
    // Chaining every gate to the previous one makes all of them (and their events) part of the top.
    if (wide && g > 0) inputs.add(`g${g - 1}`);
    while (inputs.size < arity) {
      const r = rnd();
      if (r < 0.35 && g > 0) inputs.add(wide ? `g${Math.max(0, g - 1 - Math.floor(rnd() * 3))}` : `g${Math.floor(rnd() * g)}`);
      else if (r < 0.38 && 'h0' in house) inputs.add('h0');
      else if (unused.size > 0 && r < 0.8) {
        const e = pick([...unused]);
        unused.delete(e);
        inputs.add(e);
      } else inputs.add(pick(events));
    }
    const list = [...inputs];
    gates.push(type === 'atleast' ? { name: `g${g}`, type, inputs: list, k: 1 + Math.floor(rnd() * list.length) } : { name: `g${g}`, type, inputs: list });
  }
  // The top uses the last gate and everything still unused, so most events take part.
  const topInputs = [`g${gateCount - 1}`, ...[...unused].slice(0, wide ? unused.size : 3)];
  if (gateCount > 2) topInputs.push(`g${gateCount - 2}`);
  gates.push({ name: 'top', type: pick(['or', 'and', 'atleast'] as const), inputs: topInputs });
  const last = gates[gates.length - 1]!;
  if (last.type === 'atleast') last.k = 1 + Math.floor(rnd() * topInputs.length);
  return { model: model(gates.reverse(), probabilities, house), events, top: 'top' };
}

/** The top's value under every assignment (bit i of the index: events[i]), one whole column per gate at a time. */
export function truthTable(tree: RandomTree, events: string[]): Uint8Array {
  const gates = new Map(tree.model.faultTrees[0]!.gates.map((g) => [g.name, g]));
  const house = new Map((tree.model.houseEvents ?? []).map((h) => [h.name, h.state]));
  const size = 1 << events.length;
  const columns = new Map<string, Uint8Array>();
  events.forEach((e, i) => {
    const column = new Uint8Array(size);
    for (let s = 0; s < size; s++) column[s] = (s >> i) & 1;
    columns.set(e, column);
  });
  const column = (name: string): Uint8Array => {
    const known = columns.get(name);
    if (known) return known;
    const h = house.get(name);
    if (h !== undefined) return new Uint8Array(size).fill(h ? 1 : 0);
    const gate = gates.get(name)!;
    const inputs = gate.inputs.map(column);
    const out = new Uint8Array(size);
    const n = inputs.length;
    const k = gate.k ?? 0;
    for (let s = 0; s < size; s++) {
      let trues = 0;
      for (const input of inputs) trues += input[s]!;
      const value =
        gate.type === 'and' ? trues === n
        : gate.type === 'or' ? trues > 0
        : gate.type === 'atleast' ? trues >= k
        : gate.type === 'not' ? trues === 0
        : gate.type === 'xor' ? trues === 1
        : gate.type === 'nand' ? trues !== n
        : trues === 0;
      out[s] = value ? 1 : 0;
    }
    columns.set(name, out);
    return out;
  };
  return column(tree.top);
}

export function probabilityOf(table: Uint8Array, p: number[], fixed?: { index: number; value: 0 | 1 }): number {
  let total = 0;
  for (let s = 0; s < table.length; s++) {
    if (!table[s]) continue;
    let w = 1;
    for (let i = 0; i < p.length; i++) {
      const bit = (s >> i) & 1;
      if (fixed && fixed.index === i) {
        if (bit !== fixed.value) w = 0;
      } else w *= bit ? p[i]! : 1 - p[i]!;
    }
    total += w;
  }
  return total;
}

/** Minimal true points: true, and no proper subset true (via the up-closure, one bit removed at a time). */
export function minimalTruePoints(table: Uint8Array, n: number): number[] {
  const up = Uint8Array.from(table);
  for (let s = 0; s < table.length; s++) for (let i = 0; i < n; i++) if ((s >> i) & 1 && up[s & ~(1 << i)]) up[s] = 1;
  const out: number[] = [];
  for (let s = 0; s < table.length; s++) {
    if (!table[s]) continue;
    let minimal = true;
    for (let i = 0; i < n && minimal; i++) if ((s >> i) & 1 && up[s & ~(1 << i)]) minimal = false;
    if (minimal) out.push(s);
  }
  return out;
}


/** P(f | x_i = 1) and P(f | x_i = 0) for every i in one pass; needs every p strictly inside (0, 1). */
export function conditionalProbabilities(table: Uint8Array, p: number[]): { high: number[]; low: number[] } {
  let weights = new Float64Array([1]);
  for (const q of p) {
    const next = new Float64Array(weights.length * 2);
    for (let s = 0; s < weights.length; s++) {
      next[s] = weights[s]! * (1 - q);
      next[s + weights.length] = weights[s]! * q;
    }
    weights = next;
  }
  const high = p.map(() => 0);
  const low = p.map(() => 0);
  for (let s = 0; s < table.length; s++) {
    if (!table[s]) continue;
    for (let i = 0; i < p.length; i++) {
      if ((s >> i) & 1) high[i]! += weights[s]!;
      else low[i]! += weights[s]!;
    }
  }
  return { high: high.map((x, i) => x / p[i]!), low: low.map((x, i) => x / (1 - p[i]!)) };
}
