// Fault tree analysis benchmark over the Aralia trees (Open-PSA MEF): one child process per tree so peak
// memory is measured per tree; writes its section of BENCHMARKS.md. Run: npx tsx bench/fta/run.ts [filter]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const START = '<!-- bench:fta:start -->';
const END = '<!-- bench:fta:end -->';
const PER_TREE_TIMEOUT_S = Number(process.env.FTA_TIMEOUT_S ?? 60);
/** Order limit for a second run of the trees the exact analysis cannot take (the truncated route). */
const LIMITED_ORDER = Number(process.env.FTA_LIMITED_ORDER ?? 4);

function sharedDir(): string {
  if (process.env.FIREBREAK_SHARED_DIR) return process.env.FIREBREAK_SHARED_DIR;
  const beside = path.resolve(repoRoot, '../shared');
  return existsSync(beside) ? beside : '/work/shared';
}

interface Row {
  file: string;
  ok: boolean;
  gates?: number;
  basicEvents?: number;
  cutSets?: string;
  exact?: number | null;
  method?: string;
  rareEvent?: number;
  mcub?: number;
  smallestOrder?: number;
  coherent?: boolean;
  modules?: number;
  parseMs?: number;
  analysisMs?: number;
  analysisCpuMs?: number;
  maxRssKb?: number;
  error?: string;
}

const datasetDir = path.join(sharedDir(), 'datasets/fault-trees');
if (!existsSync(datasetDir)) {
  console.error(`dataset not found at ${datasetDir}; set FIREBREAK_SHARED_DIR`);
  process.exit(1);
}
const filter = process.argv[2];
const files = readdirSync(datasetDir).filter((f) => f.endsWith('.xml') && (!filter || f.includes(filter))).sort();
const rows: Row[] = [];
const wallStart = Date.now();
function analyse(file: string, env: NodeJS.ProcessEnv): Row {
  const child = spawnSync(
    process.execPath,
    ['--stack-size=8000', '--max-old-space-size=3000', '--import', 'tsx', path.join(repoRoot, 'bench/fta/analyze-one.ts'), path.join(datasetDir, file)],
    { cwd: repoRoot, encoding: 'utf8', timeout: PER_TREE_TIMEOUT_S * 1000, killSignal: 'SIGKILL', env },
  );
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return { file, ...(JSON.parse(line) as Omit<Row, 'file'>) };
  } catch {
    return { file, ok: false, error: child.signal ? `killed after ${PER_TREE_TIMEOUT_S} s (${child.signal})` : `crashed: ${child.stderr.trim().split('\n').slice(-1)[0] ?? ''}` };
  }
}

const limitedRows: Row[] = [];
for (const file of files) {
  const row = analyse(file, process.env);
  rows.push(row);
  const summary = row.ok
    ? `${row.gates} gates, ${row.basicEvents} events, ${row.cutSets} MCS, P=${row.exact?.toExponential(4)}, ${((row.analysisMs ?? 0) / 1000).toFixed(2)} s (CPU ${((row.analysisCpuMs ?? 0) / 1000).toFixed(2)} s), ${((row.maxRssKb ?? 0) / 1024).toFixed(0)} MB`
    : row.error;
  console.log(`${file.padEnd(14)} ${summary}`);
  if (!row.ok && row.error?.startsWith('too_large_for_analysis')) {
    const limited = analyse(file, { ...process.env, FTA_MAX_ORDER: String(LIMITED_ORDER) });
    limitedRows.push(limited);
    console.log(`${''.padEnd(14)} order <= ${LIMITED_ORDER}: ${limited.ok ? `${limited.method}, ${limited.cutSets} MCS, rare-event ${limited.rareEvent?.toExponential(4)}, ${((limited.analysisMs ?? 0) / 1000).toFixed(2)} s` : limited.error}`);
  }
}
const wallS = (Date.now() - wallStart) / 1000;

