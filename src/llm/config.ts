import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../shared/errors.ts';
import { parseWithSchema } from '../shared/validation.ts';
import { SloFileSchema, toSloDefinitions, type SloDefinition } from './slo.ts';

export const SLO_FILE_NAME = 'slos.yaml';

/** Reads `<configDir>/slos.yaml`; no file means no SLOs. Any mistake names the offending field. */
export function loadSloConfig(configDir: string): SloDefinition[] {
  const file = path.join(configDir, SLO_FILE_NAME);
  if (!fs.existsSync(file)) return [];
  let document: unknown;
  try {
    document = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AppError('malformed_input', `${file}: not valid YAML: ${(error as Error).message}`, { field: SLO_FILE_NAME });
  }
  return parseSloDocument(document ?? { slos: [] }, file);
}

export function parseSloDocument(document: unknown, source: string): SloDefinition[] {
  const parsed = parseWithSchema(SloFileSchema, document);
  const seen = new Set<string>();
  parsed.slos.forEach((slo, index) => {
    const field = `slos[${index}]`;
    if (slo.kind === 'latency' && slo.threshold_ms === undefined) {
      throw new AppError('validation_failed', `${source}: ${field}.threshold_ms: a latency SLO needs a threshold`, { field: `${field}.threshold_ms` });
    }
    if (slo.kind === 'availability' && slo.threshold_ms !== undefined) {
      throw new AppError('validation_failed', `${source}: ${field}.threshold_ms: only latency SLOs have a threshold`, { field: `${field}.threshold_ms` });
    }
    const id = `${slo.service}/${slo.name ?? slo.kind}`;
    if (seen.has(id)) throw new AppError('validation_failed', `${source}: ${field}.name: ${id} is defined twice`, { field: `${field}.name` });
    seen.add(id);
  });
  return toSloDefinitions(parsed);
}
