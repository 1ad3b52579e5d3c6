/**
 * Builds the web console into `web/dist`. `npm start` runs it with `--if-stale`, which skips the build
 * when `web/dist/index.html` is newer than every source file, so a normal start costs a few stat calls.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
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

const LOCK_DIR = path.join(os.tmpdir(), `firebreak-web-build-${createHash('sha1').update(WEB_ROOT).digest('hex').slice(0, 12)}.lock`);
const STALE_LOCK_MS = 5 * 60_000;

/**
 * Builds when stale. Several processes (test workers, `npm start` twice) may ask at once, and vite
 * empties `dist` first, so one builds under a lock (an atomic mkdir) while the others wait and re-check.
 */
export async function ensureConsoleBuilt(): Promise<boolean> {
  for (;;) {
    if (!consoleBuildIsStale()) return false;
    try {
      fs.mkdirSync(LOCK_DIR);
    } catch {
      const age = Date.now() - (fs.statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      if (!consoleBuildIsStale()) return false;
      await buildConsole();
      return true;
    } finally {
      fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const onlyIfStale = process.argv.includes('--if-stale');
  const started = Date.now();
  const built = onlyIfStale ? await ensureConsoleBuilt() : (await buildConsole(), true);
  if (built) process.stdout.write(`web console built into web/dist in ${Date.now() - started} ms\n`);
}
