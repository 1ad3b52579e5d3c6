/** Runs Firebreak's detector over the NAB data corpus in memory. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createAnomalyDetector, type AnomalyDetectorConfig } from '../../src/llm/detect/index.ts';
import { column, nabDir, parseNabTimestamp, readCsv, type LoadedSeries } from './corpus.ts';

export interface DataSeries {
  dataPath: string;
  timestampText: string[];
  valueText: string[];
  timestamps: Float64Array;
  values: Float64Array;
}

export function loadDataCorpus(dataDir: string = path.join(nabDir(), 'data')): DataSeries[] {
  const out: DataSeries[] = [];
  for (const category of readdirSync(dataDir).sort()) {
    const dir = path.join(dataDir, category);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.csv')) continue;
      const file = path.join(dir, name);
      const t = readCsv(file);
      const ts = column(t, 'timestamp', file);
      const vs = column(t, 'value', file);
      out.push({
        dataPath: `${category}/${name}`,
        timestampText: ts,
        valueText: vs,
        timestamps: Float64Array.from(ts, parseNabTimestamp),
        values: Float64Array.from(vs, Number),
      });
    }
  }
  return out;
}

/** NAB corpus config: the corpus has negative values (art_daily_flatmiddle), so they are accepted here. */
export const NAB_CORPUS_OVERRIDES: Partial<AnomalyDetectorConfig> = { allowNegative: true };

export function detectCorpus(corpus: readonly DataSeries[], config: Partial<AnomalyDetectorConfig> = {}): LoadedSeries[] {
  return corpus.map((s) => {
    const d = createAnomalyDetector({ ...NAB_CORPUS_OVERRIDES, ...config });
    const scores = new Float64Array(s.values.length);
    for (let i = 0; i < s.values.length; i++) scores[i] = d.update(s.timestamps[i] as number, s.values[i] as number).score;
    return { dataPath: s.dataPath, timestamps: s.timestamps, scores };
  });
}
