import { AppError } from '../../shared/errors.ts';

/**
 * One store of decision-diagram nodes, shared by the BDD (Boolean functions) and the ZBDD (families of
 * cut sets). A node is a triple (level, low, high) with a unique id; ids index one typed array holding the
 * triples side by side (16 bytes a node, so one cache line serves a node's three fields: the operations
 * are bound by memory latency, not arithmetic), and the GC never sees them. The computed cache is laid out
 * the same way.
 *
 * The same triple means different things as a BDD node (if-then-else on the variable) and as a ZBDD node
 * (sets without / with the variable), and only the reduction rule differs (BDD: low == high disappears;
 * ZBDD: high == empty disappears). Sharing the store is therefore sound and saves memory.
 *
 * Ids 0 and 1 are the terminals: false / the empty family, and true / the family {{}}.
 * A node's children always have smaller ids than the node, so ascending id order is a topological order;
 * the linear passes for probabilities and importance rely on that.
 */
export const FALSE = 0;
export const TRUE = 1;
export const TERMINAL_LEVEL = 0x7fffffff;

const OP_AND = 1;
const OP_OR = 2;
const OP_XOR = 3;
const OP_NOT = 4;
const OP_WITHOUT = 5;
const OP_UNION = 6;
const OP_CONCAT = 7;
const OP_UNSATISFIED = 8;
const OP_MIN_UNION = 9;
/** minProduct and truncate carry their order limit in the cache's op field: op + limit. */
const OP_MIN_PRODUCT = 16;
const OP_TRUNCATE = 1 << 20;

/** Thrown when a store passes its `workLimit`; the store is then to be abandoned. */
export class WorkLimitReached extends Error {
  constructor() {
    super('work limit reached');
  }
}

export class DiagramStore {
  /** (level, low, high, unused) for node id i at 4i .. 4i+3. */
  private nodes: Int32Array;
  /** Number of nodes, terminals included; the next id. */
  size = 2;
  /** Nodes ever created (collections do not lower it): the work done so far. */
  created = 0;
  /** `created` beyond which node creation throws WorkLimitReached (see analyzeExactly's race). */
  workLimit = Infinity;
  private capacity: number;
  private table: Int32Array;
  private tableMask: number;
  /** (op, a, b, result) per slot, side by side. */
  private cache: Int32Array;
  private cacheMask: number;
  private readonly maxCacheBits = 22;
  /** Visit marks for `reachable`, compared with `epoch` so they never need clearing. */
  private stamp = new Int32Array(0);
  private epoch = 0;

  constructor(readonly nodeBudget: number) {
    this.capacity = 1 << 14;
    this.nodes = new Int32Array(this.capacity * 4);
    this.nodes[0] = TERMINAL_LEVEL;
    this.nodes[4] = TERMINAL_LEVEL;
    this.table = new Int32Array(1 << 15);
    this.tableMask = (1 << 15) - 1;
    this.cache = new Int32Array(4 << 16);
    this.cacheMask = (1 << 16) - 1;
  }

  level(n: number): number {
    return this.nodes[n << 2]!;
  }

  low(n: number): number {
    return this.nodes[(n << 2) + 1]!;
  }

  high(n: number): number {
    return this.nodes[(n << 2) + 2]!;
  }

  /** The node (level, low, high), found or created; no reduction rule applied here. */
  private node(l: number, lo: number, hi: number): number {
    let slot = hashTriple(l, lo, hi) & this.tableMask;
    const table = this.table;
    const nodes = this.nodes;
    for (;;) {
      const id = table[slot]!;
      if (id === 0) break;
      const at = id << 2;
      if (nodes[at] === l && nodes[at + 1] === lo && nodes[at + 2] === hi) return id;
      slot = (slot + 1) & this.tableMask;
    }
    const id = this.size;
    if (id >= this.nodeBudget + 2) {
      throw new AppError(
        'too_large_for_analysis',
        `the decision diagram for this fault tree exceeds the budget of ${this.nodeBudget} nodes; raise nodeBudget or limit the analysis (maxOrder, cutoff)`,
        { field: 'nodeBudget', nodeBudget: this.nodeBudget },
      );
    }
    if (this.created >= this.workLimit) throw new WorkLimitReached();
    if (id >= this.capacity) this.growNodes();
    const at = id << 2;
    this.nodes[at] = l;
    this.nodes[at + 1] = lo;
    this.nodes[at + 2] = hi;
    this.size = id + 1;
    this.created++;
    table[slot] = id;
    if (this.size * 2 > table.length) this.growTable();
    return id;
  }

