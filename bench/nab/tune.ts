/**
 * Tuning the detector on the whole corpus.
 *   nice npx tsx bench/nab/tune.ts --procedure   runs the project's tuning procedure (tuning.ts) over every
 *                                                file: its choice is what DEFAULT_DETECTOR_CONFIG ships
 *   npx tsx bench/nab/tune.ts '{"cooldownPoints":200}' [--per-file]   scores one configuration (JSON
 *                                                overrides of the shipped one), NAB's optimised thresholds
 *                                                and the robust choice; one configuration for every file
 *   --train-fold F   either mode on the training files of held-out fold F only (heldout.ts's split), for
 *                    trying a change to the detector without looking at the files that fold holds out
 */
import { detectCorpus, loadDataCorpus } from './corpus-run.ts';
import { loadProfiles, loadWindows, scoreSeries } from './corpus.ts';
import { PROFILE_NAMES } from './scorer.ts';
import { curveOf, foldsOf, robustChoice, tune } from './tuning.ts';

const foldArg = process.argv.indexOf('--train-fold');
const trainFold = foldArg >= 0 ? Number(process.argv[foldArg + 1]) : null;
const everything = loadDataCorpus();
const folds = foldsOf(everything);
const corpus = trainFold === null ? everything : everything.filter((s) => folds.get(s.dataPath) !== trainFold);
const profiles = loadProfiles();
const windows = loadWindows();
if (process.argv.includes('--procedure')) {
  const t0 = performance.now();
  const result = tune(corpus, windows, profiles, { log: (line) => console.log(line) });
  console.log(
    `chosen over all ${corpus.length} files: ${JSON.stringify({ ...result.config, threshold: result.threshold })} robust=${result.robust.toFixed(2)} at-threshold=${result.score.toFixed(2)} (${result.evaluations} configurations, ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
} else {
  const arg = JSON.parse(process.argv.slice(2).find((a) => a.startsWith('{') || a.startsWith('[')) ?? '{}') as Record<string, number> | Record<string, number>[];
  for (const overrides of Array.isArray(arg) ? arg : [arg]) {
    const t0 = performance.now();
    const series = detectCorpus(corpus, overrides);
    const ms = performance.now() - t0;
    const r = scoreSeries(series, { profiles, windows });
    const robust = robustChoice(curveOf(series, windows, profiles, 'standard'));
    console.log(
      JSON.stringify(overrides),
      PROFILE_NAMES.map((p) => `${p}=${r[p].normalized.toFixed(2)}@${r[p].threshold.toFixed(4)}`).join(' '),
      `robust=${robust.robust.toFixed(2)}@${robust.threshold.toFixed(4)} (${robust.score.toFixed(2)} there)`,
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
}
