/**
 * Development aid: scores one detector configuration (JSON overrides as the argument) on the whole
 * corpus with NAB's threshold optimisation. One configuration for every file, never per file.
 *   npx tsx bench/nab/tune.ts '{"cooldownPoints":200}' [--per-file]
 */
import { detectCorpus, loadDataCorpus } from './corpus-run.ts';
import { loadProfiles, loadWindows, scoreSeries } from './corpus.ts';
import { PROFILE_NAMES } from './scorer.ts';

const arg = JSON.parse(process.argv[2] ?? '{}') as Record<string, number> | Record<string, number>[];
const configs = Array.isArray(arg) ? arg : [arg];
const corpus = loadDataCorpus();
const profiles = loadProfiles();
const windows = loadWindows();
for (const overrides of configs) {
const t0 = performance.now();
const series = detectCorpus(corpus, overrides);
const ms = performance.now() - t0;
const r = scoreSeries(series, { profiles, windows });
console.log(
  JSON.stringify(overrides),
  PROFILE_NAMES.map((p) => `${p}=${r[p].normalized.toFixed(2)}@${r[p].threshold.toFixed(4)}`).join(' '),
  `tp=${r.standard.counts.tp} fp=${r.standard.counts.fp}`,
  `${ms.toFixed(0)}ms`,
);
if (process.argv.includes('--per-file')) {
  const t = r.standard.threshold;
  for (const s of series) {
    const one = scoreSeries([s], { profiles, windows, thresholds: { standard: t, reward_low_FP_rate: t, reward_low_FN_rate: t } });
    console.log(s.dataPath.padEnd(60), one.standard.raw.toFixed(3), `windows=${windows.get(s.dataPath)?.length}`, `fp=${one.standard.counts.fp}`);
  }
}
}
