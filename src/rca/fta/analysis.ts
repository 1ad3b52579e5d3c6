import { performance } from 'node:perf_hooks';
import { AppError, isAppError } from '../../shared/errors.ts';
import { compileTree } from './compile.ts';
import { DiagramStore, FALSE, TRUE } from './diagram.ts';
import { analyzeExactly, type ExactResult } from './engine.ts';
import { buildTruncatedCutSets } from './truncated.ts';
import { FamilyStats, limitOrder, limitProbability } from './family.ts';
import type { FaultTreeModel } from './model.ts';
import { validateFaultTreeModel } from './validate.ts';
import { VARIABLE_ORDERS, variableRanks, type VariableOrder } from './order.ts';

export interface AnalysisOptions {
  /** Gate to analyse; default: the model's single root, else the first fault tree's top. */
  top?: string;
  /** Keep only cut sets with at most this many events. */
  maxOrder?: number;
  /** Keep only cut sets whose probability is at least this. */
  cutoff?: number;
  /** How many cut sets to list (the most probable first); the count always covers all. Default 100. */
  maxCutSets?: number;
  /** Most decision-diagram nodes held at once (BDD and ZBDD together; dead BDD nodes are collected between gates) before giving up with too_large_for_analysis. Default 8 000 000 (~200 MB). */
  nodeBudget?: number;
  /** Static BDD variable order within each module (default `auto`: depth-first and heaviest-first raced); for experiments and benchmarks. */
  variableOrder?: VariableOrder;
}

export interface CutSet {
  events: string[];
  probability: number;
}

export interface ImportanceMeasures {
  event: string;
  probability: number;
  /** P(top | event certain) - P(top | event impossible): how much the top depends on this event. */
  birnbaum: number;
  /** Share of the top probability that needs this event: (P(top) - P(top | event impossible)) / P(top). */
  fussellVesely: number;
  /** Risk achievement worth P(top | event certain) / P(top); null when P(top) = 0. */
  riskAchievementWorth: number | null;
  /** Risk reduction worth P(top) / P(top | event impossible); null when that is 0. */
  riskReductionWorth: number | null;
  topGivenOccurs: number;
  topGivenAbsent: number;
}

export interface FaultTreeAnalysis {
  top: string;
  faultTree: string;
  /** Gates, basic events and house events under the top gate. */
  gates: number;
  basicEvents: number;
  houseEvents: number;
  /**
   * true when the tree has no NOT/XOR/NAND/NOR. For a non-coherent tree, `cutSets` are the minimal cut sets
   * of its monotone approximation (negated literals dropped, as SCRAM and XFTA report by default), while
   * `probability.exact` and the importance measures are exact for the real tree.
   */
  coherent: boolean;
  /** Number of minimal cut sets (after maxOrder / cutoff), as a decimal string: it can exceed 2^53. */
  minimalCutSetCount: string;
  /** The most probable minimal cut sets, at most maxCutSets, probability descending. */
  cutSets: CutSet[];
  /**
   * `bdd`: the exact analysis (a BDD per module). `truncated-cut-sets`: the BDD did not fit the node budget,
   * so a coherent tree given an order or probability limit was analysed from its minimal cut sets within
   * the limits alone: no exact probability, and importance measures from the rare-event approximation.
   */
  method: 'bdd' | 'truncated-cut-sets';
  probability: {
    /** Exact top-event probability from the BDD; null when method is `truncated-cut-sets`. */
    exact: number | null;
    /** Rare-event approximation: sum of the minimal cut sets' probabilities. */
    rareEvent: number;
    /** Min-cut upper bound: 1 - prod(1 - P(cut set)). */
    mcub: number;
  };
  /** Per basic event, highest Fussell-Vesely first. */
  importance: ImportanceMeasures[];
  limits: { maxOrder: number | null; cutoff: number | null; maxCutSets: number; nodeBudget: number };
  diagram: { modules: number; bddNodes: number; zbddNodes: number; storeNodes: number };
  /** Milliseconds; probabilityMs includes the importance measures, cutSetsMs the listing and bounds. */
  timings: { compileMs: number; bddMs: number; probabilityMs: number; cutSetsMs: number; totalMs: number };
}

const DEFAULT_NODE_BUDGET = 8_000_000;
const DEFAULT_VARIABLE_ORDER: VariableOrder = 'auto';
const DEFAULT_MAX_CUT_SETS = 100;

