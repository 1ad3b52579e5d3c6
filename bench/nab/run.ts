/**
 * Runs Firebreak's streaming detector over the whole NAB corpus (one configuration for every file),
 * writes its results in NAB's format to a temporary directory, scores them with the NAB scorer
 * (threshold optimised per profile as NAB does for its detectors, and at the detector's own
 * threshold), measures throughput and memory, and records the outcome in BENCHMARKS.md.
 *   npx tsx bench/nab/run.ts [--out dir] [--no-write]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createAnomalyDetector, DEFAULT_DETECTOR_CONFIG, type AnomalyDetector } from '../../src/llm/detect/index.ts';
import { NAB_CORPUS_OVERRIDES, detectCorpus, loadDataCorpus, type DataSeries } from './corpus-run.ts';
import { diagnoseWindows, falsePositiveCost } from './diagnose.ts';
import { loadProfiles, loadWindows, nabDir, repoRoot, scoreResultsDir, scoreSeries, type ProfileResult } from './corpus.ts';
import type { ProfileName } from './scorer.ts';

const DETECTOR = 'firebreak';
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const writeBench = !args.includes('--no-write');

const config = { ...NAB_CORPUS_OVERRIDES };
// Memory per series, measured first while the heap is small: V8 heap growth for many live
// detectors past learning, plus the typed-array payload (kept outside the V8 heap, so counted exactly).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function heapPerSeries(count: number): number {
  const keep: AnomalyDetector[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  const base = Date.UTC(2024, 0, 1);
  for (let k = 0; k < count; k++) {
    const d = createAnomalyDetector(config);
    for (let i = 0; i < 400; i++) d.update(base + i * 300_000, 100 + (i % 7));
    keep.push(d);
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  if (keep.length !== count) throw new Error('unreachable');
  return (after - before) / count;
}
const heapBytes = heapPerSeries(5000);
const typedArrayBytes = (3 * 24 + 3 * 168 + 3 * 64 + 3 + 2 * DEFAULT_DETECTOR_CONFIG.recentPoints) * 8 + 2 ** DEFAULT_DETECTOR_CONFIG.contextTableBits;

const corpus = loadDataCorpus();
const windows = loadWindows();
const profiles = loadProfiles();
const totalPoints = corpus.reduce((n, s) => n + s.values.length, 0);

// 1. Detection, written in NAB's results format.
const outDir = outArg >= 0 ? path.resolve(args[outArg + 1] as string) : mkdtempSync(path.join(os.tmpdir(), 'firebreak-nab-'));
const resultsDir = path.join(outDir, DETECTOR);
for (const s of corpus) {
  const d = createAnomalyDetector(config);
  const ws = windows.get(s.dataPath) ?? [];
  const lines = ['timestamp,value,anomaly_score,label'];
  for (let i = 0; i < s.values.length; i++) {
    const t = s.timestamps[i] as number;
    const det = d.update(t, s.values[i] as number);
    const label = ws.some(([a, b]) => t >= a && t <= b) ? 1 : 0;
    lines.push(`${s.timestampText[i]},${s.valueText[i]},${det.score},${label}`);
  }
  const [category, name] = s.dataPath.split('/') as [string, string];
  mkdirSync(path.join(resultsDir, category), { recursive: true });
  writeFileSync(path.join(resultsDir, category, `${DETECTOR}_${name}`), lines.join('\n') + '\n');
}

// 2. Scoring: optimised thresholds (as NAB does), and the detector's own threshold.
const optimised = scoreResultsDir(resultsDir, DETECTOR, { profiles, windows }).results;
// Where the standard profile's points go: windows missed (and why), and what false positives cost.
const standardThreshold = optimised.standard.threshold;
const diagnosis = diagnoseWindows(
  detectCorpus(corpus, config),
  detectCorpus(corpus, { ...config, cooldownDamping: 1 }),
  windows,
  standardThreshold,
  DEFAULT_DETECTOR_CONFIG.learningPoints,
);
const missed = diagnosis.filter((w) => w.outcome !== 'hit');
const missedBy = (o: string): number => missed.filter((w) => w.outcome === o).length;
const falsePositives = falsePositiveCost(detectCorpus(corpus, config), windows, profiles, standardThreshold);
const tweets = falsePositives.byCategory.get('realTweets') ?? { rows: 0, cost: 0 };
const gapRaw = ((70 - optimised.standard.normalized) / 100) * (optimised.standard.perfect - optimised.standard.nullRaw);
const own = DEFAULT_DETECTOR_CONFIG.threshold;
const atOwn = scoreResultsDir(resultsDir, DETECTOR, {
  profiles,
  windows,
  thresholds: { standard: own, reward_low_FP_rate: own, reward_low_FN_rate: own },
}).results;

// Sensitivity, each with thresholds optimised as above: the record rule off, numenta's one-point record
// rule (which pages on noise, so the service cannot run it), and the record settings on either side of
// the defaults.
const variant = (overrides: Record<string, number>): Record<ProfileName, ProfileResult> =>
  scoreSeries(detectCorpus(corpus, { ...config, ...overrides }), { profiles, windows });
const noRecord = variant({ recordTolerance: 0 });
const onePointRecord = variant({ recordPoints: 1 });
const { recordTolerance: tolerance, recordPoints, pointRarityRef } = DEFAULT_DETECTOR_CONFIG;
const neighbours = [
  ...[tolerance / 2, tolerance * 1.5].map((t) => ({ what: `record tolerance ${t} instead of ${tolerance}`, r: variant({ recordTolerance: t }) })),
  ...[pointRarityRef * 0.8, pointRarityRef * 1.25].map((x) => Number(x.toPrecision(4))).map((ref) => ({ what: `pointRarityRef ${ref} instead of ${pointRarityRef}`, r: variant({ pointRarityRef: ref }) })),
];

// 3. Throughput: detector only, values pre-parsed, one thread; best of several passes.
/** Wall-clock and CPU nanoseconds of one pass (CPU time is what to compare on a shared machine). */
function pass(series: readonly DataSeries[]): { wallNs: number; cpuNs: number } {
  let sink = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const s of series) {
    const d = createAnomalyDetector(config);
    const ts = s.timestamps;
    const vs = s.values;
    for (let i = 0; i < vs.length; i++) sink += d.update(ts[i] as number, vs[i] as number).score;
  }
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  if (sink < 0) console.log(sink);
  return { wallNs, cpuNs: (cpu.user + cpu.system) * 1000 };
}
pass(corpus); // warm-up
let bestNs = Number.POSITIVE_INFINITY;
let bestCpuNs = Number.POSITIVE_INFINITY;
for (let k = 0; k < 5; k++) {
  const t = pass(corpus);
  bestNs = Math.min(bestNs, t.wallNs);
  bestCpuNs = Math.min(bestCpuNs, t.cpuNs);
}
const pointsPerSecond = totalPoints / (bestNs / 1e9);
const pointsPerCpuSecond = totalPoints / (bestCpuNs / 1e9);
const load = os.loadavg()[0] ?? 0;