const fmtS = (ms?: number): string => (ms === undefined ? '' : (ms / 1000).toFixed(2));
const analysed = rows.filter((r) => r.ok);
const totalAnalysisMs = analysed.reduce((s, r) => s + (r.analysisMs ?? 0) + (r.parseMs ?? 0), 0);
const totalCpuMs = analysed.reduce((s, r) => s + (r.analysisCpuMs ?? 0), 0);
const under10 = analysed.filter((r) => (r.analysisMs ?? 0) + (r.parseMs ?? 0) < 10_000).length;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const table = [
  '| Tree | Gates | Basic events | Minimal cut sets | P(top) exact | Time (s) | Analysis CPU (s) | Peak RSS (MB) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) =>
    r.ok
      ? `| ${r.file.replace('.xml', '')}${r.coherent ? '' : ' ¹'} | ${r.gates} | ${r.basicEvents} | ${r.cutSets} | ${r.exact?.toExponential(4)} | ${fmtS((r.analysisMs ?? 0) + (r.parseMs ?? 0))} | ${fmtS(r.analysisCpuMs)} | ${((r.maxRssKb ?? 0) / 1024).toFixed(0)} |`
      : `| ${r.file.replace('.xml', '')} | | | not analysed: ${r.error?.replace(/\|/g, '/').slice(0, 160)} | | ${fmtS(r.analysisMs)} | | ${r.maxRssKb ? ((r.maxRssKb ?? 0) / 1024).toFixed(0) : ''} |`,
  ),
];
const section = [
  START,
  '## Fault tree analysis (Aralia benchmark, Open-PSA MEF)',
  '',
  `Run ${new Date().toISOString()} with \`npx tsx bench/fta/run.ts\` on ${os.cpus().length} cores (${cpu}), Node ${process.version}; one child process per tree, default node budget${process.env.FTA_NODE_BUDGET ? ` overridden to ${process.env.FTA_NODE_BUDGET}` : ' (8 000 000)'}, variable order ${process.env.FTA_ORDER ?? 'auto'}, per-tree limit ${PER_TREE_TIMEOUT_S} s. The machine is shared, so times carry noise.`,
  '',
  'Time = parse + full analysis (BDD per module, exact probability, importance of every event, ZBDD of all minimal cut sets, count, top-10 listing, rare-event and MCUB); analysis CPU = the child process\'s CPU time for the analysis alone (`process.cpuUsage`), the figure to compare when the machine is loaded. Peak RSS is the child process\'s maxRSS (includes Node and tsx, ~110 MB baseline).',
  '',
  'Variable order `auto`: depth-first and heaviest-first are built side by side until one has created 512k nodes; the one with less work goes on (see `src/rca/fta/README.md`, which also records what was tried on das9701 and nus9601).',
  '',
  ...table,
  '',
  `¹ non-coherent (NOT/XOR): cut sets are those of the monotone approximation; P(top) is exact.`,
  '',
  ...(limitedRows.length === 0
    ? []
    : [
        `Trees the exact analysis cannot take, run again with \`maxOrder: ${LIMITED_ORDER}\` (\`firebreak fta analyze --order ${LIMITED_ORDER}\`): their BDD is over the budget, so a coherent tree gets its minimal cut sets within the limit built bottom-up as ZBDDs, truncated at every gate (\`src/rca/fta/truncated.ts\`); there is no exact probability then, only the bounds of those cut sets. Time includes the failed BDD attempt.`,
        '',
        '| Tree | Method | Minimal cut sets within the limit | Smallest order | Rare-event | MCUB | Time (s) | Analysis CPU (s) | Peak RSS (MB) |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|',
        ...limitedRows.map((r) =>
          r.ok
            ? `| ${r.file.replace('.xml', '')} | ${r.method} | ${r.cutSets} | ${r.smallestOrder ?? ''} | ${r.rareEvent?.toExponential(4)} | ${r.mcub?.toExponential(4)} | ${fmtS((r.analysisMs ?? 0) + (r.parseMs ?? 0))} | ${fmtS(r.analysisCpuMs)} | ${((r.maxRssKb ?? 0) / 1024).toFixed(0)} |`
            : `| ${r.file.replace('.xml', '')} | not analysed: ${r.error?.replace(/\|/g, '/').slice(0, 160)} | | | | | ${fmtS(r.analysisMs)} | | |`,
        ),
        '',
      ]),
  `**Total**: ${analysed.length} of ${rows.length} trees analysed exactly, ${under10} under 10 s; analysis time of those ${(totalAnalysisMs / 1000).toFixed(1)} s (analysis CPU ${(totalCpuMs / 1000).toFixed(1)} s), wall time with process start-up ${wallS.toFixed(1)} s.`,
  END,
].join('\n');

const file = path.join(repoRoot, 'BENCHMARKS.md');
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
const start = current.indexOf(START);
const end = current.indexOf(END);
const next = start >= 0 && end > start ? current.slice(0, start) + section + current.slice(end + END.length) : `${current.trimEnd()}\n\n${section}\n`;
writeFileSync(file, next);
console.log(`\n${analysed.length}/${rows.length} analysed, ${(totalAnalysisMs / 1000).toFixed(1)} s analysis, ${wallS.toFixed(1)} s wall; BENCHMARKS.md updated`);