function checkOptions(options: AnalysisOptions): void {
  const { maxOrder, cutoff, maxCutSets, nodeBudget, variableOrder } = options;
  if (variableOrder !== undefined && !VARIABLE_ORDERS.includes(variableOrder)) {
    throw new AppError('validation_failed', `variableOrder: must be one of ${VARIABLE_ORDERS.join(', ')}`, { field: 'variableOrder' });
  }
  if (maxOrder !== undefined && (!Number.isInteger(maxOrder) || maxOrder < 1)) {
    throw new AppError('validation_failed', 'maxOrder: must be an integer >= 1', { field: 'maxOrder' });
  }
  if (cutoff !== undefined && (!Number.isFinite(cutoff) || cutoff < 0 || cutoff > 1)) {
    throw new AppError('validation_failed', 'cutoff: must be a probability in [0, 1]', { field: 'cutoff' });
  }
  if (maxCutSets !== undefined && (!Number.isInteger(maxCutSets) || maxCutSets < 0)) {
    throw new AppError('validation_failed', 'maxCutSets: must be an integer >= 0', { field: 'maxCutSets' });
  }
  if (nodeBudget !== undefined && (!Number.isInteger(nodeBudget) || nodeBudget < 1000)) {
    throw new AppError('validation_failed', 'nodeBudget: must be an integer >= 1000', { field: 'nodeBudget' });
  }
}

interface Candidate {
  node: number;
  prob: number;
  /** Best probability reachable from here, as log-probability quantised to ~1e-9 relative, so ties are real ties. */
  bound: number;
  /** Tie-break: deeper candidates first, so equal-probability families are walked depth-first, not breadth-first. */
  level: number;
  events: EventList | null;
}
interface EventList {
  level: number;
  next: EventList | null;
}

