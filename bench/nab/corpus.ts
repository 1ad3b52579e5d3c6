/**
 * File side of the NAB scorer: locating the shared dataset, reading labels, profiles, thresholds and
 * results directories in NAB's layout (`<dir>/<category>/<detector>_<file>.csv`), and scoring them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../src/shared/errors.ts';
import {
  calcSweepScore,
  concatSweeps,
  nullScore,
  normalizeScore,
  optimizeThreshold,
  PROFILE_NAMES,
  scoreAtThreshold,
  type CostMatrix,
  type ProfileName,
  type SweepRows,
  type ThresholdScore,
  type WindowLimits,
} from './scorer.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** env FIREBREAK_SHARED_DIR, else `../shared` beside the repository root if it exists, else /work/shared. */
export function resolveSharedDir(root: string = repoRoot): string {
  const fromEnv = process.env.FIREBREAK_SHARED_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  const beside = path.resolve(root, '../shared');
  if (existsSync(beside)) return beside;
  return '/work/shared';
}

export function nabDir(): string {
  return path.join(resolveSharedDir(), 'datasets', 'nab');
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;

/** NAB timestamps (`2014-04-10 07:15:00[.000000]`, no zone) as UTC epoch milliseconds. */
export function parseNabTimestamp(text: string): number {
  const m = TS_RE.exec(text);
  if (!m) throw new AppError('malformed_input', `not a NAB timestamp: ${JSON.stringify(text)}`, { field: 'timestamp' });
  const ms = m[7] ? Math.floor(Number(m[7].padEnd(6, '0')) / 1000) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

export interface Table {
  header: string[];
  columns: Map<string, string[]>;
  rows: number;
}

/** Minimal CSV reader for NAB files (no quoting in NAB). */
export function readCsv(file: string): Table {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const cols = header.map(() => [] as string[]);
  let rows = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const cells = line.split(',');
    for (let c = 0; c < cols.length; c++) (cols[c] as string[]).push(cells[c] ?? '');
    rows++;
  }
  const columns = new Map<string, string[]>();
  header.forEach((h, i) => columns.set(h, cols[i] as string[]));
  return { header, columns, rows };
}

export function column(table: Table, name: string, file: string): string[] {
  const col = table.columns.get(name);
  if (!col) throw new AppError('malformed_input', `${file} has no ${name} column`, { field: name, file });
  return col;
}

export type WindowsByFile = Map<string, WindowLimits[]>;

export function loadWindows(file: string = path.join(nabDir(), 'labels', 'combined_windows.json')): WindowsByFile {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, [string, string][]>;
  const out: WindowsByFile = new Map();
  for (const [rel, windows] of Object.entries(raw)) {
    out.set(
      rel,
      windows.map(([a, b]) => [parseNabTimestamp(a), parseNabTimestamp(b)] as const),
    );
  }
  return out;
}

export type Profiles = Record<ProfileName, CostMatrix>;

export function loadProfiles(file: string = path.join(nabDir(), 'config', 'profiles.json')): Profiles {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { CostMatrix: CostMatrix }>;
  const out = {} as Profiles;
  for (const p of PROFILE_NAMES) {
    const cm = raw[p]?.CostMatrix;
    if (!cm) throw new AppError('malformed_input', `${file} lacks profile ${p}`, { field: p });
    out[p] = cm;
  }
  return out;
}

export type Thresholds = Record<string, Partial<Record<ProfileName, { threshold: number; score: number }>>>;

export function loadThresholds(file: string): Thresholds {
  return JSON.parse(readFileSync(file, 'utf8')) as Thresholds;
}

export interface ResultFile {
  /** Data-relative path, e.g. `realKnownCause/nyc_taxi.csv` (the key in combined_windows.json). */
  dataPath: string;
  file: string;
}

/** Files `<dir>/<category>/<detector>_<name>.csv`, sorted by data path. */
export function listResultFiles(resultsDir: string, detector: string): ResultFile[] {
  const out: ResultFile[] = [];
  const prefix = `${detector}_`;
  for (const category of readdirSync(resultsDir).sort()) {
    const catDir = path.join(resultsDir, category);
    if (!statSync(catDir).isDirectory()) continue;
    for (const name of readdirSync(catDir).sort()) {
      if (!name.endsWith('.csv') || !name.startsWith(prefix)) continue;
      out.push({ dataPath: `${category}/${name.slice(prefix.length)}`, file: path.join(catDir, name) });
    }
  }
  return out;
}

/** The detector name of a results directory: its base name if files carry it, else the common prefix. */
export function inferDetector(resultsDir: string): string {
  const base = path.basename(path.resolve(resultsDir));
  if (listResultFiles(resultsDir, base).length > 0) return base;
  for (const category of readdirSync(resultsDir)) {
    const catDir = path.join(resultsDir, category);
    if (!statSync(catDir).isDirectory()) continue;
    const first = readdirSync(catDir).find((f) => f.endsWith('.csv') && f.includes('_'));
    if (first) return first.slice(0, first.indexOf('_'));
  }
  throw new AppError('validation_failed', `no NAB results files found under ${resultsDir}`, { field: 'resultsDir' });
}

export interface LoadedSeries {
  dataPath: string;
  timestamps: Float64Array;
  scores: Float64Array;
}

export function loadResultSeries(rf: ResultFile): LoadedSeries {
  const table = readCsv(rf.file);
  const ts = column(table, 'timestamp', rf.file);
  const sc = column(table, 'anomaly_score', rf.file);
  const timestamps = new Float64Array(table.rows);
  const scores = new Float64Array(table.rows);
  for (let i = 0; i < table.rows; i++) {
    timestamps[i] = parseNabTimestamp(ts[i] as string);
    scores[i] = Number(sc[i]);
  }
  return { dataPath: rf.dataPath, timestamps, scores };
}

export interface ProfileResult {
  profile: ProfileName;
  threshold: number;
  raw: number;
  nullRaw: number;
  perfect: number;
  normalized: number;
  counts: ThresholdScore;
}

export interface ScoreOptions {
  /** Fixed threshold per profile; profiles without one are optimised. */
  thresholds?: Partial<Record<ProfileName, number>>;
  profiles?: Profiles;
  windows?: WindowsByFile;
  probationPercent?: number;
}

/** Scores in-memory series (one per data file) on the three profiles. */
export function scoreSeries(series: readonly LoadedSeries[], options: ScoreOptions = {}): Record<ProfileName, ProfileResult> {
  const profiles = options.profiles ?? loadProfiles();
  const windows = options.windows ?? loadWindows();
  let labelledWindows = 0;
  for (const s of series) {
    const w = windows.get(s.dataPath);
    if (!w) throw new AppError('validation_failed', `no label windows for ${s.dataPath}`, { field: 'dataPath' });
    labelledWindows += w.length;
  }
  const out = {} as Record<ProfileName, ProfileResult>;
  for (const profile of PROFILE_NAMES) {
    const cost = profiles[profile];
    const parts: SweepRows[] = [];
    let offset = 0;
    for (const s of series) {
      const w = windows.get(s.dataPath) as WindowLimits[];
      parts.push(calcSweepScore(s.timestamps, s.scores, w, cost, options.probationPercent, offset));
      offset += w.length;
    }
    const rows = concatSweeps(parts);
    const fixed = options.thresholds?.[profile];
    const counts = fixed === undefined ? optimizeThreshold(rows, cost) : scoreAtThreshold(rows, cost, fixed);
    const nullRaw = nullScore(rows, cost);
    const perfect = labelledWindows * cost.tpWeight;
    out[profile] = {
      profile,
      threshold: counts.threshold,
      raw: counts.score,
      nullRaw,
      perfect,
      normalized: normalizeScore(counts.score, nullRaw, perfect),
      counts,
    };
  }
  return out;
}

/** Scores a results directory in NAB's format. */
export function scoreResultsDir(
  resultsDir: string,
  detector: string,
  options: ScoreOptions = {},
): { files: number; results: Record<ProfileName, ProfileResult> } {
  const files = listResultFiles(resultsDir, detector);
  if (files.length === 0) {
    throw new AppError('validation_failed', `no ${detector}_*.csv results under ${resultsDir}`, { field: 'resultsDir' });
  }
  const series = files.map(loadResultSeries);
  return { files: files.length, results: scoreSeries(series, options) };
}
