// Child process of bench/fta/run.ts: analyses one MEF file and prints one JSON line, so each tree's
// peak memory (maxRSS) is its own.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { analyzeFaultTree, parseOpenPsaMef } from '../../src/rca/fta/index.ts';
import { isAppError } from '../../src/shared/errors.ts';
import type { VariableOrder } from '../../src/rca/fta/order.ts';

const file = process.argv[2]!;
const nodeBudget = process.env.FTA_NODE_BUDGET ? Number(process.env.FTA_NODE_BUDGET) : undefined;
const variableOrder = process.env.FTA_ORDER as VariableOrder | undefined;
const maxOrder = process.env.FTA_MAX_ORDER ? Number(process.env.FTA_MAX_ORDER) : undefined;
const started = performance.now();
try {
  const model = parseOpenPsaMef(readFileSync(file, 'utf8'));
  const parsed = performance.now();
  const cpuBefore = process.cpuUsage();
  const r = analyzeFaultTree(model, { maxCutSets: 10, nodeBudget, variableOrder, maxOrder });
  const cpu = process.cpuUsage(cpuBefore);
  const done = performance.now();
  console.log(
    JSON.stringify({
      ok: true,
      gates: r.gates,
      basicEvents: r.basicEvents,
      cutSets: r.minimalCutSetCount,
      exact: r.probability.exact,
      method: r.method,
      rareEvent: r.probability.rareEvent,
      mcub: r.probability.mcub,
      smallestOrder: r.cutSets[0]?.events.length,
      coherent: r.coherent,
      modules: r.diagram.modules,
      parseMs: parsed - started,
      analysisMs: done - parsed,
      analysisCpuMs: (cpu.user + cpu.system) / 1000,
      maxRssKb: process.resourceUsage().maxRSS,
    }),
  );
} catch (error) {
  const message = isAppError(error) ? `${error.code}: ${error.message}` : String(error);
  console.log(JSON.stringify({ ok: false, error: message, analysisMs: performance.now() - started, maxRssKb: process.resourceUsage().maxRSS }));
}
