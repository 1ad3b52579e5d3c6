#!/usr/bin/env node
// Compiles the server and CLI (src/ → dist/) with tsc and copies the data files they read at run time.
// `--if-stale` skips the work when dist is newer than every source file, so `npm start` costs a few stat calls.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.built');
const sources = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
/** Files the compiled code reads beside itself (tsc copies imported JSON itself). */
const assets = ['drills/scenarios'];

function newestMtime(target) {
  let stat;
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

export function serverBuildIsStale() {
  const built = newestMtime(stamp);
  return built === 0 || sources.some((source) => newestMtime(path.join(root, source)) > built);
}

/**
 * tsc never deletes: output of a source file since renamed or removed would stay in dist/ and could
 * still be imported by mistake. Removed here rather than by emptying dist/ first, so a server running
 * from dist/ during a rebuild never finds its files missing.
 */
export function removeOrphanedOutput(outDir, srcDir) {
  for (const entry of fs.readdirSync(outDir, { withFileTypes: true })) {
    const output = path.join(outDir, entry.name);
    const source = path.join(srcDir, entry.name);
    if (entry.isDirectory()) {
      removeOrphanedOutput(output, source);
      if (fs.readdirSync(output).length === 0) fs.rmdirSync(output);
      continue;
    }
    const compiled = /^(.*)\.js(\.map)?$/.exec(entry.name);
    if (compiled && !fs.existsSync(`${path.join(srcDir, compiled[1])}.ts`)) fs.rmSync(output);
  }
}

export function buildServer() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  for (const asset of assets) fs.cpSync(path.join(root, 'src', asset), path.join(root, 'dist', asset), { recursive: true });
  removeOrphanedOutput(path.join(root, 'dist'), path.join(root, 'src'));
  fs.writeFileSync(stamp, new Date().toISOString());
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--if-stale') && !serverBuildIsStale()) process.exit(0);
  buildServer();
}
