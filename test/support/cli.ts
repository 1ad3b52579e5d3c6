import { execFile } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './server.ts';

/**
 * How long one `firebreak` command may take before the test fails naming it. A safety limit, not a speed
 * target: the compiled CLI answers in well under a second on a quiet machine and in a few seconds on a busy
 * one. A test that runs n commands allows n times this (`cliTimeout`), so a slow machine fails none.
 */
export const CLI_LIMIT_MS = 60_000;

/** The timeout of a test that runs `commands` CLI commands (and, with `extraMs`, waits for other things too). */
export function cliTimeout(commands: number, extraMs = 0): number {
  return commands * CLI_LIMIT_MS + extraMs + 60_000;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the compiled CLI (`bin/firebreak.js`, as a user does) in its own process: its exit code and output.
 * `env` adds to this process's environment; `stdin` is written to its standard input; `limitMs` replaces
 * CLI_LIMIT_MS for a command that does real-time work of its own (a drill).
 */
export function runFirebreak(args: string[], options: { env?: Record<string, string>; stdin?: string; limitMs?: number } = {}): Promise<CliResult> {
  const limitMs = options.limitMs ?? CLI_LIMIT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/firebreak.js'), ...args],
      { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, timeout: limitMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        if (error.killed) return reject(new Error(`firebreak ${args.join(' ')} did not finish within ${limitMs / 1000} s:\n${stderr}`));
        if (typeof error.code !== 'number') return reject(error);
        resolve({ code: error.code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}
