/**
 * Development aid: per-window diagnosis of one configuration on the corpus, at the standard
 * profile's optimised threshold. For every labelled window: where it lies, the detector's learning
 * end, the first row at or above the threshold, and the best score inside it with the cooldown off
 * (so a window lost to the cooldown shows as "cooldown"). Labels are read here, after detection.
 *   npx tsx bench/nab/windows.ts '{"cooldownPoints":200}' [--missed]
 */
import { detectCorpus, loadDataCorpus } from './corpus-run.ts';
import { loadProfiles, loadWindows, scoreSeries } from './corpus.ts';
import { probationaryLength } from './scorer.ts';
import { DEFAULT_DETECTOR_CONFIG } from '../../src/llm/detect/index.ts';

const overrides = JSON.parse(process.argv[2] ?? '{}') as Record<string, number>;
const onlyMissed = process.argv.includes('--missed');
const corpus = loadDataCorpus();
const profiles = loadProfiles();
const windows = loadWindows();
const series = detectCorpus(corpus, overrides);
const free = detectCorpus(corpus, { ...overrides, cooldownDamping: 1 });
const r = scoreSeries(series, { profiles, windows });
const t = r.standard.threshold;
const learning = overrides.learningPoints ?? DEFAULT_DETECTOR_CONFIG.learningPoints;
console.log(`standard=${r.standard.normalized.toFixed(2)} threshold=${t.toFixed(4)} lowFP=${r.reward_low_FP_rate.normalized.toFixed(2)} lowFN=${r.reward_low_FN_rate.normalized.toFixed(2)}`);
let missed = 0;
for (let k = 0; k < series.length; k++) {
  const s = series[k]!;
  const f = free[k]!;
  const n = s.scores.length;
  const probation = probationaryLength(n);
  const idx = (ts: number): number => s.timestamps.findIndex((x) => x === ts);
  for (const [a, b] of windows.get(s.dataPath) ?? []) {
    const i0 = idx(a);
    const i1 = idx(b);
    if (i1 < probation) continue;
    let first = -1;
    let best = 0;
    let bestFree = 0;
    for (let i = Math.max(i0, Math.ceil(probation)); i <= i1; i++) {
      if (first < 0 && s.scores[i]! >= t) first = i;
      best = Math.max(best, s.scores[i]!);
      bestFree = Math.max(bestFree, f.scores[i]!);
    }
    let lastAlertBefore = -1;
    for (let i = i0 - 1; i >= 0; i--) if (s.scores[i]! >= t) { lastAlertBefore = i; break; }
    const why = first >= 0 ? 'hit' : i1 < learning ? 'learning' : bestFree >= t ? 'cooldown' : 'weak';
    if (first < 0) missed++;
    if (onlyMissed && first >= 0) continue;
    console.log(
      s.dataPath.padEnd(55),
      `n=${n} prob=${Math.floor(probation)} win=[${i0},${i1}] first=${first < 0 ? '-' : first - i0}`,
      `max=${best.toFixed(3)} free=${bestFree.toFixed(3)} prevAlert=${lastAlertBefore < 0 ? '-' : i0 - lastAlertBefore}`,
      why,
    );
  }
}
console.log(`missed ${missed}`);
