/**
 * Development aid: per-window diagnosis of one configuration on the corpus, at the standard
 * profile's optimised threshold. For every labelled window: where it lies, the first row at or above
 * the threshold, and the best score inside it with the cooldown off (so a window lost to the cooldown
 * shows as "cooldown"). Labels are read here, after detection.
 *   npx tsx bench/nab/windows.ts '{"cooldownPoints":200}' [--missed]
 */
import { DEFAULT_DETECTOR_CONFIG } from '../../src/llm/detect/index.ts';
import { detectCorpus, loadDataCorpus } from './corpus-run.ts';
import { loadProfiles, loadWindows, scoreSeries } from './corpus.ts';
import { diagnoseWindows, falsePositiveCost } from './diagnose.ts';

const overrides = JSON.parse(process.argv[2] ?? '{}') as Record<string, number>;
const onlyMissed = process.argv.includes('--missed');
const corpus = loadDataCorpus();
const profiles = loadProfiles();
const windows = loadWindows();
const series = detectCorpus(corpus, overrides);
const r = scoreSeries(series, { profiles, windows });
const t = r.standard.threshold;
const learning = overrides.learningPoints ?? DEFAULT_DETECTOR_CONFIG.learningPoints;
const diagnosis = diagnoseWindows(series, detectCorpus(corpus, { ...overrides, cooldownDamping: 1 }), windows, t, learning);
console.log(
  `standard=${r.standard.normalized.toFixed(2)} threshold=${t.toFixed(4)} lowFP=${r.reward_low_FP_rate.normalized.toFixed(2)} lowFN=${r.reward_low_FN_rate.normalized.toFixed(2)}`,
);
for (const w of diagnosis) {
  if (onlyMissed && w.outcome === 'hit') continue;
  console.log(
    w.dataPath.padEnd(55),
    `n=${w.rows} prob=${Math.floor(w.probation)} win=[${w.start},${w.end}] first=${w.firstOffset < 0 ? '-' : w.firstOffset}`,
    `max=${w.best.toFixed(3)} free=${w.bestWithoutCooldown.toFixed(3)}`,
    w.outcome,
  );
}
const missed = diagnosis.filter((w) => w.outcome !== 'hit');
console.log(`missed ${missed.length}: ${['learning', 'cooldown', 'weak'].map((o) => `${o} ${missed.filter((w) => w.outcome === o).length}`).join(', ')}`);
const fp = falsePositiveCost(series, windows, profiles, t);
console.log(`false positives ${fp.rows} rows, standard cost ${fp.cost.toFixed(2)}:`, [...fp.byCategory].map(([c, v]) => `${c} ${v.rows}`).join(', '));