const sample = createAnomalyDetector(config);
for (let i = 0; i < 400; i++) sample.update(Date.UTC(2024, 0, 1) + i * 300_000, 100 + (i % 7));
const stateBytes = Buffer.byteLength(JSON.stringify(sample.toJSON()));

// 5. Report.
const finals = JSON.parse(readFileSync(path.join(nabDir(), 'results', 'final_results.json'), 'utf8')) as Record<
  string,
  Record<ProfileName, number>
>;
const f2 = (x: number): string => x.toFixed(2);
const label: Record<ProfileName, string> = {
  reward_low_FP_rate: 'reward low FP',
  standard: 'standard',
  reward_low_FN_rate: 'reward low FN',
};
const order: ProfileName[] = ['reward_low_FP_rate', 'standard', 'reward_low_FN_rate'];
const row = (r: Record<ProfileName, ProfileResult>): string => order.map((p) => f2(r[p].normalized)).join(' | ');

const board = Object.entries(finals)
  .map(([name, s]) => ({ name, s }))
  .concat([{ name: `**Firebreak** (this run)`, s: Object.fromEntries(order.map((p) => [p, optimised[p].normalized])) as Record<ProfileName, number> }])
  .sort((a, b) => b.s.reward_low_FP_rate - a.s.reward_low_FP_rate);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const date = new Date().toISOString().slice(0, 10);
