// Dev tool behind the README's order comparison: one tree, one variable order, the exact engine alone (no
// race); prints sizes, CPU and phase times. Run: npx tsx bench/fta/order-experiment.ts file.xml [order] [nodeBudget]
// Orders: dfs, force, heaviest, and the input sorts sizeasc, sizedesc, fanoutdesc, depthdesc, depthasc, sharedfirst.
import { readFileSync } from 'node:fs';
import { compileTree, inputEvent, type CompiledTree } from '../../src/rca/fta/compile.ts';
import { analyzeExactly } from '../../src/rca/fta/engine.ts';
import { parseOpenPsaMef } from '../../src/rca/fta/mef.ts';
import { forceRank, heaviestFirstPositions } from '../../src/rca/fta/order.ts';

const [file, order = 'dfs', budget = '8000000'] = process.argv.slice(2);
const tree = compileTree(parseOpenPsaMef(readFileSync(file!, 'utf8')));
const G = tree.gates.length;
const E = tree.events.length;
const node = (input: number): number => (input >= 0 ? input : G + inputEvent(input));
const real = (input: number): boolean => input >= 0 || (inputEvent(input) >= 0 && inputEvent(input) < E);

// Support size (events under each gate) and fan-out (parents) per node.
const support = new Float64Array(G + E).fill(1);
const supports: Set<number>[] = [];
for (let g = 0; g < G; g++) {
  const s = new Set<number>();
  for (const i of tree.gates[g]!.inputs) if (real(i)) (i >= 0 ? supports[i]! : [node(i)]).forEach((x) => s.add(x));
  supports.push(s);
  support[g] = s.size;
}
const fanout = new Float64Array(G + E);
for (const g of tree.gates) for (const i of g.inputs) if (real(i)) fanout[node(i)]!++;
const depth = new Float64Array(G + E);
for (let g = 0; g < G; g++) for (const i of tree.gates[g]!.inputs) if (real(i)) depth[g] = Math.max(depth[g]!, i >= 0 ? depth[i]! + 1 : 1);

function dfs(tree: CompiledTree, key: (n: number) => number): Float64Array {
  const pos = new Float64Array(G + E).fill(-1);
  let next = 0;
  const visit = (g: number): void => {
    const ins = tree.gates[g]!.inputs.filter(real).map(node);
    ins.sort((a, b) => key(a) - key(b));
    for (const v of ins) {
      if (pos[v]! >= 0) continue;
      pos[v] = next++;
      if (v < G) visit(v);
    }
  };
  pos[G - 1] = next++;
  visit(G - 1);
  return pos;
}

const t0 = performance.now();
const ranks: Record<string, () => Float64Array | undefined> = {
  dfs: () => undefined,
  force: () => forceRank(tree),
  heaviest: () => heaviestFirstPositions(tree),
  sizeasc: () => dfs(tree, (n) => support[n]!),
  sizedesc: () => dfs(tree, (n) => -support[n]!),
  fanoutdesc: () => dfs(tree, (n) => -fanout[n]!),
  depthdesc: () => dfs(tree, (n) => -depth[n]!),
  depthasc: () => dfs(tree, (n) => depth[n]!),
  // events with most parents first globally, then DFS
  sharedfirst: () => {
    const p = dfs(tree, () => 0);
    return p.map((x, n) => (n >= G ? -fanout[n]! * 1e6 + x : x));
  },
};
const rank = ranks[order]!();
const t1 = performance.now();
const cpu0 = process.cpuUsage();
try {
  const r = analyzeExactly(tree, Number(budget), undefined, [rank]);
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ file: file!.split('/').pop(), order, rankMs: Math.round(t1 - t0), P: r.topProbability, modules: r.modules, bddNodes: r.bddNodes, peak: r.peakNodes, store: r.store.size, cpuMs: Math.round((cpu.user + cpu.system) / 1000), timings: r.timings }));
} catch (e) {
  console.log(JSON.stringify({ file, order, error: (e as Error).message.slice(0, 80), ms: Math.round(performance.now() - t1) }));
}
