/**
 * Scores a NAB results directory on the three profiles:
 *   npx tsx bench/nab/score.ts <resultsDir> [--detector name] [--thresholds config/thresholds.json | --optimize]
 * A relative --thresholds path is looked up in the working directory first, then in the NAB dataset dir.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { isAppError } from '../../src/shared/errors.ts';
import { inferDetector, loadThresholds, nabDir, scoreResultsDir } from './corpus.ts';
import { PROFILE_NAMES, type ProfileName } from './scorer.ts';

const program = new Command()
  .name('score')
  .description('Score a results directory in NAB format with the NAB scoring method')
  .argument('<resultsDir>', 'directory holding <category>/<detector>_<file>.csv')
  .option('--detector <name>', 'detector name (default: the directory name)')
  .option('--thresholds <file>', 'thresholds.json giving the threshold per detector and profile')
  .option('--optimize', 'optimise the threshold per profile over the whole corpus (default without --thresholds)')
  .action((resultsDir: string, opts: { detector?: string; thresholds?: string; optimize?: boolean }) => {
    const detector = opts.detector ?? inferDetector(resultsDir);
    let thresholds: Partial<Record<ProfileName, number>> | undefined;
    if (opts.thresholds && !opts.optimize) {
      const file = existsSync(opts.thresholds) ? opts.thresholds : path.join(nabDir(), opts.thresholds);
      const forDetector = loadThresholds(file)[detector];
      if (!forDetector) throw new Error(`${file} has no thresholds for detector ${detector}`);
      thresholds = {};
      for (const p of PROFILE_NAMES) {
        const t = forDetector[p]?.threshold;
        if (t !== undefined) thresholds[p] = t;
      }
    }
    const { files, results } = scoreResultsDir(resultsDir, detector, { thresholds });
    console.log(`detector ${detector}: ${files} files, thresholds ${thresholds ? 'from ' + opts.thresholds : 'optimised'}`);
    for (const p of PROFILE_NAMES) {
      const r = results[p];
      const c = r.counts;
      console.log(
        `${p.padEnd(20)} ${r.normalized.toFixed(2).padStart(8)}   raw ${r.raw.toFixed(3)} (null ${r.nullRaw}, perfect ${r.perfect})  threshold ${r.threshold}  tp ${c.tp} fp ${c.fp} fn ${c.fn} tn ${c.tn}`,
      );
    }
  });

try {
  program.parse();
} catch (error) {
  console.error(isAppError(error) ? `${error.code}: ${error.message}` : error);
  process.exit(1);
}
