import { FALSE_INPUT, inputEvent, TRUE_INPUT, type CompiledTree } from './compile.ts';
import { DiagramStore, FALSE, TRUE, WorkLimitReached } from './diagram.ts';
import { assignLevels, findModules } from './modules.ts';
import { isAppError } from '../../shared/errors.ts';

/**
 * The exact core of the analysis: one BDD per module (a module's sub-modules appear in it as single
 * variables), exact probabilities bottom-up, Birnbaum importance top-down by the chain rule, and the
 * minimal cut sets of the whole tree as one ZBDD over the basic events.
 */
export interface ExactResult {
  store: DiagramStore;
  /** Probability by level (basic events and module variables). */
  pByLevel: Float64Array;
  /** Basic event index by level, -1 for a module variable. */
  eventOfLevel: Int32Array;
  topProbability: number;
  /** dP(top)/dp(event), by event index. */
  birnbaum: Float64Array;
  /** Minimal cut sets of the top (see `minimalSolutions` for non-coherent trees), as a ZBDD root. */
  cutSets: number;
  modules: number;
  bddNodes: number;
  /** Most nodes in the store seen between gates while building the BDDs. */
  peakNodes: number;
  timings: { bddMs: number; probabilityMs: number; cutSetsMs: number };
}

interface Module {
  gate: number;
  root: number;
  /** Level standing for this module in its parent's BDD (-1 for the top). */
  level: number;
  /** Index of the parent module in `modules` (-1 for the top). */
  parent: number;
}

/**
 * The race between variable orders is decided when one of them has created RACE_NODES nodes, or earlier
 * when one has created at least RACE_EARLY_NODES and RACE_LEAD times as many as another.
 */
const RACE_NODES = 1 << 19;
const RACE_EARLY_NODES = 1 << 16;
const RACE_LEAD = 4;

/**
 * The BDDs of every gate, children-first, under one variable order: levels, the store, the modules found
 * so far. Several builders can advance gate by gate side by side (see `analyzeExactly`).
 */
class GateBuilder {
  readonly store: DiagramStore;
  readonly levelOfEvent: Int32Array;
  readonly levelOfGate: Int32Array;
  readonly levels: number;
  readonly gateBdd: Int32Array;
  /** Gates accepted as modules (index into `modules`), -1 otherwise. */
  readonly moduleIndex: Int32Array;
  readonly moduleOfLevel: Int32Array;
  readonly modules: Module[] = [];
  /** Uses of each gate's diagram still to come: once a gate's parents are all built, its diagram is garbage. */
  private readonly pendingUses: Int32Array;
  private collectAt: number;
  peakNodes = 0;
  /** The next gate to build. */
  next = 0;
  /** Paused once for building a gate with more than half the budget (see analyzeExactly). */
  paused = false;

  constructor(
    private readonly tree: CompiledTree,
    private readonly candidates: Uint8Array,
    rank: Float64Array | undefined,
    private readonly nodeBudget: number,
    private readonly collectAbove: number | undefined,
  ) {
    const { levelOfEvent, levelOfGate, levels } = assignLevels(tree, candidates, rank);
    this.levelOfEvent = levelOfEvent;
    this.levelOfGate = levelOfGate;
    this.levels = levels;
    this.moduleOfLevel = new Int32Array(levels).fill(-1);
    this.store = new DiagramStore(nodeBudget);
    this.gateBdd = new Int32Array(tree.gates.length);
    this.moduleIndex = new Int32Array(tree.gates.length).fill(-1);
    this.pendingUses = new Int32Array(tree.gates.length);
    for (const gate of tree.gates) for (const input of gate.inputs) if (input >= 0) this.pendingUses[input]!++;
    this.collectAt = this.threshold(0);
  }

  // Collecting costs a pass over the live nodes and a rehash, so it waits until the store is three quarters
  // full (then until half the remaining room is used); a gate that overflows the budget anyway triggers a
  // collection and is built again.
  private threshold(live: number): number {
    return this.collectAbove ?? Math.max(Math.floor(this.nodeBudget * 0.75), live + ((this.nodeBudget - live) >> 1));
  }

