/**
 * Where a detector's NAB points go, at one threshold: for every scorable window its first detection
 * or why it was missed, and what the false positives cost. Labels are read here, after detection.
 */
import type { LoadedSeries, Profiles, WindowsByFile } from './corpus.ts';
import { calcSweepScore, PROBATIONARY, probationaryLength } from './scorer.ts';

export type WindowOutcome = 'hit' | 'learning' | 'cooldown' | 'weak';

export interface WindowDiagnosis {
  dataPath: string;
  rows: number;
  probation: number;
  /** Row indices of the window's limits. */
  start: number;
  end: number;
  /** Rows from the window's start to the first detection, or -1. */
  firstOffset: number;
  /** Best score inside the window, and the best with the cooldown off. */
  best: number;
  bestWithoutCooldown: number;
  outcome: WindowOutcome;
}

/**
 * `free` is the same detector run with the cooldown off (`cooldownDamping: 1`), so a window whose
 * only detections were damped shows as `cooldown`; `learningPoints` tells a window that ended before
 * the detector could fire.
 */
export function diagnoseWindows(
  series: readonly LoadedSeries[],
  free: readonly LoadedSeries[],
  windows: WindowsByFile,
  threshold: number,
  learningPoints: number,
): WindowDiagnosis[] {
  const out: WindowDiagnosis[] = [];
  series.forEach((s, k) => {
    const f = free[k] as LoadedSeries;
    const n = s.scores.length;
    const probation = probationaryLength(n);
    for (const [a, b] of windows.get(s.dataPath) ?? []) {
      const start = s.timestamps.indexOf(a);
      const end = s.timestamps.indexOf(b);
      if (end < probation) continue;
      let first = -1;
      let best = 0;
      let bestFree = 0;
      for (let i = Math.max(start, Math.ceil(probation)); i <= end; i++) {
        const score = s.scores[i] as number;
        if (first < 0 && score >= threshold) first = i;
        best = Math.max(best, score);
        bestFree = Math.max(bestFree, f.scores[i] as number);
      }
      const outcome: WindowOutcome = first >= 0 ? 'hit' : end < learningPoints ? 'learning' : bestFree >= threshold ? 'cooldown' : 'weak';
      out.push({ dataPath: s.dataPath, rows: n, probation, start, end, firstOffset: first < 0 ? -1 : first - start, best, bestWithoutCooldown: bestFree, outcome });
    }
  });
  return out;
}

export interface FalsePositiveCost {
  rows: number;
  /** Sum of their (negative) weights under the profile. */
  cost: number;
  /** By the first path segment's category (`realTweets`, ...). */
  byCategory: Map<string, { rows: number; cost: number }>;
}

export function falsePositiveCost(series: readonly LoadedSeries[], windows: WindowsByFile, profiles: Profiles, threshold: number): FalsePositiveCost {
  const result: FalsePositiveCost = { rows: 0, cost: 0, byCategory: new Map() };
  for (const s of series) {
    const rows = calcSweepScore(s.timestamps, s.scores, windows.get(s.dataPath) ?? [], profiles.standard);
    const category = s.dataPath.split('/')[0] as string;
    const entry = result.byCategory.get(category) ?? { rows: 0, cost: 0 };
    for (let i = 0; i < rows.window.length; i++) {
      if (rows.window[i] === PROBATIONARY || (rows.window[i] as number) >= 0 || (rows.anomaly[i] as number) < threshold) continue;
      result.rows++;
      result.cost += rows.sweep[i] as number;
      entry.rows++;
      entry.cost += rows.sweep[i] as number;
    }
    result.byCategory.set(category, entry);
  }
  return result;
}
