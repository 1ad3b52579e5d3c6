/** Self time per function and per module from a .cpuprofile (V8 format). */
import fs from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const file = process.argv[2]!;
const top = Number(process.argv[3] ?? 30);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byFn = new Map<string, number>();
const byModule = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const us = self.get(node.id) ?? 0;
  total += us;
  const url = node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
  const fn = `${node.callFrame.functionName || '(anon)'} ${url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  const mod = url.startsWith('node_modules/') ? url.split('/').slice(0, url.split('/')[1]!.startsWith('@') ? 3 : 2).join('/') : url.startsWith('src/') ? url.split('/').slice(0, 2).join('/') : url.startsWith('node:') ? 'node:' + url.slice(5).split('/')[0] : node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : url || '(native)';
  byModule.set(mod, (byModule.get(mod) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
show('by module', byModule, 20);
show('by function (self)', byFn, top);