  private operand(input: number): number {
    if (input >= 0) {
      const m = this.moduleIndex[input]!;
      return m >= 0 ? this.store.variable(this.modules[m]!.level) : this.gateBdd[input]!;
    }
    if (input === TRUE_INPUT) return TRUE;
    if (input === FALSE_INPUT) return FALSE;
    return this.store.variable(this.levelOfEvent[inputEvent(input)]!);
  }

  /** Keeps the module roots and the diagrams of gates before `g` that are still to be used. */
  collect(g: number): void {
    const roots: number[] = this.modules.map((m) => m.root);
    for (let h = 0; h < g; h++) if (this.pendingUses[h]! > 0 && this.moduleIndex[h]! < 0) roots.push(this.gateBdd[h]!);
    const map = this.store.compact(roots);
    for (let h = 0; h < g; h++) this.gateBdd[h] = map[this.gateBdd[h]!]!;
    for (const m of this.modules) m.root = map[m.root]!;
  }

  build(g: number): void {
    const { tree, store } = this;
    const gate = tree.gates[g]!;
    const top = tree.gates.length - 1;
    if (store.size > this.collectAt) {
      this.collect(g);
      this.collectAt = this.threshold(store.size);
    }
    if (store.size > this.peakNodes) this.peakNodes = store.size;
    let built: number;
    const roomBefore = this.nodeBudget + 2 - store.size;
    try {
      built = gateFunction(store, gate.type, gate.k, gate.inputs.map((input) => this.operand(input)));
    } catch (error) {
      // Out of room: much of the store may be garbage from earlier gates, so collect and try once more,
      // if that gives the gate substantially more room than it just used up; otherwise it is too large.
      if (!isAppError(error) || error.code !== 'too_large_for_analysis') throw error;
      this.collect(g);
      if (this.nodeBudget + 2 - store.size < 1.5 * roomBefore) throw error;
      built = gateFunction(store, gate.type, gate.k, gate.inputs.map((input) => this.operand(input)));
    }
    for (const input of gate.inputs) if (input >= 0) this.pendingUses[input]!--;
    this.gateBdd[g] = built;
    const isCandidate = this.candidates[g] === 1 && (g === top || this.levelOfGate[g]! >= 0);
    // A module true when all its events are absent would break cut-set splicing (see minimalSolutions);
    // such gates (e.g. a NOT) simply stay part of their parent's diagram.
    if (isCandidate && (g === top || lowestOutcome(store, built) === FALSE)) {
      const m = this.modules.length;
      this.moduleIndex[g] = m;
      if (g !== top) this.moduleOfLevel[this.levelOfGate[g]!] = m;
      this.modules.push({ gate: g, root: built, level: g === top ? -1 : this.levelOfGate[g]!, parent: -1 });
    }
  }

  /** After the last gate: the gates' own diagrams are garbage; the cut sets need the room. */
  finish(): void {
    if (this.store.size > this.collectAt) this.collect(this.tree.gates.length);
  }
}

/**
 * `orders`: candidate variable orders (a rank per node for `assignLevels`, undefined for depth-first).
 * With several, they are built side by side, gate by gate, until one of them has created RACE_NODES nodes;
 * the one that has created the fewest goes on alone. No static order suits every tree (see the README),
 * and the race costs small trees nothing and big ones at most that many nodes per losing order.
 * `collectAbove`: store size above which unreferenced nodes are collected between gates (default: three
 * quarters of the budget); tests set it low to exercise the collector.
 */
