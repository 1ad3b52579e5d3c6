import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadThresholds, nabDir, scoreResultsDir } from '../../bench/nab/corpus.ts';
import {
  calcScoreByThreshold,
  calcSweepScore,
  normalizeScore,
  nullScore,
  optimizeThreshold,
  probationaryLength,
  PROFILE_NAMES,
  scaledSigmoid,
  scoreAtThreshold,
  type CostMatrix,
  type WindowLimits,
} from '../../bench/nab/scorer.ts';

const standard: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const maxTP = 2 / (1 + Math.exp(-5)) - 1;

describe('NAB scaled sigmoid', () => {
  it('rewards the left edge of a window most and the right edge not at all', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(scaledSigmoid(10)).toBe(-1);
  });

  it('uses min(15% of the rows, 750) as the probationary period', () => {
    expect(probationaryLength(100)).toBe(15);
    expect(probationaryLength(4032)).toBe(604);
    expect(probationaryLength(22695)).toBe(750);
  });
});

describe('NAB window scoring on a hand-made file', () => {
  // 20 rows one minute apart; probation = 3 rows; one window on rows 10..14 (width 5).
  const ts = Array.from({ length: 20 }, (_, i) => Date.UTC(2024, 0, 1, 0, i));
  const windows: WindowLimits[] = [[ts[10] as number, ts[14] as number]];
  const score = (detections: number[]): number => {
    const scores = ts.map((_, i) => (detections.includes(i) ? 1 : 0));
    return scoreAtThreshold(calcSweepScore(ts, scores, windows, standard), standard, 0.5).score;
  };

  it('scores a missed window as -fnWeight and no detection as the null score', () => {
    expect(score([])).toBe(-1);
    const rows = calcSweepScore(ts, new Array(20).fill(0), windows, standard);
    expect(nullScore(rows, standard)).toBe(-1);
  });

  it('gives a detection on the left edge the full tpWeight', () => {
    expect(score([10])).toBeCloseTo(1, 12);
  });

  it('weights a later detection by the sigmoid of its position and counts only the first', () => {
    const later = scaledSigmoid(-3 / 5) / maxTP; // row 12: -(14 - 12 + 1) / 5
    expect(score([12])).toBeCloseTo(later, 12);
    expect(score([12, 13, 14])).toBeCloseTo(later, 12);
    expect(score([10, 12])).toBeCloseTo(1, 12);
    expect(score([14])).toBeCloseTo(scaledSigmoid(-1 / 5) / maxTP, 12);
  });

  it('charges a false positive before any window the full fpWeight, and less just after a window', () => {
    expect(score([5])).toBeCloseTo(-1 - 0.11, 12);
    const after = scaledSigmoid(2 / 4) * 0.11; // row 16: |14 - 16| / (5 - 1)
    expect(score([16])).toBeCloseTo(-1 + after, 12);
    expect(after).toBeLessThan(0);
    expect(after).toBeGreaterThan(-0.11);
  });

  it('ignores detections in the probationary period', () => {
    expect(score([0, 1, 2])).toBe(-1);
    expect(score([3])).toBeCloseTo(-1.11, 12);
  });

  it('agrees between the threshold sweep and scoring at each threshold', () => {
    const scores = ts.map((_, i) => ((i * 7) % 11) / 10);
    const rows = calcSweepScore(ts, scores, windows, standard);
    const sweep = calcScoreByThreshold(rows, standard);
    expect(sweep[0]?.threshold).toBe(1.1);
    expect(sweep[0]?.score).toBe(-1);
    for (const s of sweep) expect(scoreAtThreshold(rows, standard, s.threshold).score).toBeCloseTo(s.score, 12);
    const best = optimizeThreshold(rows, standard);
    expect(Math.max(...sweep.map((s) => s.score))).toBe(best.score);
  });

  it('normalises the null detector to 0 and the perfect detector to 100', () => {
    expect(normalizeScore(-116, -116, 116)).toBe(0);
    expect(normalizeScore(116, -116, 116)).toBe(100);
    expect(normalizeScore(0, -232, 116)).toBeCloseTo(66.667, 3);
  });
});

const dataset = nabDir();
const published = path.join(dataset, 'results', 'numenta');
const haveDataset = existsSync(published) && existsSync(path.join(dataset, 'labels', 'combined_windows.json'));
if (!haveDataset) {
  console.warn(`NAB dataset not found at ${dataset}: skipping the scorer validation against published results`);
}

describe.skipIf(!haveDataset)('NAB scorer against the published numenta results', () => {
  it('reproduces final_results.json within 0.5 on all three profiles with NAB thresholds', async () => {
    const { readFileSync } = await import('node:fs');
    const finals = JSON.parse(readFileSync(path.join(dataset, 'results', 'final_results.json'), 'utf8')) as Record<
      string,
      Record<string, number>
    >;
    const thresholds = loadThresholds(path.join(dataset, 'config', 'thresholds.json'));
    const fixed = Object.fromEntries(PROFILE_NAMES.map((p) => [p, thresholds.numenta?.[p]?.threshold as number]));
    const { files, results } = scoreResultsDir(published, 'numenta', { thresholds: fixed });
    expect(files).toBe(58);
    for (const p of PROFILE_NAMES) {
      const expected = finals.numenta?.[p] as number;
      expect(Math.abs(results[p].normalized - expected), `${p}: ${results[p].normalized} vs ${expected}`).toBeLessThan(0.5);
      // The raw corpus score matches thresholds.json too.
      expect(results[p].raw).toBeCloseTo(thresholds.numenta?.[p]?.score as number, 6);
    }
  });
});