const md = [
  '<!-- bench:nab:start -->',
  '## NAB: streaming anomaly detector (`src/llm/detect`)',
  '',
  `Run with \`npx tsx bench/nab/run.ts\` on ${date}; ${cpu}, ${os.cpus().length} cores shared, Node ${process.version}.`,
  `Corpus: ${corpus.length} files, ${totalPoints.toLocaleString('en-US')} points, ${[...windows.values()].reduce((n, w) => n + w.length, 0)} labelled windows. One detector configuration for every file (defaults, plus \`allowNegative\` because the corpus has negative values); no labels are seen by the detector, and it runs strictly streaming, one pass, with the same ${DEFAULT_DETECTOR_CONFIG.learningPoints}-point learning period in every file (it is not told NAB's per-file probationary length). How the parameters were chosen: by the project's tuning procedure (\`bench/nab/tune.ts --procedure\`) over this whole corpus — what the published NAB detectors did too, so every score in this section, theirs and ours, is **in-sample** and optimistic for unseen data; the held-out figures are in the next section. Nothing is tuned per file or per label; \`bench/nab/tune.ts\` scores a configuration and \`bench/nab/windows.ts\` shows, window by window, the first detection or why it was missed.`,
  '',
  `**Reward low FP: ${f2(optimised.reward_low_FP_rate.normalized)}** · standard: ${f2(optimised.standard.normalized)} · reward low FN: ${f2(optimised.reward_low_FN_rate.normalized)} (NAB-normalised, thresholds optimised over the corpus as NAB does).`,
  '',
  '| Firebreak | reward low FP | standard | reward low FN |',
  '| --- | ---: | ---: | ---: |',
  `| thresholds optimised per profile (${order.map((p) => `${label[p]} ${optimised[p].threshold.toFixed(4)}`).join(', ')}) | ${row(optimised)} |`,
  `| at the detector's own threshold ${own} | ${row(atOwn)} |`,
  `| record rule off (\`recordTolerance: 0\`), thresholds optimised | ${row(noRecord)} |`,
  `| numenta's one-point record rule (\`recordPoints: 1\`; pages on noise), thresholds optimised | ${row(onePointRecord)} |`,
  ...neighbours.map(({ what, r }) => `| ${what}, thresholds optimised | ${row(r)} |`),
  '',
  `This is the one configuration (\`DEFAULT_DETECTOR_CONFIG\`), and the LLM service runs it as it is; the service raises rises only (every watched signal hurts when it rises) and pages on a detection only when the next point is also outside the normal band (\`confirmAfterPoints: 2\`), which these scores do not include. Its record rule is numenta's "spatial anomaly" made safe for noisy signals: values beyond the whole history's range by ${tolerance} of it score 1 once the series spans two days, but it takes ${recordPoints} such points in a row (judged against the range before the first). Numenta's one-point rule pages on plain noise, whose lone extremes keep growing. Pages on traffic with no anomaly in it (\`bench/nab/noise-pages.ts\`, 10 seeds, shipped configuration, measured on 2026-12-06 after the re-tuning that dropped the distribution-shift rule): with the service's confirmation, 0 per series in ten days of five-minute Gaussian or log-normal noise and in a week of a daily sine, 0.1 in a week of simulated per-minute TTFT p95 or cost; the detector alone, without the confirmation, 0 to 2.9 per series (0.2 on Gaussian, 1.8 on log-normal noise, 0 on the sine, 2.9 on TTFT p95, 1.1 on cost), so the confirmation is what keeps this configuration from paging on noise. The rule is worth ${f2(optimised.standard.normalized - noRecord.standard.normalized)} standard points here.`,
  '',
  `Detections at the standard optimum: ${optimised.standard.counts.tp} in-window rows, ${optimised.standard.counts.fp} false-positive rows. Target: standard ≥ 70 — ${optimised.standard.normalized >= 70 ? 'reached' : 'not reached'}.`,
  '',
  `Where the standard points go (\`bench/nab/windows.ts\` lists each window): ${diagnosis.length - missed.length} of ${diagnosis.length} scorable windows detected; ${missed.length} missed — ${missedBy('weak')} never scored above the threshold, ${missedBy('cooldown')} fell in the ${DEFAULT_DETECTOR_CONFIG.cooldownPoints}-point cooldown after an earlier alert, ${missedBy('learning')} ended inside the ${DEFAULT_DETECTOR_CONFIG.learningPoints}-point learning period. Each missed window costs 1 raw point plus the ~0.85 a detection would earn. False positives: ${falsePositives.rows} rows costing ${f2(-falsePositives.cost)} raw points, ${tweets.rows} of them (${f2(-tweets.cost)}) in the ten realTweets files, whose unlabelled bursts look like the labelled ones.${optimised.standard.normalized < 70 ? ` Reaching 70 needs ${f2(gapRaw)} more raw points: about ${Math.ceil(gapRaw / 1.85)} more windows caught, or about ${Math.ceil(gapRaw / 0.11)} fewer full-cost false positives, without losing anything else.` : ''}`,
  '',
  'Published scoreboard (`results/final_results.json`), sorted by reward low FP:',
  '',
  '| detector | reward low FP | standard | reward low FN |',
  '| --- | ---: | ---: | ---: |',
  ...board.map((b) => `| ${b.name} | ${order.map((p) => f2(b.s[p])).join(' | ')} |`),
  '',
  `Throughput (detector only, values pre-parsed, one thread, best of 5 passes over the corpus): **${Math.round(pointsPerSecond).toLocaleString('en-US')} points/s** of wall-clock time, ${Math.round(pointsPerCpuSecond).toLocaleString('en-US')} points per second of CPU time (load average ${load.toFixed(1)} during the run).`,
  `Memory: **${Math.round(heapBytes + typedArrayBytes).toLocaleString('en-US')} bytes per live series** = ${Math.round(heapBytes).toLocaleString('en-US')} bytes of V8 heap (measured over 5,000 detectors past learning) + ${typedArrayBytes.toLocaleString('en-US')} bytes of typed arrays (24 + 168 seasonal buckets × 3, three 64-bin evidence histograms (one per channel), a ${DEFAULT_DETECTOR_CONFIG.recentPoints}-point recent window, a ${(2 ** DEFAULT_DETECTOR_CONFIG.contextTableBits).toLocaleString('en-US')}-byte context table); serialised state ${stateBytes.toLocaleString('en-US')} bytes of JSON. Constant in the series length.`,
  '<!-- bench:nab:end -->',
].join('\n');

console.log(md);
console.log(`\nresults written to ${resultsDir}`);
if (writeBench) {
  const file = path.join(repoRoot, 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf('<!-- bench:nab:start -->');
  const end = current.indexOf('<!-- bench:nab:end -->');
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + md + current.slice(end + '<!-- bench:nab:end -->'.length)
      : current.replace(/\n*$/, '\n\n') + md + '\n';
  writeFileSync(file, next);
  console.log(`updated ${file}`);
}
