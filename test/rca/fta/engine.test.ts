import { describe, expect, it } from 'vitest';
import { compileTree } from '../../../src/rca/fta/compile.ts';
import { DiagramStore, FALSE, TRUE } from '../../../src/rca/fta/diagram.ts';
import { analyzeExactly } from '../../../src/rca/fta/engine.ts';
import { randomTree } from './random-trees.ts';
import { forceRank, heaviestFirstPositions } from '../../../src/rca/fta/order.ts';

/** Every set of a ZBDD family, as sorted level lists joined to strings, sorted. */
function family(store: DiagramStore, root: number): string[] {
  const out: string[] = [];
  const walk = (n: number, prefix: number[]): void => {
    if (n === FALSE) return;
    if (n === TRUE) {
      out.push(prefix.join(','));
      return;
    }
    walk(store.low(n), prefix);
    walk(store.high(n), [...prefix, store.level(n)]);
  };
  walk(root, []);
  return out.sort();
}

describe('exact engine internals', () => {
  it('collecting garbage between every gate changes no result', () => {
    for (let seed = 1; seed <= 120; seed++) {
      const coherent = seed % 2 === 0;
      const tree = randomTree(seed, 4 + (seed % 10), 3 + (seed % 12), coherent);
      const compiled = compileTree(tree.model, { top: tree.top });
      const plain = analyzeExactly(compiled, 1_000_000);
      const collected = analyzeExactly(compiled, 1_000_000, 0);
      const context = `seed ${seed}`;
      expect(collected.topProbability, context).toBe(plain.topProbability);
      expect([...collected.birnbaum], context).toEqual([...plain.birnbaum]);
      expect([...collected.eventOfLevel], context).toEqual([...plain.eventOfLevel]);
      expect(family(collected.store, collected.cutSets), context).toEqual(family(plain.store, plain.cutSets));
    }
  });

  it('a gate that overflows the node budget is retried after collecting garbage, with the same results', () => {
    let retried = 0;
    for (let seed = 400; seed <= 460; seed++) {
      const tree = randomTree(seed, 8 + (seed % 8), 10 + (seed % 10), seed % 2 === 0);
      const compiled = compileTree(tree.model, { top: tree.top });
      // No collection between gates, so only the retry can recover the garbage.
      const plain = analyzeExactly(compiled, 1_000_000, Infinity);
      const budget = Math.floor(plain.peakNodes * 0.7);
      let tight: ReturnType<typeof analyzeExactly>;
      try {
        tight = analyzeExactly(compiled, budget, Infinity);
      } catch {
        continue; // the live diagrams themselves do not fit: a legitimate refusal
      }
      retried++;
      const context = `seed ${seed}`;
      expect(tight.topProbability, context).toBe(plain.topProbability);
      expect([...tight.birnbaum], context).toEqual([...plain.birnbaum]);
      expect(family(tight.store, tight.cutSets), context).toEqual(family(plain.store, plain.cutSets));
    }
    expect(retried).toBeGreaterThan(5);
  });

  it('every variable order, alone or raced, gives the same probability, importance and cut sets', () => {
    for (let seed = 500; seed <= 580; seed++) {
      const tree = randomTree(seed, 5 + (seed % 12), 4 + (seed % 14), seed % 3 !== 0);
      const compiled = compileTree(tree.model, { top: tree.top });
      const byName = (result: ReturnType<typeof analyzeExactly>): string[] =>
        family(result.store, result.cutSets)
          .map((set) => (set === '' ? [] : set.split(',')).map((l) => compiled.events[result.eventOfLevel[Number(l)]!]!).sort().join(','))
          .sort();
      const reference = analyzeExactly(compiled, 1_000_000);
      const heaviest = heaviestFirstPositions(compiled);
      for (const orders of [[heaviest], [forceRank(compiled)], [undefined, heaviest]]) {
        const result = analyzeExactly(compiled, 1_000_000, undefined, orders);
        const context = `seed ${seed}, ${orders.length} order(s)`;
        expect(result.topProbability, context).toBeCloseTo(reference.topProbability, 13);
        result.birnbaum.forEach((b, e) => expect(b, `${context} event ${e}`).toBeCloseTo(reference.birnbaum[e]!, 12));
        expect(byName(result), context).toEqual(byName(reference));
      }
    }
  });

  it('minimal solutions by the monotone filter equal those by `without` on coherent trees', () => {
    for (let seed = 200; seed <= 320; seed++) {
      const tree = randomTree(seed, 4 + (seed % 10), 3 + (seed % 12), true);
      const compiled = compileTree(tree.model, { top: tree.top });
      const { store } = analyzeExactly(compiled, 1_000_000);
      // Every 7th node of the store, read as a BDD; the comparison applies to the monotone ones.
      const roots = Array.from({ length: store.size - 2 }, (_, i) => i + 2).filter((n) => n % 7 === 0);
      for (const root of roots) {
        const a = store.minimalSolutions(root, undefined, false);
        const b = store.minimalSolutions(root, undefined, true);
        if (isMonotoneBdd(store, root)) expect(family(store, b), `seed ${seed} node ${root}`).toEqual(family(store, a));
      }
    }
  });
});

/** Whether the BDD rooted at `f` is monotone: low <= high at every node (checked by implication on the store). */
function isMonotoneBdd(store: DiagramStore, f: number): boolean {
  const seen = new Set<number>();
  const visit = (n: number): boolean => {
    if (n <= TRUE || seen.has(n)) return true;
    seen.add(n);
    const lo = store.low(n);
    const hi = store.high(n);
    if (store.and(lo, store.not(hi)) !== FALSE) return false;
    return visit(lo) && visit(hi);
  };
  return visit(f);
}
