/** Summary statistics used by every duration metric (MTTA, MTTR, MTTD, …). */
export interface DurationSummary {
  count: number;
  mean_seconds: number | null;
  median_seconds: number | null;
  p90_seconds: number | null;
}

/**
 * Percentile by linear interpolation between closest ranks (the "type 7" definition used by NumPy,
 * R and spreadsheets), so figures match what people compute from an export.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low]!;
  return lowValue + (sorted[high]! - lowValue) * (rank - low);
}

export function summariseDurations(seconds: readonly number[]): DurationSummary {
  if (seconds.length === 0) return { count: 0, mean_seconds: null, median_seconds: null, p90_seconds: null };
  const sorted = [...seconds].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { count: sorted.length, mean_seconds: mean, median_seconds: percentile(sorted, 0.5), p90_seconds: percentile(sorted, 0.9) };
}

export function secondsBetween(fromIso: string, toIso: string): number {
  return (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
}
