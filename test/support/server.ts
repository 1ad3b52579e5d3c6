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

export { freePort, SERVER_START_LIMIT_MS, spawnServer, type ServerProcess } from '../../bench/support/server.ts';