/** The `limit` most probable sets of the family, best first, without enumerating the rest (best-first search). */
function mostProbableSets(store: DiagramStore, stats: FamilyStats, p: Float64Array, limit: number): { levels: number[]; probability: number }[] {
  const out: { levels: number[]; probability: number }[] = [];
  if (limit === 0 || stats.root === FALSE) return out;
  const heap: Candidate[] = [];
  const before = (a: Candidate, b: Candidate): boolean => a.bound > b.bound || (a.bound === b.bound && a.level > b.level);
  const quantise = (bound: number): number => Math.round(Math.log(bound) * 1e9);
  const push = (c: Candidate): void => {
    heap.push(c);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(c, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = c;
  };
  const pop = (): Candidate => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  const candidate = (node: number, prob: number, events: EventList | null): Candidate => ({
    node,
    prob,
    bound: quantise(prob * stats.max(node)),
    level: store.level(node),
    events,
  });
  push(candidate(stats.root, 1, null));
  while (heap.length > 0 && out.length < limit) {
    const c = pop();
    if (c.node === TRUE) {
      const levels: number[] = [];
      for (let e = c.events; e; e = e.next) levels.push(e.level);
      out.push({ levels: levels.reverse(), probability: c.prob });
      continue;
    }
    const l = store.level(c.node);
    const hi = store.high(c.node);
    const lo = store.low(c.node);
    const hiProb = c.prob * p[l]!;
    push(candidate(hi, hiProb, { level: l, next: c.events }));
    if (lo !== FALSE) push(candidate(lo, c.prob, c.events));
  }
  // The search is exact up to the quantisation; make the order exact.
  return out.sort((a, b) => b.probability - a.probability || a.levels.length - b.levels.length);
}

/** 1 - prod(1 - P(cs)) = 1 - exp(sum_m -S_m / m) with S_m = sum P(cs)^m, computed on the ZBDD without enumeration. */
function minCutUpperBound(stats: FamilyStats, count: bigint, store: DiagramStore, p: Float64Array): number {
  if (stats.root === FALSE) return 0;
  const maxP = stats.max(stats.root);
  if (maxP >= 1) return 1;
  if (count <= 100_000n) {
    let logProduct = 0;
    const walk = (n: number, prob: number): void => {
      if (n === TRUE) logProduct += Math.log1p(-prob);
      else if (n !== FALSE) {
        walk(store.high(n), prob * p[store.level(n)]!);
        walk(store.low(n), prob);
      }
    };
    walk(stats.root, 1);
    return -Math.expm1(logProduct);
  }
  // Terms shrink at least like maxP^m; pick enough of them for double precision.
  const terms = Math.min(512, Math.max(4, Math.ceil(Math.log(1e-17) / Math.log(maxP))));
  const sums = stats.powerSums(terms);
  let logProduct = 0;
  for (let m = 0; m < terms; m++) logProduct -= sums[m]! / (m + 1);
  return -Math.expm1(logProduct);
}

/**
 * Everything the product reports about one fault tree: minimal cut sets (counted exactly, the most
 * probable listed), exact top-event probability and its two classic approximations, and importance measures.
 */
export function analyzeFaultTree(model: FaultTreeModel, options: AnalysisOptions = {}): FaultTreeAnalysis {
  checkOptions(options);
  const started = performance.now();
  const index = validateFaultTreeModel(model);
  const tree = compileTree(model, { top: options.top, index });
  const nodeBudget = options.nodeBudget ?? DEFAULT_NODE_BUDGET;
  const maxCutSets = options.maxCutSets ?? DEFAULT_MAX_CUT_SETS;
  const t0 = performance.now();

  const limited = options.maxOrder !== undefined || (options.cutoff ?? 0) > 0;
  let exactResult: ExactResult | undefined;
  try {
    exactResult = analyzeExactly(tree, nodeBudget, undefined, variableRanks(tree, options.variableOrder ?? DEFAULT_VARIABLE_ORDER));
  } catch (error) {
    if (!isAppError(error) || error.code !== 'too_large_for_analysis' || !limited) throw error;
    if (!tree.coherent) {
      throw new AppError(
        'too_large_for_analysis',
        `${error.message} (maxOrder and cutoff make a tree tractable only when it has no NOT, XOR, NAND or NOR gates)`,
        error.details,
      );
    }
  }
  // Without the BDD, bddMs is the failed attempt and cutSetsMs the truncated construction.
  const tAttempt = performance.now();
  const truncated = exactResult ? undefined : buildTruncatedCutSets(tree, options, nodeBudget);
  const { store, pByLevel: p, eventOfLevel } = exactResult ?? truncated!;
  const t1 = performance.now();

  // The truncated family is already within the limits; the BDD's cut sets are cut down here.
  let family = exactResult ? exactResult.cutSets : truncated!.root;
  if (exactResult && options.maxOrder !== undefined) family = limitOrder(store, family, options.maxOrder);
  let stats = new FamilyStats(store, family, p);
  if (exactResult && options.cutoff !== undefined && options.cutoff > 0) {
    family = limitProbability(store, stats, p, options.cutoff);
    stats = new FamilyStats(store, family, p);
  }
  const count = stats.count();
  const listed = mostProbableSets(store, stats, p, maxCutSets);
  const cutSets = listed.map((cs) => ({ events: cs.levels.map((l) => tree.events[eventOfLevel[l]!]!), probability: cs.probability }));
  const rareEvent = stats.powerSums(1)[0]!;
  const mcub = minCutUpperBound(stats, count, store, p);
  const t2 = performance.now();

  // Exact: from the BDD's top probability and Birnbaum measures. Truncated: the same formulas on the
  // rare-event sum R of the cut sets, whose derivative in p(e) is exactly sum(P(cs) : e in cs) / p(e).
  const exact = exactResult ? exactResult.topProbability : null;
  const topProbability = exact ?? rareEvent;
  const birnbaum = exactResult ? exactResult.birnbaum : stats.rareEventDerivatives(eventOfLevel, tree.events.length);
  const importance: ImportanceMeasures[] = tree.events.map((event, e) => {
    const q = tree.probabilities[e]!;
    const b = birnbaum[e]!;
    const topGivenOccurs = clamp01(topProbability + (1 - q) * b);
    const topGivenAbsent = clamp01(topProbability - q * b);
    return {
      event,
      probability: q,
      birnbaum: b,
      fussellVesely: topProbability > 0 ? (topProbability - topGivenAbsent) / topProbability : 0,
      riskAchievementWorth: topProbability > 0 ? topGivenOccurs / topProbability : null,
      riskReductionWorth: topGivenAbsent > 0 ? topProbability / topGivenAbsent : null,
      topGivenOccurs,
      topGivenAbsent,
    };
  });
  importance.sort((a, b) => b.fussellVesely - a.fussellVesely || b.birnbaum - a.birnbaum || a.event.localeCompare(b.event));
  const t3 = performance.now();

  return {
    top: tree.top,
    faultTree: tree.faultTree,
    gates: tree.gates.length,
    basicEvents: tree.events.length,
    houseEvents: tree.houseEvents.size,
    coherent: tree.coherent,
    minimalCutSetCount: count.toString(),
    cutSets,
    method: exactResult ? 'bdd' : 'truncated-cut-sets',
    probability: { exact, rareEvent, mcub },
    importance,
    limits: { maxOrder: options.maxOrder ?? null, cutoff: options.cutoff ?? null, maxCutSets, nodeBudget },
    diagram: {
      modules: exactResult?.modules ?? 0,
      bddNodes: exactResult?.bddNodes ?? 0,
      zbddNodes: stats.nodes.length,
      storeNodes: store.size,
    },
    timings: {
      compileMs: round(t0 - started),
      bddMs: round(exactResult?.timings.bddMs ?? tAttempt - t0),
      probabilityMs: round((exactResult?.timings.probabilityMs ?? 0) + (t3 - t2)),
      cutSetsMs: round((exactResult?.timings.cutSetsMs ?? t1 - tAttempt) + (t2 - t1)),
      totalMs: round(t3 - started),
    },
  };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Just the minimal cut sets (counted exactly, the `maxCutSets` most probable listed); see analyzeFaultTree. */
export function computeMinimalCutSets(
  model: FaultTreeModel,
  options: AnalysisOptions = {},
): Pick<FaultTreeAnalysis, 'top' | 'coherent' | 'minimalCutSetCount' | 'cutSets'> {
  const { top, coherent, minimalCutSetCount, cutSets } = analyzeFaultTree(model, options);
  return { top, coherent, minimalCutSetCount, cutSets };
}