export function analyzeExactly(
  tree: CompiledTree,
  nodeBudget: number,
  collectAbove?: number,
  orders: readonly (Float64Array | undefined)[] = [undefined],
): ExactResult {
  const t0 = performance.now();
  const candidates = findModules(tree);
  let racing = orders.map((rank) => new GateBuilder(tree, candidates, rank, nodeBudget, collectAbove));
  /** Orders that lost the race (or ran out of work allowance), paused where they stand, fewest nodes first. */
  const reserve: GateBuilder[] = [];
  const gateCount = tree.gates.length;
  let failure: unknown;
  let builder: GateBuilder | undefined;
  while (!builder) {
    if (racing.length === 0) {
      // The order that looked best hit the budget: an order that lost the race may still fit.
      reserve.sort((a, b) => a.store.created - b.store.created);
      const next = reserve.shift();
      if (!next) throw failure;
      racing = [next];
    }
    if (racing.length === 1) {
      const alone = racing[0]!;
      // With another order in reserve, a single gate may use at most half the budget; past that the order
      // is paused and the reserve tried (a gate that big rarely fits). Resumed, it goes on without the cap.
      const capped = reserve.length > 0 && !alone.paused;
      try {
        for (; alone.next < gateCount; alone.next++) {
          alone.store.workLimit = capped ? alone.store.created + (nodeBudget >> 1) : Infinity;
          alone.build(alone.next);
        }
        builder = alone;
      } catch (error) {
        if (error instanceof WorkLimitReached) {
          alone.paused = true;
          reserve.push(alone);
        } else if (isAppError(error) && error.code === 'too_large_for_analysis') failure = error;
        else throw error;
        racing = [];
      }
      continue;
    }
    // Side by side, one gate each. While another order is still in the race, one gate may not cost more
    // than two race lengths: an order that blows up inside a single gate is paused instead of filling the
    // budget (it stays in reserve, in case the others fail).
    const survivors: GateBuilder[] = [];
    for (const racer of racing) {
      racer.store.workLimit = racer.store.created + 2 * RACE_NODES;
      try {
        racer.build(racer.next);
        racer.next++;
        survivors.push(racer);
      } catch (error) {
        if (error instanceof WorkLimitReached) reserve.push(racer);
        else if (isAppError(error) && error.code === 'too_large_for_analysis') failure = error;
        else throw error;
      }
    }
    racing = survivors;
    if (racing.length > 1) {
      const work = racing.map((b) => b.store.created);
      const most = Math.max(...work);
      const least = Math.min(...work);
      if (racing[0]!.next === gateCount || most > RACE_NODES || (most > RACE_EARLY_NODES && most > RACE_LEAD * least)) {
        const leader = racing[work.indexOf(least)]!;
        reserve.push(...racing.filter((b) => b !== leader));
        racing = [leader];
      }
    }
  }
  builder.finish();
  const { store, levelOfEvent, levels, moduleIndex, moduleOfLevel, modules } = builder;
  const peakNodes = builder.peakNodes;
  const eventOfLevel = new Int32Array(levels).fill(-1);
  const pByLevel = new Float64Array(levels);
  levelOfEvent.forEach((l, e) => {
    if (l < 0) return;
    eventOfLevel[l] = e;
    pByLevel[l] = tree.probabilities[e]!;
  });
  const ownerOf = new Int32Array(tree.gates.length).fill(-1);
  const top = tree.gates.length - 1;
  // Parent module: the owner of the gates that use it. Walk parents-first (reverse of children-first).
  const topModule = moduleIndex[top]!;
  ownerOf[top] = topModule;
  for (let g = top; g >= 0; g--) {
    const owner = moduleIndex[g]! >= 0 ? moduleIndex[g]! : ownerOf[g]!;
    if (owner < 0) continue; // not under the top (cannot happen for compiled trees)
    for (const input of tree.gates[g]!.inputs) {
      if (input < 0) continue;
      if (moduleIndex[input]! >= 0) modules[moduleIndex[input]!]!.parent = owner;
      else ownerOf[input] = owner;
    }
  }
  // A module whose own gates (sub-modules aside) are all AND/OR/atleast is a monotone function of its
  // variables, even in a non-coherent tree; its cut sets can use the cheaper monotone filter.
  const monotone = new Uint8Array(modules.length).fill(1);
  for (let g = 0; g <= top; g++) {
    const owner = moduleIndex[g]! >= 0 ? moduleIndex[g]! : ownerOf[g]!;
    const type = tree.gates[g]!.type;
    if (owner >= 0 && (type === 'not' || type === 'xor' || type === 'nand' || type === 'nor')) monotone[owner] = 0;
  }
  const t1 = performance.now();

  // Probabilities children-first: a module's probability is its variable's probability in its parent.
  const prob = new Float64Array(store.size);
  prob[TRUE] = 1;
  const nodesOf = modules.map((m) => store.reachable(m.root));
  const bddNodes = nodesOf.reduce((sum, nodes) => sum + nodes.length, 0);
  modules.forEach((m, i) => {
    for (const n of nodesOf[i]!) {
      const q = pByLevel[store.level(n)]!;
      prob[n] = q * prob[store.high(n)]! + (1 - q) * prob[store.low(n)]!;
    }
    if (m.level >= 0) pByLevel[m.level] = prob[m.root]!;
  });
  const topProbability = prob[modules[topModule]!.root]!;

  // Birnbaum parents-first: d P(top) / d p(x) = d P(top) / d P(module) * d P(module) / d p(x).
  const byLevel = new Float64Array(levels);
  const reach = new Float64Array(store.size);
  const dTop = new Float64Array(modules.length);
  for (let i = modules.length - 1; i >= 0; i--) {
    const m = modules[i]!;
    dTop[i] = m.parent < 0 ? 1 : byLevel[m.level]!;
    if (m.root <= TRUE) continue;
    reach[m.root] = dTop[i]!;
    const nodes = nodesOf[i]!;
    for (let j = nodes.length - 1; j >= 0; j--) {
      const n = nodes[j]!;
      const r = reach[n]!;
      if (r === 0) continue;
      const l = store.level(n);
      const q = pByLevel[l]!;
      const hi = store.high(n);
      const lo = store.low(n);
      reach[hi] = reach[hi]! + r * q;
      reach[lo] = reach[lo]! + r * (1 - q);
      byLevel[l] = byLevel[l]! + r * (prob[hi]! - prob[lo]!);
    }
  }
  const birnbaum = new Float64Array(tree.events.length);
  levelOfEvent.forEach((l, e) => {
    if (l >= 0) birnbaum[e] = byLevel[l]!;
  });
  const t2 = performance.now();

  // Cut sets children-first; each module variable is replaced by its module's (already spliced) cut sets.
  const spliceCutSets = (): Int32Array => {
    const spliced = new Int32Array(modules.length);
    const memo = new Int32Array(store.size).fill(-1);
    modules.forEach((m, i) => {
      const own = store.minimalSolutions(m.root, memo, monotone[i] === 1);
      const expanded = new Map<number, number>();
      const expand = (n: number): number => {
        if (n <= TRUE) return n;
        const known = expanded.get(n);
        if (known !== undefined) return known;
        const lo = expand(store.low(n));
        const hi = expand(store.high(n));
        const l = store.level(n);
        const sub = moduleOfLevel[l]!;
        const r = sub >= 0 ? store.union(store.concat(spliced[sub]!, hi), lo) : store.zbdd(l, lo, hi);
        expanded.set(n, r);
        return r;
      };
      spliced[i] = expand(own);
    });
    return spliced;
  };
  let spliced: Int32Array;
  try {
    spliced = spliceCutSets();
  } catch (error) {
    // As for gates: drop everything but the module diagrams (partial cut sets included) and start again.
    if (!isAppError(error) || error.code !== 'too_large_for_analysis') throw error;
    builder.collect(0);
    spliced = spliceCutSets();
  }
  const t3 = performance.now();

  return {
    store,
    pByLevel,
    eventOfLevel,
    topProbability,
    birnbaum,
    cutSets: spliced[topModule]!,
    modules: modules.length,
    bddNodes,
    peakNodes: Math.max(peakNodes, store.size),
    timings: { bddMs: t1 - t0, probabilityMs: t2 - t1, cutSetsMs: t3 - t2 },
  };
}

/** Value of the function when every variable is false: follow the low edges. */
function lowestOutcome(store: DiagramStore, f: number): number {
  while (f > TRUE) f = store.low(f);
  return f;
}

function gateFunction(store: DiagramStore, type: CompiledTree['gates'][number]['type'], k: number, inputs: number[]): number {
  // Combining the operands whose top variable is deepest first keeps intermediate diagrams small.
  const byLevel = (): number[] => [...inputs].sort((a, b) => store.level(b) - store.level(a));
  switch (type) {
    case 'and':
      return byLevel().reduce((acc, x) => store.and(acc, x), TRUE);
    case 'nand':
      return store.not(byLevel().reduce((acc, x) => store.and(acc, x), TRUE));
    case 'or':
      return byLevel().reduce((acc, x) => store.or(acc, x), FALSE);
    case 'nor':
      return store.not(byLevel().reduce((acc, x) => store.or(acc, x), FALSE));
    case 'xor':
      return inputs.reduce((acc, x) => store.xor(acc, x), FALSE);
    case 'not':
      return store.not(inputs[0]!);
    case 'atleast':
      return store.atLeast(k, inputs);
  }
}
