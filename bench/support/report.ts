import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LoadResult, LoadSpec } from './load.ts';

const exec = promisify(execFile);
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs the load generator in its own process, so it does not share an event loop with the server. */
export async function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/support/load.ts'), JSON.stringify(spec)], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Replaces this benchmark's section of BENCHMARKS.md, leaving every other section alone. */
export function writeBenchmarkSection(name: string, markdown: string): void {
  const file = path.join(REPO_ROOT, 'BENCHMARKS.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${start}\n${markdown.trim()}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  const next = pattern.test(current) ? current.replace(pattern, () => section) : `${current.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, next);
}