  private growNodes(): void {
    const capacity = Math.min(this.capacity * 2, this.nodeBudget + 2);
    const next = new Int32Array(capacity * 4);
    next.set(this.nodes);
    this.nodes = next;
    this.capacity = capacity;
  }

  private growTable(): void {
    // Rehashing is memory-bound (a cache miss per node), so a store that gets big jumps straight to the
    // table its budget needs instead of doubling its way there; small trees keep small tables.
    const full = 2 ** Math.ceil(Math.log2(2 * (this.nodeBudget + 2)));
    const size = this.table.length >= 1 << 22 ? Math.max(full, this.table.length * 2) : this.table.length * 2;
    this.table = new Int32Array(size);
    this.tableMask = size - 1;
    this.rehash();
    // A bigger diagram deserves a bigger computed cache (lossy, so just start it afresh).
    const cacheBits = Math.min(this.maxCacheBits, Math.log2(size));
    if (1 << cacheBits > this.cacheMask + 1) {
      this.cache = new Int32Array(4 << cacheBits);
      this.cacheMask = (1 << cacheBits) - 1;
    }
  }

  /** Puts every node into the (empty) unique table. */
  private rehash(): void {
    const { table, tableMask: mask, nodes } = this;
    for (let id = 2; id < this.size; id++) {
      const at = id << 2;
      let slot = hashTriple(nodes[at]!, nodes[at + 1]!, nodes[at + 2]!) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id;
    }
  }

