import { FALSE_INPUT, TRUE_INPUT, inputEvent, type CompiledTree } from './compile.ts';
import { DiagramStore, FALSE, TRUE } from './diagram.ts';
import { FamilyStats, limitProbability } from './family.ts';
import { isAppError } from '../../shared/errors.ts';

/**
 * The minimal cut sets of a coherent tree within an order and probability limit, built bottom-up as
 * ZBDDs with the limits applied at every gate (the truncation industrial tools use when a tree's BDD
 * does not fit), without the tree's BDD. Every gate's family is its exact set of minimal cut sets within
 * the limits: a cut set within them is made only of pieces within them, and whatever makes it
 * non-minimal is within them too. There is no exact probability without the BDD: the caller reports the
 * rare-event and min-cut bounds of these sets, and importance measures from them.
 */
export interface TruncatedCutSets {
  store: DiagramStore;
  root: number;
  /** Level = basic event index (depth-first order of first appearance). */
  pByLevel: Float64Array;
  eventOfLevel: Int32Array;
}

export function buildTruncatedCutSets(
  tree: CompiledTree,
  limits: { maxOrder?: number; cutoff?: number },
  nodeBudget: number,
): TruncatedCutSets {
  const events = tree.events.length;
  const maxOrder = Math.min(limits.maxOrder ?? events, events);
  const cutoff = limits.cutoff ?? 0;
  const store = new DiagramStore(nodeBudget);
  const p = tree.probabilities;
  const gateCount = tree.gates.length;
  const family = new Int32Array(gateCount);
  const pendingUses = new Int32Array(gateCount);
  for (const gate of tree.gates) for (const input of gate.inputs) if (input >= 0) pendingUses[input]!++;

  const limited = (f: number): number => (cutoff > 0 && f > TRUE ? limitProbability(store, new FamilyStats(store, f, p), p, cutoff) : f);
  const operand = (input: number): number => {
    if (input >= 0) return family[input]!;
    if (input === TRUE_INPUT) return TRUE;
    if (input === FALSE_INPUT) return FALSE;
    const e = inputEvent(input);
    return maxOrder >= 1 && p[e]! >= cutoff ? store.zbdd(e, FALSE, TRUE) : FALSE;
  };
  const collect = (g: number): void => {
    const live: number[] = [];
    for (let h = 0; h < g; h++) if (pendingUses[h]! > 0) live.push(h);
    const map = store.compact(live.map((h) => family[h]!));
    for (const h of live) family[h] = map[family[h]!]!;
  };
  const build = (g: number): number => {
    const gate = tree.gates[g]!;
    const inputs = gate.inputs.map(operand);
    switch (gate.type) {
      case 'or':
        return inputs.reduce((acc, f) => store.minUnion(acc, f), FALSE);
      case 'and':
        return inputs.reduce((acc, f) => limited(store.minProduct(acc, f, maxOrder)), TRUE);
      case 'atleast': {
        // atLeast[j]: minimal sets making at least j of the inputs seen so far true.
        let atLeast = [TRUE, ...new Array<number>(gate.k).fill(FALSE)];
        for (const f of inputs) {
          const next = [TRUE];
          for (let j = 1; j <= gate.k; j++) next.push(store.minUnion(limited(store.minProduct(f, atLeast[j - 1]!, maxOrder)), atLeast[j]!));
          atLeast = next;
        }
        return atLeast[gate.k]!;
      }
      default:
        throw new Error(`buildTruncatedCutSets: ${gate.type} gate in a coherent tree`);
    }
  };
  for (let g = 0; g < gateCount; g++) {
    if (store.size > nodeBudget * 0.75) collect(g);
    try {
      family[g] = build(g);
    } catch (error) {
      // Most of a full store is usually the garbage of earlier gates: collect and build this one once more.
      if (!isAppError(error) || error.code !== 'too_large_for_analysis') throw error;
      collect(g);
      family[g] = build(g);
    }
    for (const input of tree.gates[g]!.inputs) if (input >= 0) pendingUses[input]!--;
  }
  const root = family[gateCount - 1]!;
  const eventOfLevel = Int32Array.from({ length: events }, (_, e) => e);
  return { store, root, pByLevel: Float64Array.from(p), eventOfLevel };
}
