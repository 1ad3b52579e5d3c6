import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { SERVER_START_LIMIT_MS } from './server.ts';

/** A server process with a test-set clock (test/support/clocked-server.ts). */
export interface ClockedServer {
  readonly url: string;
  readonly child: ChildProcess;
  setClock(ms: number): Promise<void>;
  runDue(): Promise<void>;
  /** Ends it with SIGKILL: no shutdown, no flush, as a crashed server. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export async function forkClockedServer(env: { databaseUrl: string; adminToken: string; startMs: number; configDir?: string }): Promise<ClockedServer> {
  const child = fork(path.join(import.meta.dirname, 'clocked-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      CLOCKED_DATABASE_URL: env.databaseUrl,
      CLOCKED_ADMIN_TOKEN: env.adminToken,
      CLOCKED_START_MS: String(env.startMs),
      ...(env.configDir ? { CLOCKED_CONFIG_DIR: env.configDir } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const url = await new Promise<string>((resolve, reject) => {
    // A safety limit for a busy machine, as for every server a test spawns.
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`clocked server did not start within ${SERVER_START_LIMIT_MS / 1000} s`));
    }, SERVER_START_LIMIT_MS);
    child.once('exit', (code) => {
      clearTimeout(limit);
      reject(new Error(`clocked server exited with ${code} before listening`));
    });
    child.on('message', (message: { id: number; url?: string; error?: string }) => {
      if (message.id === 0 && message.url) {
        clearTimeout(limit);
        return resolve(message.url);
      }
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) pending?.reject(new Error(message.error));
      else pending?.resolve();
    });
  });
  child.on('exit', () => {
    for (const pending of waiting.values()) pending.reject(new Error('clocked server exited'));
    waiting.clear();
  });
  const ask = (message: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ id, ...message });
    });
  return {
    url,
    child,
    setClock: (ms) => ask({ type: 'clock', ms }),
    runDue: () => ask({ type: 'runDue' }),
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await ask({ type: 'close' }).catch(() => undefined);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