  private cacheSlot(op: number, a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(op, 0x27d4eb2f)) >>> 0;
    h ^= h >>> 16;
    return (h & this.cacheMask) << 2;
  }

  private cached(op: number, a: number, b: number): number {
    const at = this.cacheSlot(op, a, b);
    const cache = this.cache;
    return cache[at] === op && cache[at + 1] === a && cache[at + 2] === b ? cache[at + 3]! : -1;
  }

  private remember(op: number, a: number, b: number, r: number): number {
    const at = this.cacheSlot(op, a, b);
    const cache = this.cache;
    cache[at] = op;
    cache[at + 1] = a;
    cache[at + 2] = b;
    cache[at + 3] = r;
    return r;
  }

  /**
   * Garbage collection: keeps only the nodes reachable from `roots` and renumbers them densely, in the same
   * relative order (so children still have smaller ids than their parents). Returns old id -> new id
   * (-1 for a dropped node). The computed cache is cleared; callers must translate every id they hold.
   */
  compact(roots: ArrayLike<number>): Int32Array {
    const size = this.size;
    const nodes = this.nodes;
    const keep = new Uint8Array(size);
    keep[FALSE] = 1;
    keep[TRUE] = 1;
    const stack: number[] = [];
    for (let i = 0; i < roots.length; i++) stack.push(roots[i]!);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (keep[n]) continue;
      keep[n] = 1;
      stack.push(nodes[(n << 2) + 1]!, nodes[(n << 2) + 2]!);
    }
    const map = new Int32Array(size).fill(-1);
    map[FALSE] = FALSE;
    map[TRUE] = TRUE;
    let next = 2;
    for (let id = 2; id < size; id++) {
      if (!keep[id]) continue;
      const from = id << 2;
      const to = next << 2;
      nodes[to] = nodes[from]!;
      nodes[to + 1] = map[nodes[from + 1]!]!;
      nodes[to + 2] = map[nodes[from + 2]!]!;
      map[id] = next++;
    }
    this.size = next;
    this.table.fill(0);
    this.rehash();
    this.cache.fill(0);
    return map;
  }

  // ---- BDD -------------------------------------------------------------------------------------------

  /** BDD node for "if variable `l` then `hi` else `lo`". */
  bdd(l: number, lo: number, hi: number): number {
    return lo === hi ? lo : this.node(l, lo, hi);
  }

  variable(l: number): number {
    return this.node(l, FALSE, TRUE);
  }

  and(f: number, g: number): number {
    if (f === FALSE || g === FALSE) return FALSE;
    if (f === TRUE) return g;
    if (g === TRUE || f === g) return f;
    if (f > g) [f, g] = [g, f];
    const hit = this.cached(OP_AND, f, g);
    if (hit >= 0) return hit;
    const lf = this.level(f);
    const lg = this.level(g);
    let r: number;
    if (lf === lg) r = this.bdd(lf, this.and(this.low(f), this.low(g)), this.and(this.high(f), this.high(g)));
    else if (lf < lg) r = this.bdd(lf, this.and(this.low(f), g), this.and(this.high(f), g));
    else r = this.bdd(lg, this.and(f, this.low(g)), this.and(f, this.high(g)));
    return this.remember(OP_AND, f, g, r);
  }

  or(f: number, g: number): number {
    if (f === TRUE || g === TRUE) return TRUE;
    if (f === FALSE) return g;
    if (g === FALSE || f === g) return f;
    if (f > g) [f, g] = [g, f];
    const hit = this.cached(OP_OR, f, g);
    if (hit >= 0) return hit;
    const lf = this.level(f);
    const lg = this.level(g);
    let r: number;
    if (lf === lg) r = this.bdd(lf, this.or(this.low(f), this.low(g)), this.or(this.high(f), this.high(g)));
    else if (lf < lg) r = this.bdd(lf, this.or(this.low(f), g), this.or(this.high(f), g));
    else r = this.bdd(lg, this.or(f, this.low(g)), this.or(f, this.high(g)));
    return this.remember(OP_OR, f, g, r);
  }

  not(f: number): number {
    if (f <= TRUE) return 1 - f;
    const hit = this.cached(OP_NOT, f, 0);
    if (hit >= 0) return hit;
    const r = this.bdd(this.level(f), this.not(this.low(f)), this.not(this.high(f)));
    return this.remember(OP_NOT, f, 0, r);
  }

  xor(f: number, g: number): number {
    if (f === FALSE) return g;
    if (g === FALSE) return f;
    if (f === g) return FALSE;
    if (f === TRUE) return this.not(g);
    if (g === TRUE) return this.not(f);
    if (f > g) [f, g] = [g, f];
    const hit = this.cached(OP_XOR, f, g);
    if (hit >= 0) return hit;
    const lf = this.level(f);
    const lg = this.level(g);
    let r: number;
    if (lf === lg) r = this.bdd(lf, this.xor(this.low(f), this.low(g)), this.xor(this.high(f), this.high(g)));
    else if (lf < lg) r = this.bdd(lf, this.xor(this.low(f), g), this.xor(this.high(f), g));
    else r = this.bdd(lg, this.xor(f, this.low(g)), this.xor(f, this.high(g)));
    return this.remember(OP_XOR, f, g, r);
  }

  /** "At least k of these functions are true", by the dynamic programme over (input, count). */
  atLeast(k: number, inputs: readonly number[]): number {
    // atLeastFrom[j]: at least j of the inputs seen so far (taken from the end) are true.
    let atLeastFrom: number[] = [TRUE];
    for (let j = 1; j <= k; j++) atLeastFrom.push(FALSE);
    for (let i = inputs.length - 1; i >= 0; i--) {
      const f = inputs[i]!;
      const next = [TRUE];
      for (let j = 1; j <= k; j++) next.push(this.or(this.and(f, atLeastFrom[j - 1]!), atLeastFrom[j]!));
      atLeastFrom = next;
    }
    return atLeastFrom[k]!;
  }

  // ---- ZBDD ------------------------------------------------------------------------------------------

  /** ZBDD node: the sets of `lo`, plus the sets of `hi` each with variable `l` added. */
  zbdd(l: number, lo: number, hi: number): number {
    return hi === FALSE ? lo : this.node(l, lo, hi);
  }

  /** Sets of `p` that contain no set of `q` (Rauzy's "without"): removes non-minimal candidates. */
  without(p: number, q: number): number {
    if (p === FALSE) return FALSE;
    // Sets of q that contain a variable before p's top one cannot be subsets of p's sets: skip them
    // here rather than through cached recursive calls, which would crowd the computed cache.
    const lp = this.level(p);
    while (this.level(q) < lp) q = this.low(q);
    if (q === TRUE || p === q) return FALSE;
    if (q === FALSE) return p;
    const hit = this.cached(OP_WITHOUT, p, q);
    if (hit >= 0) return hit;
    const lq = this.level(q);
    let r: number;
    if (lp < lq) r = this.zbdd(lp, this.without(this.low(p), q), this.without(this.high(p), q));
    else {
      r = this.zbdd(
        lp,
        this.without(this.low(p), this.low(q)),
        this.without(this.without(this.high(p), this.low(q)), this.high(q)),
      );
    }
    return this.remember(OP_WITHOUT, p, q, r);
  }

  /**
   * Sets of the family `p` that do not satisfy the BDD `f` (a set read as the assignment with exactly its
   * variables true). For a monotone `f` this equals without(p, minimalSolutions(f)), in one recursion
   * over (p, f) instead of the nested one of `without`.
   */
  unsatisfying(p: number, f: number): number {
    if (p === FALSE || f === TRUE) return FALSE;
    if (f === FALSE) return p;
    const lp = this.level(p);
    // f's variables above p's top one are false in every set of p (p = {{}} walks f to its all-false value).
    while (this.level(f) < lp) f = this.low(f);
    if (f <= TRUE) return f === TRUE ? FALSE : p;
    const hit = this.cached(OP_UNSATISFIED, p, f);
    if (hit >= 0) return hit;
    const lf = this.level(f);
    let r: number;
    if (lp < lf) r = this.zbdd(lp, this.unsatisfying(this.low(p), f), this.unsatisfying(this.high(p), f));
    else r = this.zbdd(lp, this.unsatisfying(this.low(p), this.low(f)), this.unsatisfying(this.high(p), this.high(f)));
    return this.remember(OP_UNSATISFIED, p, f, r);
  }

  union(p: number, q: number): number {
    if (p === FALSE) return q;
    if (q === FALSE || p === q) return p;
    if (p > q) [p, q] = [q, p];
    const hit = this.cached(OP_UNION, p, q);
    if (hit >= 0) return hit;
    const lp = this.level(p);
    const lq = this.level(q);
    let r: number;
    if (lp === lq) r = this.zbdd(lp, this.union(this.low(p), this.low(q)), this.union(this.high(p), this.high(q)));
    else if (lp < lq) r = this.zbdd(lp, this.union(this.low(p), q), this.high(p));
    else r = this.zbdd(lq, this.union(p, this.low(q)), this.high(q));
    return this.remember(OP_UNION, p, q, r);
  }

  /** Minimal sets of p U q, for minimal families p and q: the cut sets of an OR of coherent functions. */
  minUnion(p: number, q: number): number {
    if (p === FALSE) return q;
    if (q === FALSE || p === q) return p;
    if (p === TRUE || q === TRUE) return TRUE;
    if (p > q) [p, q] = [q, p];
    const hit = this.cached(OP_MIN_UNION, p, q);
    if (hit >= 0) return hit;
    // A set in both must stay once, so q is filtered by what is left of p, not by p.
    const kept = this.without(p, q);
    return this.remember(OP_MIN_UNION, p, q, this.union(kept, this.without(q, kept)));
  }

  /**
   * Minimal sets of {a U b : a in p, b in q} with at most `maxOrder` elements, for minimal families p and q:
   * the cut sets of an AND of coherent functions. The product itself is never built: with v the top
   * variable, the sets without v are those of p0 x q0, and those with v are the minimal sets of
   * (p0 | p1) x (q0 | q1) that contain none of the former (Shannon's expansion of the AND, on cut sets).
   */
  minProduct(p: number, q: number, maxOrder: number): number {
    if (p === FALSE || q === FALSE || maxOrder < 0) return FALSE;
    if (p === TRUE) return this.truncate(q, maxOrder);
    if (q === TRUE || p === q) return this.truncate(p, maxOrder);
    if (p > q) [p, q] = [q, p];
    const hit = this.cached(OP_MIN_PRODUCT + maxOrder, p, q);
    if (hit >= 0) return hit;
    const lp = this.level(p);
    const lq = this.level(q);
    const v = lp < lq ? lp : lq;
    const p0 = lp === v ? this.low(p) : p;
    const p1 = lp === v ? this.high(p) : FALSE;
    const q0 = lq === v ? this.low(q) : q;
    const q1 = lq === v ? this.high(q) : FALSE;
    const r0 = this.minProduct(p0, q0, maxOrder);
    // Only sets of at most maxOrder - 1 elements can take v along. In a minimal family no set of p1
    // contains one of p0, so p0 | p1 only needs p0 filtered.
    const p0Short = this.truncate(p0, maxOrder - 1);
    const q0Short = this.truncate(q0, maxOrder - 1);
    const pp = p1 === FALSE ? p0Short : this.union(this.without(p0Short, p1), p1);
    const qq = q1 === FALSE ? q0Short : this.union(this.without(q0Short, q1), q1);
    const r1 = this.without(this.minProduct(pp, qq, maxOrder - 1), r0);
    return this.remember(OP_MIN_PRODUCT + maxOrder, p, q, this.zbdd(v, r0, r1));
  }

  /** The sets of p with at most `maxOrder` elements. */
  truncate(p: number, maxOrder: number): number {
    if (p <= TRUE) return p;
    if (maxOrder < 0) return FALSE;
    if (maxOrder === 0) {
      while (p > TRUE) p = this.low(p);
      return p;
    }
    const hit = this.cached(OP_TRUNCATE + maxOrder, p, 0);
    if (hit >= 0) return hit;
    const r = this.zbdd(this.level(p), this.truncate(this.low(p), maxOrder), this.truncate(this.high(p), maxOrder - 1));
    return this.remember(OP_TRUNCATE + maxOrder, p, 0, r);
  }

  /** The family {a U b : a in f, b in g}, for f whose variables all come before g's (so no reordering). */
  concat(f: number, g: number): number {
    if (f === FALSE || g === FALSE) return FALSE;
    if (f === TRUE) return g;
    if (g === TRUE) return f;
    const hit = this.cached(OP_CONCAT, f, g);
    if (hit >= 0) return hit;
    const r = this.zbdd(this.level(f), this.concat(this.low(f), g), this.concat(this.high(f), g));
    return this.remember(OP_CONCAT, f, g, r);
  }

  /**
   * The minimal true points of the BDD `root` as a ZBDD (Rauzy 1993):
   * minsol(ite(x, f1, f0)) = {x} x without(minsol(f1), minsol(f0))  U  minsol(f0).
   * For a monotone (coherent) function these are exactly its minimal cut sets. For a non-monotone one they
   * are the minimal cut sets of its monotone approximation (the function with negated literals set to true).
   * `memo` (one slot per BDD node, -1 for unknown) can be shared between calls on disjoint diagrams.
   * `monotone` (the function and so all its cofactors are monotone, e.g. a coherent tree) allows the
   * cheaper `unsatisfying` filter in place of `without`; the result is the same.
   */
  minimalSolutions(root: number, memo: Int32Array = new Int32Array(root + 1).fill(-1), monotone = false): number {
    const visit = (f: number): number => {
      if (f <= TRUE) return f;
      const known = memo[f]!;
      if (known >= 0) return known;
      const m0 = visit(this.low(f));
      const m1 = visit(this.high(f));
      // Monotone f: a minimal solution of f1 extends to one of f iff it does not satisfy f0.
      const r = this.zbdd(this.level(f), m0, monotone ? this.unsatisfying(m1, this.low(f)) : this.without(m1, m0));
      memo[f] = r;
      return r;
    };
    return visit(root);
  }

  /** Ids of the nodes reachable from `root`, in ascending (children-first) order, terminals excluded. */
  reachable(root: number): Int32Array {
    if (this.stamp.length < this.size) {
      const grown = new Int32Array(Math.max(this.size, this.stamp.length * 2));
      grown.set(this.stamp);
      this.stamp = grown;
    }
    const epoch = ++this.epoch;
    const stamp = this.stamp;
    const stack = [root];
    const out: number[] = [];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n <= TRUE || stamp[n] === epoch) continue;
      stamp[n] = epoch;
      out.push(n);
      stack.push(this.low(n), this.high(n));
    }
    return Int32Array.from(out).sort();
  }
}

function hashTriple(l: number, lo: number, hi: number): number {
  let h = (Math.imul(l, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca77) ^ Math.imul(hi, 0xc2b2ae3d)) >>> 0;
  h ^= h >>> 15;
  return h;
}
