/**
 * Development aid: one-parameter-at-a-time sweep around a configuration (JSON overrides as the
 * argument), printing each variant's three scores. One configuration for the whole corpus.
 *   npx tsx bench/nab/sweep.ts '{}' pointRef,threshold=0.58/0.6 [0.5,0.7,1.4,2]  (factors, or name=v1/v2 for values)
 */
import { DEFAULT_DETECTOR_CONFIG } from '../../src/llm/detect/index.ts';
import { detectCorpus, loadDataCorpus } from './corpus-run.ts';
import { loadProfiles, loadWindows, scoreSeries } from './corpus.ts';

const base = JSON.parse(process.argv[2] ?? '{}') as Record<string, number>;
const params = (process.argv[3] ?? '').split(',').filter(Boolean);
const factors = (process.argv[4] ?? '0.5,0.7,0.85,1.2,1.4,2').split(',').map(Number);
const corpus = loadDataCorpus();
const profiles = loadProfiles();
const windows = loadWindows();
function score(cfg: Record<string, number>): string {
  const r = scoreSeries(detectCorpus(corpus, cfg), { profiles, windows });
  return `std=${r.standard.normalized.toFixed(2)} lowFP=${r.reward_low_FP_rate.normalized.toFixed(2)} lowFN=${r.reward_low_FN_rate.normalized.toFixed(2)} tp=${r.standard.counts.tp} fp=${r.standard.counts.fp} t=${r.standard.threshold.toFixed(3)}`;
}
console.log('base', JSON.stringify(base), score(base));
const defaults = DEFAULT_DETECTOR_CONFIG as unknown as Record<string, number>;
for (const p of params) {
  const [name, list] = p.split('=') as [string, string | undefined];
  const b = base[name] ?? defaults[name] as number;
  const values = list ? list.split('/').map(Number) : factors.map((f) => b * f);
  for (const v of values) console.log(name, v, score({ ...base, [name]: v }));
}
