/**
 * CLI start-up against Node's own: `node -e 0` and `firebreak --help` (and one command that loads a
 * capability group) run alternately in one session, so both see the same machine load; prints medians
 * and the ratio. Target (issue 16): `firebreak --help` within 5× `node -e 0`.
 *
 *   npx tsx bench/cli/startup.ts [runs=21]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/firebreak.js');
const runs = Number(process.argv[2] ?? 21);

const cases: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'firebreak --help': [bin, '--help'],
  'firebreak fta --help': [bin, 'fta', '--help'],
};

function wallMs(args: string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, [] as number[]]));
for (const args of Object.values(cases)) wallMs(args); // warm the file cache
for (let i = 0; i < runs; i++) for (const [name, args] of Object.entries(cases)) samples[name]!.push(wallMs(args));

const base = median(samples['node -e 0']!);
for (const [name, values] of Object.entries(samples)) {
  const m = median(values);
  console.log(`${name.padEnd(22)} median ${m.toFixed(0).padStart(5)} ms  min ${Math.min(...values).toFixed(0).padStart(5)} ms  ${(m / base).toFixed(2)}× node -e 0`);
}
