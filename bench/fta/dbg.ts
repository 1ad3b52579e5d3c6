import { readFileSync } from 'node:fs';
import { parseOpenPsaMef } from '../../src/rca/fta/mef.ts';
import { analyzeFaultTree } from '../../src/rca/fta/analysis.ts';
const model = parseOpenPsaMef(readFileSync(process.argv[2]!, 'utf8'));
try { analyzeFaultTree(model, { maxCutSets: 3 }); } catch (e) { console.log((e as Error).stack?.split('\n').slice(0, 12).join('\n')); }
