import { type DiagramStore, FALSE, TRUE } from './diagram.ts';

/** Per-node summaries of a cut-set family, over the nodes reachable from its root. */
export class FamilyStats {
  readonly nodes: Int32Array;
  readonly maxProb: Float64Array;
  readonly minProb: Float64Array;
  /** Node id -> position in `nodes`. */
  private readonly slotOf: Int32Array;

  constructor(
    private readonly store: DiagramStore,
    readonly root: number,
    private readonly p: Float64Array,
  ) {
    this.nodes = store.reachable(root);
    this.slotOf = new Int32Array(root + 1);
    this.nodes.forEach((n, i) => {
      this.slotOf[n] = i;
    });
    this.maxProb = new Float64Array(this.nodes.length);
    this.minProb = new Float64Array(this.nodes.length);
    this.nodes.forEach((n, i) => {
      const q = p[store.level(n)]!;
      const hi = store.high(n);
      const lo = store.low(n);
      this.maxProb[i] = Math.max(q * this.max(hi), this.max(lo));
      this.minProb[i] = Math.min(q * this.min(hi), this.min(lo));
    });
  }

  /** Highest cut-set probability in the family `n`; -1 for the empty family. */
  max(n: number): number {
    return n === FALSE ? -1 : n === TRUE ? 1 : this.maxProb[this.slotOf[n]!]!;
  }

  min(n: number): number {
    return n === FALSE ? Infinity : n === TRUE ? 1 : this.minProb[this.slotOf[n]!]!;
  }

  count(): bigint {
    const counts: bigint[] = new Array<bigint>(this.nodes.length);
    const get = (n: number): bigint => (n === FALSE ? 0n : n === TRUE ? 1n : counts[this.slotOf[n]!]!);
    this.nodes.forEach((n, i) => {
      counts[i] = get(this.store.low(n)) + get(this.store.high(n));
    });
    return get(this.root);
  }

  /** Sum over cut sets of P(cut set)^m, for m = 1..terms. */
  powerSums(terms: number): Float64Array {
    const sums = new Float64Array(this.nodes.length * terms);
    const out = new Float64Array(terms);
    const at = (n: number, m: number): number => (n === FALSE ? 0 : n === TRUE ? 1 : sums[this.slotOf[n]! * terms + m]!);
    this.nodes.forEach((n, i) => {
      const q = this.p[this.store.level(n)]!;
      const hi = this.store.high(n);
      const lo = this.store.low(n);
      let qm = 1;
      for (let m = 0; m < terms; m++) {
        qm *= q;
        sums[i * terms + m] = qm * at(hi, m) + at(lo, m);
      }
    });
    for (let m = 0; m < terms; m++) out[m] = at(this.root, m);
    return out;
  }

  /**
   * d(sum of P(cs))/d p(e) = sum(P(cs) : e in cs) / p(e), per basic event (`eventOfLevel` maps levels to
   * events), by one top-down pass: reach(n) sums, over the paths from the root to n, the product of the
   * probabilities of the events taken.
   */
  rareEventDerivatives(eventOfLevel: Int32Array, events: number): Float64Array {
    const { nodes, store, p } = this;
    const derivative = new Float64Array(events);
    if (this.root <= TRUE) return derivative;
    const sum = new Float64Array(nodes.length);
    const sumOf = (n: number): number => (n === FALSE ? 0 : n === TRUE ? 1 : sum[this.slotOf[n]!]!);
    nodes.forEach((n, i) => {
      sum[i] = p[store.level(n)]! * sumOf(store.high(n)) + sumOf(store.low(n));
    });
    const reach = new Float64Array(nodes.length);
    reach[this.slotOf[this.root]!] = 1;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const r = reach[i]!;
      if (r === 0) continue;
      const n = nodes[i]!;
      const l = store.level(n);
      const hi = store.high(n);
      const lo = store.low(n);
      const e = eventOfLevel[l]!;
      derivative[e] = derivative[e]! + r * sumOf(hi);
      if (hi > TRUE) reach[this.slotOf[hi]!] = reach[this.slotOf[hi]!]! + r * p[l]!;
      if (lo > TRUE) reach[this.slotOf[lo]!] = reach[this.slotOf[lo]!]! + r;
    }
    return derivative;
  }
}

/** Keeps the sets of at most `maxOrder` events. */
export function limitOrder(store: DiagramStore, root: number, maxOrder: number): number {
  const memo = new Map<number, number>();
  const visit = (n: number, k: number): number => {
    if (n <= TRUE) return n;
    if (k === 0) {
      let m = n;
      while (m > TRUE) m = store.low(m);
      return m;
    }
    const key = n * (maxOrder + 1) + k;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const r = store.zbdd(store.level(n), visit(store.low(n), k), visit(store.high(n), k - 1));
    memo.set(key, r);
    return r;
  };
  return visit(root, maxOrder);
}

/** Keeps the sets with probability >= cutoff; whole sub-families are kept or dropped by their bounds. */
export function limitProbability(store: DiagramStore, stats: FamilyStats, p: Float64Array, cutoff: number): number {
  const memo = new Map<number, Map<number, number>>();
  const visit = (n: number, threshold: number): number => {
    if (stats.max(n) < threshold) return FALSE;
    if (stats.min(n) >= threshold) return n;
    let byThreshold = memo.get(n);
    const known = byThreshold?.get(threshold);
    if (known !== undefined) return known;
    const q = p[store.level(n)]!;
    const r = store.zbdd(store.level(n), visit(store.low(n), threshold), q > 0 ? visit(store.high(n), threshold / q) : FALSE);
    if (!byThreshold) memo.set(n, (byThreshold = new Map()));
    byThreshold.set(threshold, r);
    return r;
  };
  return visit(stats.root, cutoff);
}
