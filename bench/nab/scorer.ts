/**
 * The Numenta Anomaly Benchmark scoring method, re-implemented from its description and NAB's
 * sweeper (nab/sweeper.py, NAB ≥ 1.0), which is what produced the published final_results.json:
 *
 * - Each labelled anomaly window is worth at most `tpWeight`. Only the earliest detection inside a
 *   window counts (the best sweep score of the window's detections, which is the earliest one because
 *   the sigmoid falls with position); a window with no detection costs `fnWeight`.
 * - A detection outside every window is a false positive costing `fpWeight` times a scaled sigmoid of
 *   its distance after the preceding window (in units of that window's width); detections before the
 *   first window cost the full `fpWeight`. A detection just after a window therefore costs little.
 * - Rows in the probationary period (the first min(15% of the file, 750) rows) are ignored, and so is
 *   a window that lies wholly inside it.
 * - A detector's raw anomaly scores become detections with `score >= threshold`; the threshold is
 *   either given (config/thresholds.json) or optimised over every distinct score of the whole corpus.
 * - The corpus total is normalised: 100 · (raw − null) / (perfect − null), where null is the score of a
 *   detector that never fires and perfect is `tpWeight` per labelled window.
 *
 * Pure functions only; the file reading lives in corpus.ts.
 */

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
  tnWeight?: number;
}

export type ProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';
export const PROFILE_NAMES: readonly ProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

/** A window as (start, end) timestamps in epoch milliseconds, both inclusive. */
export type WindowLimits = readonly [number, number];

export const DEFAULT_PROBATION_PERCENT = 0.15;

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Scaled sigmoid of a relative position: -1 is a window's left edge (0.9866), 0 its right edge (0),
 * positive positions lie after the window (negative reward, -1 from 3 window-widths on).
 */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3.0) return -1.0;
  return 2 * sigmoid(-5 * relativePosition) - 1.0;
}

/** Number of leading rows NAB ignores: min(floor(15% of the rows), 15% of 5000). */
export function probationaryLength(numRows: number, probationPercent = DEFAULT_PROBATION_PERCENT): number {
  return Math.min(Math.floor(probationPercent * numRows), probationPercent * 5000);
}

/** Row classification in a sweep: inside window k (k ≥ 0), outside all windows, or probationary. */
export const OUTSIDE = -1;
export const PROBATIONARY = -2;

/**
 * Per-row sweep data for one or more files, struct-of-arrays. `window[i]` is a corpus-unique window
 * id (≥ 0), OUTSIDE or PROBATIONARY; `sweep[i]` is what a detection at row i would be worth.
 */
export interface SweepRows {
  anomaly: Float64Array;
  sweep: Float64Array;
  window: Int32Array;
  /** Number of distinct window ids used (ids are 0..windowCount-1 before offsetting). */
  windowCount: number;
}

/**
 * Port of NAB's Sweeper.calcSweepScore: walks the rows in file order, entering a window on the row
 * whose timestamp equals the window's start and leaving it on the row equal to its end. Widths use
 * the first occurrence of each limit's timestamp, as NAB does (some files repeat timestamps).
 */
export function calcSweepScore(
  timestamps: ArrayLike<number>,
  anomalyScores: ArrayLike<number>,
  windowLimits: readonly WindowLimits[],
  cost: CostMatrix,
  probationPercent = DEFAULT_PROBATION_PERCENT,
  windowIdOffset = 0,
): SweepRows {
  const n = timestamps.length;
  if (anomalyScores.length !== n) {
    throw new Error(`timestamps (${n}) and anomaly scores (${anomalyScores.length}) differ in length`);
  }
  const firstIndex = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const t = timestamps[i] as number;
    if (!firstIndex.has(t)) firstIndex.set(t, i);
  }
  const indexOf = (t: number): number => {
    const i = firstIndex.get(t);
    if (i === undefined) throw new Error(`window limit ${new Date(t).toISOString()} is not a timestamp of the file`);
    return i;
  };

  const maxTP = scaledSigmoid(-1.0);
  const probation = probationaryLength(n, probationPercent);
  const out: SweepRows = {
    anomaly: new Float64Array(n),
    sweep: new Float64Array(n),
    window: new Int32Array(n),
    windowCount: windowLimits.length,
  };

  let next = 0;
  let cur: WindowLimits | null = null;
  let curId = OUTSIDE;
  let curRight = 0;
  let curWidth = 0;
  let prevRight: number | null = null;
  let prevWidth = 0;

  for (let i = 0; i < n; i++) {
    const t = timestamps[i] as number;
    const a = anomalyScores[i] as number;
    const nextLimits = windowLimits[next];
    if (nextLimits !== undefined && t === nextLimits[0]) {
      cur = nextLimits;
      curId = windowIdOffset + next;
      next++;
      curRight = indexOf(cur[1]);
      curWidth = curRight - indexOf(cur[0]) + 1;
    }
    let weighted: number;
    if (cur !== null) {
      const position = -(curRight - i + 1) / curWidth;
      weighted = (scaledSigmoid(position) * cost.tpWeight) / maxTP;
    } else {
      const position = prevRight === null ? 3.0 : Math.abs(prevRight - i) / (prevWidth - 1);
      weighted = scaledSigmoid(position) * cost.fpWeight;
    }
    out.anomaly[i] = Number.isNaN(a) ? Number.NEGATIVE_INFINITY : a;
    out.sweep[i] = weighted;
    out.window[i] = i >= probation ? (cur !== null ? curId : OUTSIDE) : PROBATIONARY;
    if (cur !== null && t === cur[1]) {
      prevRight = i;
      prevWidth = curWidth;
      cur = null;
      curId = OUTSIDE;
    }
  }
  return out;
}

