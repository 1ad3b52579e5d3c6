import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import { AppError } from '../shared/errors.ts';

/** `firebreak fta …` runs the engine locally: analysing a model file needs no server. */
export function registerFaultTreeCommands(program: Command, context: CliContext): void {
  const fta = program.command('fta').description('fault tree analysis of Open-PSA MEF XML or Firebreak JSON models (runs locally)');

  fta
    .command('analyze <file>')
    .description('minimal cut sets, top-event probability and importance measures')
    .option('--top <gate>', 'gate to analyse (default: the top of the first fault tree)')
    .addOption(new Option('--order <n>', 'keep cut sets of at most n events').argParser(positiveInteger('--order')))
    .addOption(new Option('--cutoff <p>', 'keep cut sets with probability at least p').argParser(probability('--cutoff')))
    .addOption(new Option('--limit <n>', 'how many cut sets to list').default(20).argParser(positiveInteger('--limit')))
    .action(async (file: string, opts: { top?: string; order?: number; cutoff?: number; limit: number }) => {
      const { analyzeFaultTree } = await import('./fta/index.ts');
      const model = await readModel(file);
      const analysis = analyzeFaultTree(model, {
        ...(opts.top ? { top: opts.top } : {}),
        ...(opts.order !== undefined ? { maxOrder: opts.order } : {}),
        ...(opts.cutoff !== undefined ? { cutoff: opts.cutoff } : {}),
        maxCutSets: opts.limit,
      });
      context.output(analysis, () => {
        const p = analysis.probability;
        process.stdout.write(
          `${analysis.faultTree} / ${analysis.top}: ${analysis.gates} gates, ${analysis.basicEvents} basic events${analysis.coherent ? '' : ' (non-coherent: cut sets of the monotone approximation)'}\n` +
            `minimal cut sets: ${analysis.minimalCutSetCount}\n` +
            `top-event probability: ${p.exact === null ? 'exact not computed (the BDD exceeds the node budget; cut sets within the limits only)' : `exact ${p.exact.toExponential(4)}`}, rare-event ${p.rareEvent.toExponential(4)}, min-cut upper bound ${p.mcub.toExponential(4)}\n\n`,
        );
        printTable(
          analysis.cutSets.map((cs, i) => ({ rank: i + 1, order: cs.events.length, probability: cs.probability.toExponential(3), events: cs.events.join(' · ') })),
          ['rank', 'order', 'probability', 'events'],
        );
        process.stdout.write('\n');
        printTable(
          analysis.importance.slice(0, opts.limit).map((m) => ({
            event: m.event,
            fussell_vesely: m.fussellVesely.toFixed(4),
            birnbaum: m.birnbaum.toExponential(3),
            raw: m.riskAchievementWorth === null ? '-' : m.riskAchievementWorth.toFixed(2),
            rrw: m.riskReductionWorth === null ? '-' : m.riskReductionWorth.toFixed(3),
          })),
          ['event', 'fussell_vesely', 'birnbaum', 'raw', 'rrw'],
        );
      });
    });

  fta
    .command('svg <file>')
    .description('draw the tree as SVG')
    .requiredOption('--out <file>', 'where to write the SVG')
    .option('--top <gate>')
    .option('--highlight <events...>', 'basic events of one cut set to highlight')
    .action(async (file: string, opts: { out: string; top?: string; highlight?: string[] }) => {
      const { renderFaultTreeSvg } = await import('./fta/index.ts');
      const svg = renderFaultTreeSvg(await readModel(file), {
        ...(opts.top ? { top: opts.top } : {}),
        ...(opts.highlight ? { highlightCutSet: opts.highlight } : {}),
      });
      fs.writeFileSync(opts.out, svg);
      process.stdout.write(`wrote ${opts.out}\n`);
    });

  fta
    .command('examples')
    .description('list the example trees for LLM services, or write one out as JSON')
    .option('--write <name>', 'print the named example as JSON')
    .action(async (opts: { write?: string }) => {
      const { listExampleFaultTrees, stringifyFaultTreeJson } = await import('./fta/index.ts');
      const examples = listExampleFaultTrees();
      if (opts.write) {
        const example = examples.find((e) => e.name === opts.write);
        if (!example) throw new AppError('not_found', `example ${opts.write} does not exist; known: ${examples.map((e) => e.name).join(', ')}`);
        process.stdout.write(`${stringifyFaultTreeJson(example.model)}\n`);
        return;
      }
      context.output(examples.map(({ name, label, description }) => ({ name, label, description })), () =>
        printTable(examples.map(({ name, label, description }) => ({ name, label, description })), ['name', 'label', 'description']),
      );
    });
}

async function readModel(file: string) {
  const { parseFaultTreeJson, parseOpenPsaMef, validateFaultTreeModel } = await import('./fta/index.ts');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('validation_failed', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { field: 'file' });
  }
  const model = path.extname(file).toLowerCase() === '.json' || text.trimStart().startsWith('{') ? parseFaultTreeJson(text) : parseOpenPsaMef(text, { name: path.basename(file, path.extname(file)) });
  validateFaultTreeModel(model);
  return model;
}

function positiveInteger(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new AppError('validation_failed', `${flag}: must be a whole number >= 1, not ${value}`, { field: flag });
    return n;
  };
}

function probability(flag: string) {
  return (value: string) => {
    const p = Number(value);
    if (!(p >= 0 && p <= 1)) throw new AppError('validation_failed', `${flag}: must be a probability in [0, 1], not ${value}`, { field: flag });
    return p;
  };
}
