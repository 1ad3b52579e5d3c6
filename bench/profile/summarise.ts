/**
 * Self time per function and per module from a .cpuprofile (V8 format).
 *
 *   node --import tsx bench/profile/summarise.ts FILE [TOP] [--window START_US,END_US]
 *
 * `--window` keeps only samples taken inside that span of the monotonic clock (microseconds, as
 * bench/profile/server.ts prints it), so start-up and warm-up stay out of a whole-process profile.
 */
import fs from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const windowAt = process.argv.indexOf('--window');
const [windowStart, windowEnd] = windowAt > 0 ? process.argv[windowAt + 1]!.split(',').map(Number) : [-Infinity, Infinity];
const positional = process.argv.slice(2).filter((_, i, all) => !all[i]!.startsWith('--') && all[i - 1] !== '--window');
const file = positional[0]!;
const top = Number(positional[1] ?? 30);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number };
const self = new Map<number, number>();
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= windowStart! && at <= windowEnd!) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
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