/** Concatenates several files' sweep rows (their window ids must already be distinct). */
export function concatSweeps(parts: readonly SweepRows[]): SweepRows {
  let n = 0;
  let windows = 0;
  for (const p of parts) {
    n += p.anomaly.length;
    windows += p.windowCount;
  }
  const out: SweepRows = {
    anomaly: new Float64Array(n),
    sweep: new Float64Array(n),
    window: new Int32Array(n),
    windowCount: windows,
  };
  let at = 0;
  for (const p of parts) {
    out.anomaly.set(p.anomaly, at);
    out.sweep.set(p.sweep, at);
    out.window.set(p.window, at);
    at += p.anomaly.length;
  }
  return out;
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
  total: number;
}

/**
 * Port of NAB's Sweeper.calcScoreByThreshold: the score for every distinct anomaly score used as the
 * threshold (detections are rows with anomaly ≥ threshold), from 1.1 (nothing detected) downwards.
 * Counts are per row, as NAB reports them.
 */
export function calcScoreByThreshold(rows: SweepRows, cost: CostMatrix): ThresholdScore[] {
  const order: number[] = [];
  for (let i = 0; i < rows.window.length; i++) if (rows.window[i] !== PROBATIONARY) order.push(i);
  order.sort((x, y) => (rows.anomaly[y] as number) - (rows.anomaly[x] as number) || x - y);

  const windowBest = new Map<number, number>();
  for (const i of order) {
    const w = rows.window[i] as number;
    if (w >= 0) windowBest.set(w, -cost.fnWeight);
  }
  let fpScore = 0;
  let windowScore = -cost.fnWeight * windowBest.size;

  let tn = 0;
  let fn = 0;
  for (const i of order) {
    if (rows.window[i] === OUTSIDE) tn++;
    else fn++;
  }
  let tp = 0;
  let fp = 0;
  const out: ThresholdScore[] = [];
  let curThreshold = 1.1;
  for (const i of order) {
    const a = rows.anomaly[i] as number;
    if (a !== curThreshold) {
      out.push({ threshold: curThreshold, score: fpScore + windowScore, tp, tn, fp, fn, total: tp + tn + fp + fn });
      curThreshold = a;
    }
    const w = rows.window[i] as number;
    const s = rows.sweep[i] as number;
    if (w >= 0) {
      tp++;
      fn--;
      const best = windowBest.get(w) as number;
      if (s > best) {
        windowBest.set(w, s);
        windowScore += s - best;
      }
    } else {
      fp++;
      tn--;
      fpScore += s;
    }
  }
  out.push({ threshold: curThreshold, score: fpScore + windowScore, tp, tn, fp, fn, total: tp + tn + fp + fn });
  return out;
}

/** Score of the rows with detections at anomaly ≥ threshold (what NAB's scoreDataSet returns). */
export function scoreAtThreshold(rows: SweepRows, cost: CostMatrix, threshold: number): ThresholdScore {
  const windowBest = new Map<number, number>();
  let fpScore = 0;
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < rows.window.length; i++) {
    const w = rows.window[i] as number;
    if (w === PROBATIONARY) continue;
    const detected = (rows.anomaly[i] as number) >= threshold;
    if (w >= 0) {
      if (!windowBest.has(w)) windowBest.set(w, -cost.fnWeight);
      if (detected) {
        tp++;
        const s = rows.sweep[i] as number;
        if (s > (windowBest.get(w) as number)) windowBest.set(w, s);
      } else fn++;
    } else if (detected) {
      fp++;
      fpScore += rows.sweep[i] as number;
    } else tn++;
  }
  let score = fpScore;
  for (const v of windowBest.values()) score += v;
  return { threshold, score, tp, tn, fp, fn, total: tp + tn + fp + fn };
}

/**
 * NAB's optimiser (nab/optimizer.py since the sweeper): the best corpus score over all distinct
 * thresholds; ties go to the highest threshold, as NAB's stable sort keeps the first one.
 */
export function optimizeThreshold(rows: SweepRows, cost: CostMatrix): ThresholdScore {
  const all = calcScoreByThreshold(rows, cost);
  let best = all[0] as ThresholdScore;
  for (const s of all) if (s.score > best.score) best = s;
  return best;
}

/** Score of a detector that never fires: every scorable window is missed. */
export function nullScore(rows: SweepRows, cost: CostMatrix): number {
  const scorable = new Set<number>();
  for (let i = 0; i < rows.window.length; i++) {
    const w = rows.window[i] as number;
    if (w >= 0) scorable.add(w);
  }
  return -cost.fnWeight * scorable.size;
}

/** 100 · (raw − null) / (perfect − null). */
export function normalizeScore(raw: number, nullRaw: number, perfect: number): number {
  return (100 * (raw - nullRaw)) / (perfect - nullRaw);
}
