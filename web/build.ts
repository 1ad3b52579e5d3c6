/**
 * Builds the web console into `web/dist`. `npm start` runs it with `--if-stale`, which skips the build
 * when `web/dist/index.html` is newer than every source file, so a normal start costs a few stat calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL('.', import.meta.url));
export const DIST_DIR = path.join(WEB_ROOT, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'public'];

function newestMtime(target: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** True when there is no build, or a source file changed after the last one. */
export function consoleBuildIsStale(): boolean {
  const built = newestMtime(path.join(DIST_DIR, 'index.html'));
  if (built === 0) return true;
  return SOURCES.some((source) => newestMtime(path.join(WEB_ROOT, source)) > built);
}

export async function buildConsole(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: path.join(WEB_ROOT, 'vite.config.ts'), logLevel: 'warn' });
}

export async function ensureConsoleBuilt(): Promise<boolean> {
  if (!consoleBuildIsStale()) return false;
  await buildConsole();
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const onlyIfStale = process.argv.includes('--if-stale');
  const started = Date.now();
  const built = onlyIfStale ? await ensureConsoleBuilt() : (await buildConsole(), true);
  if (built) process.stdout.write(`web console built into web/dist in ${Date.now() - started} ms\n`);
}
