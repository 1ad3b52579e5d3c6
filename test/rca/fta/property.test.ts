import { describe, expect, it } from 'vitest';
import { analyzeFaultTree } from '../../../src/rca/fta/index.ts';
import { sortedSets } from './helpers.ts';
import { conditionalProbabilities, minimalTruePoints, probabilityOf, randomTree, truthTable } from './random-trees.ts';

/**
 * Random trees (NOT, XOR, NAND, NOR, atleast, house events, shared sub-trees) against brute force over
 * every assignment. Documented semantics checked: exact probability and importance of the real function;
 * cut sets = minimal true points (the minimal cut sets of the monotone approximation).
 */
function check(seed: number, eventCount: number, gateCount: number, coherent: boolean, wide = false): void {
  const tree = randomTree(seed, eventCount, gateCount, coherent, wide);
  const result = analyzeFaultTree(tree.model, { top: tree.top, maxCutSets: 1_000_000 });
  // Only the events under the top take part; the analysis lists exactly those.
  const events = result.importance.map((m) => m.event).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const byName = new Map(tree.model.basicEvents.map((e) => [e.name, e.probability!]));
  const p = events.map((e) => byName.get(e)!);
  const table = truthTable(tree, events);
  const context = `seed ${seed} (${eventCount} events, ${gateCount} gates)`;

  const exact = probabilityOf(table, p);
  expect(result.probability.exact, context).toBeCloseTo(exact, 12);

  const minimal = minimalTruePoints(table, events.length);
  const expectedSets = minimal.map((s) => events.filter((_, i) => (s >> i) & 1).sort().join(',')).sort();
  expect(result.minimalCutSetCount, context).toBe(String(minimal.length));
  expect(sortedSets(result.cutSets), context).toEqual(expectedSets);
  const setProbability = (s: number): number => p.reduce((w, q, i) => ((s >> i) & 1 ? w * q : w), 1);
  const rare = minimal.reduce((sum, s) => sum + setProbability(s), 0);
  expect(result.probability.rareEvent, context).toBeCloseTo(rare, 12);
  const mcub = 1 - minimal.reduce((prod, s) => prod * (1 - setProbability(s)), 1);
  expect(result.probability.mcub, context).toBeCloseTo(mcub, 12);
  for (let i = 1; i < result.cutSets.length; i++) {
    expect(result.cutSets[i - 1]!.probability, context).toBeGreaterThanOrEqual(result.cutSets[i]!.probability);
  }

  const conditional = wide ? conditionalProbabilities(table, p) : undefined;
  for (const measure of result.importance) {
    const i = events.indexOf(measure.event);
    const high = conditional ? conditional.high[i]! : probabilityOf(table, p, { index: i, value: 1 });
    const low = conditional ? conditional.low[i]! : probabilityOf(table, p, { index: i, value: 0 });
    expect(measure.topGivenOccurs, `${context} ${measure.event}`).toBeCloseTo(high, 10);
    expect(measure.topGivenAbsent, `${context} ${measure.event}`).toBeCloseTo(low, 10);
    expect(measure.birnbaum, `${context} ${measure.event}`).toBeCloseTo(high - low, 10);
  }
  if (coherent) expect(result.coherent).toBe(true);
}

describe('analyzeFaultTree against brute force on random trees', () => {
  it('coherent trees (AND, OR, atleast, house events), up to 12 events', () => {
    for (let seed = 1; seed <= 120; seed++) check(seed, 3 + (seed % 10), 2 + (seed % 9), true);
  });

  it('non-coherent trees (NOT, XOR, NAND, NOR, atleast), up to 12 events', () => {
    for (let seed = 1001; seed <= 1160; seed++) check(seed, 3 + (seed % 10), 2 + (seed % 9), false);
  });

  it('larger trees, up to 20 events', () => {
    for (let seed = 5001; seed <= 5006; seed++) check(seed, 15 + (seed % 6), 16, seed % 2 === 0, true);
  });

  it('maxOrder and cutoff keep exactly the matching minimal cut sets', () => {
    for (let seed = 7001; seed <= 7040; seed++) {
      const tree = randomTree(seed, 10, 7, seed % 2 === 0);
      const all = analyzeFaultTree(tree.model, { maxCutSets: 1_000_000 });
      const byOrder = analyzeFaultTree(tree.model, { maxCutSets: 1_000_000, maxOrder: 2 });
      expect(sortedSets(byOrder.cutSets), `seed ${seed}`).toEqual(sortedSets(all.cutSets.filter((c) => c.events.length <= 2)));
      const cutoff = 0.01;
      const byProbability = analyzeFaultTree(tree.model, { maxCutSets: 1_000_000, cutoff });
      expect(sortedSets(byProbability.cutSets), `seed ${seed}`).toEqual(sortedSets(all.cutSets.filter((c) => c.probability >= cutoff)));
      expect(byProbability.minimalCutSetCount).toBe(String(byProbability.cutSets.length));
    }
  });
});
