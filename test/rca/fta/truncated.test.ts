import { describe, expect, it } from 'vitest';
import { analyzeFaultTree } from '../../../src/rca/fta/index.ts';
import { compileTree } from '../../../src/rca/fta/compile.ts';
import { FamilyStats } from '../../../src/rca/fta/family.ts';
import { buildTruncatedCutSets } from '../../../src/rca/fta/truncated.ts';
import { gate, model, sortedSets, thrown } from './helpers.ts';
import { randomTree } from './random-trees.ts';

/**
 * The truncated route (cut sets built bottom-up with the limits applied at every gate, used when a
 * coherent tree's BDD exceeds the node budget) against the exact route with the same limits.
 */
describe('truncated minimal cut sets', () => {
  it('equal the exact analysis cut down to the same order or probability limit, on random coherent trees', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const tree = randomTree(seed, 14, 12, true, seed % 2 === 0);
      const compiled = compileTree(tree.model, { top: tree.top });
      for (const limits of [{ maxOrder: 1 }, { maxOrder: 2 }, { maxOrder: 3 }, { cutoff: 0.01 }, { maxOrder: 3, cutoff: 0.001 }, {}]) {
        const exact = analyzeFaultTree(tree.model, { top: tree.top, maxCutSets: 100_000, ...limits });
        const truncated = buildTruncatedCutSets(compiled, limits, 1_000_000);
        const stats = new FamilyStats(truncated.store, truncated.root, truncated.pByLevel);
        const context = `seed ${seed}, limits ${JSON.stringify(limits)}`;
        expect(stats.count().toString(), context).toBe(exact.minimalCutSetCount);
        expect(stats.powerSums(1)[0]!, context).toBeCloseTo(exact.probability.rareEvent, 12);
      }
    }
  });

  // x(i) AND y(i) pairs with every x ordered before every y (depth-first meets allx first): the BDD needs
  // ~2^18 nodes, the cut sets 19.
  const n = 18;
  const xs = Array.from({ length: n }, (_, i) => `x${i}`);
  const pairs = xs.map((x, i) => gate(`pair${i}`, 'and', [x, `y${i}`]));
  const probabilities = Object.fromEntries([...xs, ...xs.map((_, i) => `y${i}`)].map((e, i) => [e, 0.01 + i / 1000]));
  const big = model([gate('top', 'or', ['allx', 'anypair']), gate('anypair', 'or', pairs.map((g) => g.name)), gate('allx', 'and', xs), ...pairs], probabilities);

  it('answer a limited analysis whose BDD exceeds the budget, with bounds instead of the exact probability', () => {
    const reference = analyzeFaultTree(big, { maxOrder: 2, maxCutSets: 1000 });
    expect(reference.method).toBe('bdd');
    const r = analyzeFaultTree(big, { maxOrder: 2, nodeBudget: 1000, maxCutSets: 1000, variableOrder: 'depth-first' });
    expect(r.method).toBe('truncated-cut-sets');
    expect(r.probability.exact).toBeNull();
    expect(r.minimalCutSetCount).toBe('18');
    expect(sortedSets(r.cutSets)).toEqual(sortedSets(reference.cutSets));
    expect(r.probability.rareEvent).toBeCloseTo(reference.probability.rareEvent, 15);
    expect(r.probability.mcub).toBeCloseTo(reference.probability.mcub, 15);
    // Importance from the rare-event sum R: Fussell-Vesely of x0 is P({x0, y0}) / R, Birnbaum dR/dp(x0) = p(y0).
    const x0 = r.importance.find((m) => m.event === 'x0')!;
    const pX0 = probabilities.x0!;
    const pY0 = probabilities.y0!;
    expect(x0.birnbaum).toBeCloseTo(pY0, 15);
    expect(x0.fussellVesely).toBeCloseTo((pX0 * pY0) / r.probability.rareEvent, 12);
    expect(x0.topGivenAbsent).toBeCloseTo(r.probability.rareEvent - pX0 * pY0, 15);
  });

  it('still refuse an unlimited analysis, and a non-coherent tree, whose BDD exceeds the budget', () => {
    expect(thrown(() => analyzeFaultTree(big, { nodeBudget: 1000, variableOrder: 'depth-first' })).code).toBe('too_large_for_analysis');
    const negated = model(
      [gate('top', 'or', ['allx', 'notx0', 'anypair']), gate('anypair', 'or', pairs.map((g) => g.name)), gate('notx0', 'not', ['x0']), gate('allx', 'and', xs), ...pairs],
      probabilities,
    );
    const error = thrown(() => analyzeFaultTree(negated, { maxOrder: 2, nodeBudget: 1000, variableOrder: 'depth-first' }));
    expect(error.code).toBe('too_large_for_analysis');
    expect(error.message).toMatch(/NOT/);
  });
});
