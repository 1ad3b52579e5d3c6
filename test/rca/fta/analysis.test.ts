import { describe, expect, it } from 'vitest';
import { analyzeFaultTree, computeMinimalCutSets, exportFaultTreeJson, listTopGates, parseFaultTreeJson, FAULT_TREE_FORMAT } from '../../../src/rca/fta/index.ts';
import { gate, model, sortedSets, thrown } from './helpers.ts';

describe('analyzeFaultTree on hand-computed trees', () => {
  it('AND multiplies, one cut set with both events', () => {
    const r = analyzeFaultTree(model([gate('top', 'and', ['a', 'b'])], { a: 0.1, b: 0.2 }));
    expect(r.probability.exact).toBeCloseTo(0.02, 15);
    expect(r.minimalCutSetCount).toBe('1');
    expect(sortedSets(r.cutSets)).toEqual(['a,b']);
    expect(r.coherent).toBe(true);
  });

  it('OR: exact, rare-event and min-cut upper bound differ as expected; cut sets sorted by probability', () => {
    const r = analyzeFaultTree(model([gate('top', 'or', ['a', 'b'])], { a: 0.1, b: 0.2 }));
    expect(r.probability.exact).toBeCloseTo(0.28, 15);
    expect(r.probability.rareEvent).toBeCloseTo(0.3, 15);
    expect(r.probability.mcub).toBeCloseTo(0.28, 15);
    expect(r.cutSets).toEqual([
      { events: ['b'], probability: 0.2 },
      { events: ['a'], probability: 0.1 },
    ]);
  });

  it('importance measures of OR(a, b)', () => {
    const r = analyzeFaultTree(model([gate('top', 'or', ['a', 'b'])], { a: 0.1, b: 0.2 }));
    const a = r.importance.find((m) => m.event === 'a')!;
    expect(a.birnbaum).toBeCloseTo(0.8, 15);
    expect(a.topGivenOccurs).toBeCloseTo(1, 15);
    expect(a.topGivenAbsent).toBeCloseTo(0.2, 15);
    expect(a.fussellVesely).toBeCloseTo(0.08 / 0.28, 12);
    expect(a.riskAchievementWorth).toBeCloseTo(1 / 0.28, 12);
    expect(a.riskReductionWorth).toBeCloseTo(0.28 / 0.2, 12);
  });

  it('atleast 2 of 3', () => {
    const r = analyzeFaultTree(model([gate('top', 'atleast', ['a', 'b', 'c'], 2)], { a: 0.1, b: 0.1, c: 0.1 }));
    expect(r.probability.exact).toBeCloseTo(3 * 0.01 * 0.9 + 0.001, 15);
    expect(sortedSets(r.cutSets)).toEqual(['a,b', 'a,c', 'b,c']);
    expect(r.probability.rareEvent).toBeCloseTo(0.03, 15);
    expect(r.probability.mcub).toBeCloseTo(1 - 0.99 ** 3, 15);
  });

  it('shared sub-trees: c under both inputs of an AND is a single cut set', () => {
    const m = model([gate('top', 'and', ['g1', 'g2']), gate('g1', 'or', ['a', 'c']), gate('g2', 'or', ['b', 'c'])], { a: 0.1, b: 0.2, c: 0.3 });
    const r = analyzeFaultTree(m);
    expect(sortedSets(r.cutSets)).toEqual(['a,b', 'c']);
    expect(r.probability.exact).toBeCloseTo(0.3 + 0.7 * 0.02, 15);
  });

  it('NOT: exact probability of the real tree, cut sets of the monotone approximation', () => {
    const r = analyzeFaultTree(model([gate('top', 'and', ['a', 'nb']), gate('nb', 'not', ['b'])], { a: 0.1, b: 0.2 }));
    expect(r.coherent).toBe(false);
    expect(r.probability.exact).toBeCloseTo(0.08, 15);
    expect(sortedSets(r.cutSets)).toEqual(['a']);
    const b = r.importance.find((m) => m.event === 'b')!;
    expect(b.birnbaum).toBeCloseTo(-0.1, 15);
    expect(b.topGivenOccurs).toBe(0);
  });

  it('XOR, NAND and NOR', () => {
    const p = { a: 0.1, b: 0.2 };
    expect(analyzeFaultTree(model([gate('top', 'xor', ['a', 'b'])], p)).probability.exact).toBeCloseTo(0.1 * 0.8 + 0.9 * 0.2, 15);
    expect(analyzeFaultTree(model([gate('top', 'nand', ['a', 'b'])], p)).probability.exact).toBeCloseTo(0.98, 15);
    expect(analyzeFaultTree(model([gate('top', 'nor', ['a', 'b'])], p)).probability.exact).toBeCloseTo(0.72, 15);
    // NOR is true with no event at all: its only minimal cut set is the empty set.
    expect(analyzeFaultTree(model([gate('top', 'nor', ['a', 'b'])], p)).cutSets).toEqual([{ events: [], probability: 1 }]);
  });

  it('house events switch branches on and off', () => {
    const gates = [gate('top', 'or', ['a', 'g']), gate('g', 'and', ['h', 'b'])];
    const on = analyzeFaultTree(model(gates, { a: 0.1, b: 0.2 }, { h: true }));
    expect(on.probability.exact).toBeCloseTo(0.28, 15);
    expect(sortedSets(on.cutSets)).toEqual(['a', 'b']);
    const off = analyzeFaultTree(model(gates, { a: 0.1, b: 0.2 }, { h: false }));
    expect(off.probability.exact).toBeCloseTo(0.1, 15);
    expect(sortedSets(off.cutSets)).toEqual(['a']);
    const always = analyzeFaultTree(model([gate('top', 'or', ['a', 'h'])], { a: 0.1 }, { h: true }));
    expect(always.probability.exact).toBe(1);
    expect(always.cutSets).toEqual([{ events: [], probability: 1 }]);
  });

  it('exponential failure model: p = 1 - exp(-lambda t)', () => {
    const m = model([gate('top', 'or', ['pump'])], {});
    m.basicEvents = [{ name: 'pump', failureRate: 1e-3, missionTime: 100 }];
    const r = analyzeFaultTree(m);
    expect(r.probability.exact).toBeCloseTo(1 - Math.exp(-0.1), 15);
  });

  it('maxOrder, cutoff and maxCutSets limit what is counted and listed', () => {
    const m = model([gate('top', 'or', ['a', 'g']), gate('g', 'and', ['b', 'c'])], { a: 0.1, b: 0.2, c: 0.3 });
    expect(analyzeFaultTree(m).minimalCutSetCount).toBe('2');
    const byOrder = analyzeFaultTree(m, { maxOrder: 1 });
    expect(byOrder.minimalCutSetCount).toBe('1');
    expect(byOrder.probability.rareEvent).toBeCloseTo(0.1, 15);
    expect(byOrder.probability.exact).toBeCloseTo(1 - 0.9 * (1 - 0.06), 15);
    expect(sortedSets(analyzeFaultTree(m, { cutoff: 0.08 }).cutSets)).toEqual(['a']);
    const listed = analyzeFaultTree(m, { maxCutSets: 1 });
    expect(listed.minimalCutSetCount).toBe('2');
    expect(listed.cutSets).toEqual([{ events: ['a'], probability: 0.1 }]);
  });

  it('counts cut sets beyond 2^53 without listing them', () => {
    // AND of 60 ORs of 2 events each: 2^60 minimal cut sets.
    const ors = Array.from({ length: 60 }, (_, i) => gate(`o${i}`, 'or', [`x${i}`, `y${i}`]));
    const p: Record<string, number> = {};
    for (let i = 0; i < 60; i++) Object.assign(p, { [`x${i}`]: 0.25, [`y${i}`]: 0.25 });
    const r = analyzeFaultTree(model([gate('top', 'and', ors.map((g) => g.name)), ...ors], p), { maxCutSets: 3 });
    expect(r.minimalCutSetCount).toBe((2n ** 60n).toString());
    expect(r.cutSets).toHaveLength(3);
    expect(r.cutSets[0]!.events).toHaveLength(60);
    expect(r.probability.exact! / 0.4375 ** 60).toBeCloseTo(1, 12);
    expect(r.probability.rareEvent / 0.5 ** 60).toBeCloseTo(1, 12);
  });

  it('throws too_large_for_analysis when the diagram exceeds the node budget', () => {
    // x(i) AND y(i) pairs with every x ordered before every y: the BDD needs ~2^20 nodes.
    const n = 20;
    const xs = Array.from({ length: n }, (_, i) => `x${i}`);
    const pairs = xs.map((x, i) => gate(`pair${i}`, 'and', [x, `y${i}`]));
    const probabilities = Object.fromEntries([...xs, ...xs.map((_, i) => `y${i}`)].map((e) => [e, 0.1]));
    const m = model([gate('top', 'or', ['allx', 'anypair']), gate('anypair', 'or', pairs.map((g) => g.name)), gate('allx', 'and', xs), ...pairs], probabilities);
    // Depth-first meets allx first; heaviest-first would meet anypair first and pair the events up.
    const error = thrown(() => analyzeFaultTree(m, { nodeBudget: 1000, variableOrder: 'depth-first' }));
    expect(error.code).toBe('too_large_for_analysis');
    expect(error.details.field).toBe('nodeBudget');
  });

  it('puts the events of the top gate\'s small inputs first in the order, so the same tree fits a small budget when the pairs sit at the top', () => {
    // As above, but the pairs are inputs of the top itself: their events are hoisted to the top of the order,
    // pair by pair, and the BDD stays linear in n.
    const n = 20;
    const xs = Array.from({ length: n }, (_, i) => `x${i}`);
    const pairs = xs.map((x, i) => gate(`pair${i}`, 'and', [x, `y${i}`]));
    const probabilities = Object.fromEntries([...xs, ...xs.map((_, i) => `y${i}`)].map((e) => [e, 0.1]));
    const m = model([gate('top', 'or', ['allx', ...pairs.map((g) => g.name)]), gate('allx', 'and', xs), ...pairs], probabilities);
    for (const variableOrder of ['depth-first', 'heaviest-first', 'auto'] as const) {
      const r = analyzeFaultTree(m, { nodeBudget: 1000, variableOrder });
      expect(r.probability.exact).toBeCloseTo(1 - 0.99 ** n + 0.1 ** n * 0.9 ** n, 15);
      expect(r.minimalCutSetCount).toBe(String(n + 1));
    }
  });

  it('rejects bad options', () => {
    const m = model([gate('top', 'or', ['a'])], { a: 0.1 });
    expect(thrown(() => analyzeFaultTree(m, { maxOrder: 0 })).details.field).toBe('maxOrder');
    expect(thrown(() => analyzeFaultTree(m, { cutoff: 2 })).details.field).toBe('cutoff');
    expect(thrown(() => analyzeFaultTree(m, { top: 'nope' })).code).toBe('unprocessable');
  });

  it('several fault trees: lists tops, analyses the default or a chosen one', () => {
    const m = parseFaultTreeJson({
      format: FAULT_TREE_FORMAT,
      name: 'two',
      faultTrees: [
        { name: 'first', gates: [{ name: 'g1', type: 'or', inputs: ['a', 'shared'] }, { name: 'shared', type: 'and', inputs: ['b', 'c'] }] },
        { name: 'second', gates: [{ name: 'g2', type: 'and', inputs: ['a', 'shared'] }] },
      ],
      basicEvents: [
        { name: 'a', probability: 0.1 },
        { name: 'b', probability: 0.2 },
        { name: 'c', probability: 0.3 },
      ],
    });
    expect(listTopGates(m)).toEqual([
      { faultTree: 'first', gate: 'g1', isDefault: true },
      { faultTree: 'second', gate: 'g2', isDefault: false },
    ]);
    expect(analyzeFaultTree(m).top).toBe('g1');
    const second = computeMinimalCutSets(m, { top: 'g2' });
    expect(sortedSets(second.cutSets)).toEqual(['a,b,c']);
  });

  it('JSON export round-trips', () => {
    const m = model([gate('top', 'atleast', ['a', 'b', 'g'], 2), gate('g', 'not', ['h'])], { a: 0.1, b: 0.2 }, { h: false });
    const exported = exportFaultTreeJson(m);
    expect(parseFaultTreeJson(JSON.stringify(exported))).toEqual(exported);
    expect(analyzeFaultTree(parseFaultTreeJson(exported)).probability.exact).toBeCloseTo(analyzeFaultTree(m).probability.exact!, 15);
  });
});
