import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { createFirebreak, type Firebreak } from '../../src/app/server.ts';
import type { Config } from '../../src/app/config.ts';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './database-factory.ts';

export const ADMIN_TOKEN = 'fbk_test_admin_token_0123456789';
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestServer {
  url: string;
  firebreak: Firebreak;
  database: TestDatabase;
  /** Calls the real HTTP API; the admin token unless `token` is given (null sends none). Bodies are loosely typed on purpose: tests assert on them. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  api<T = any>(method: string, path: string, body?: unknown, options?: { token?: string | null; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  /** Creates a token with the role through the API and returns its secret. */
  tokenFor(role: 'viewer' | 'responder' | 'admin'): Promise<string>;
  close(): Promise<void>;
}

export interface StartOptions {
  config?: Partial<Config>;
  clock?: () => Date;
  /** Reuse a database (restart scenarios); it is not dropped on close. */
  database?: TestDatabase;
}

/** Starts a real server in this process on an ephemeral loopback port over a fresh database. */
export async function startTestServer(kind: DatabaseKind, options: StartOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase(kind));
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: database.url,
    logLevel: 'silent',
    bootstrapToken: ADMIN_TOKEN,
    configDir: path.join(REPO_ROOT, 'config'),
    secretKey: 'test-secret-key-for-firebreak',
    prometheusUrl: undefined,
    workers: true,
    ...options.config,
  };
  const firebreak = await createFirebreak({ config, log: pino({ level: config.logLevel }), ...(options.clock ? { clock: options.clock } : {}) });
  const url = await firebreak.listen();
  const api: TestServer['api'] = async (method, apiPath, body, opts = {}) => {
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    const response = await fetch(new URL(apiPath, url), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (metrics, HTML): keep the text
    }
    return { status: response.status, body: parsed as never, headers: response.headers };
  };
  return {
    url,
    firebreak,
    database,
    api,
    async tokenFor(role) {
      const created = await api<{ token: string }>('POST', '/api/v1/tokens', { name: `${role}-${Math.random().toString(36).slice(2)}`, role });
      return created.body.token;
    },
    async close() {
      await firebreak.close();
      if (!options.database) await database.drop();
    },
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A free loopback port: bound and released, so a child process can take it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `firebreak serve` as a separate OS process (CLI tests, restarts, several servers on one database, benchmarks). */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = env.FIREBREAK_PORT ?? String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/main.ts'), 'serve'], {
    cwd: REPO_ROOT,
    env: { ...process.env, FIREBREAK_HOST: '127.0.0.1', FIREBREAK_LOG_LEVEL: 'info', ...env, FIREBREAK_PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    try {
      const health = await fetch(`${url}/healthz`);
      if (health.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop(signal = 'SIGTERM') {
      return new Promise((resolve) => {
        // A process ended by a signal has a signalCode and no exitCode.
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
}
