/**
 * Starts `firebreak serve` as a separate OS process and talks to it over HTTP. No vitest here: the
 * benchmarks use this directly, and test/support/server.ts re-exports it for the suite.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createTestDatabase } from '../../test/support/database-factory.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
/** Keeps the captured server output bounded over a long benchmark run; tests never come near this. */
const MAX_OUTPUT_CHARS = 1_000_000;
/** How long a server may take to answer /healthz after it was spawned: a safety limit for a busy machine, not a speed target. */
export const SERVER_START_LIMIT_MS = 180_000;

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** CPU time (user + system) the server process has used so far, in ms (Linux /proc; NaN elsewhere). */
  cpuMs(): number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  /** Extra node flags for the server, e.g. `--cpu-prof` to profile it. */
  nodeArgs?: string[];
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

let checkedBuild = false;

/**
 * Benchmarks start servers without the test suite's global setup, so a dist/ older than the sources would
 * silently measure old code: rebuilt here, once per process (a few stat calls when it is current).
 */
function rebuildIfStale(): void {
  if (checkedBuild) return;
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 600_000 });
  checkedBuild = true;
}

/** Starts `firebreak serve` as a separate OS process (CLI tests, restarts, several servers on one database, benchmarks). */
export async function spawnServer(env: Record<string, string>, options: SpawnOptions = {}): Promise<ServerProcess> {
  const port = env.FIREBREAK_PORT ?? String(await freePort());
  // The compiled server, as `npm start` runs it (the test suite's global setup rebuilds it when a source
  // changed); from the TypeScript sources only in a tree that was never built.
  const compiled = path.join(REPO_ROOT, 'dist/main.js');
  const built = fs.existsSync(compiled);
  if (built) rebuildIfStale();
  const entry = built ? [compiled] : ['--import', 'tsx', path.join(REPO_ROOT, 'src/main.ts')];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry, 'serve'], {
    cwd: REPO_ROOT,
    // OTLP/gRPC is off unless asked for: its default port (4317) would collide between servers started side by side.
    env: { ...process.env, FIREBREAK_HOST: '127.0.0.1', FIREBREAK_LOG_LEVEL: 'info', FIREBREAK_OTLP_GRPC_PORT: '0', ...env, FIREBREAK_PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const capture = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(-MAX_OUTPUT_CHARS / 2);
  };
  child.stdout!.on('data', capture);
  child.stderr!.on('data', capture);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + SERVER_START_LIMIT_MS;
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
    cpuMs: () => processCpuMs(child.pid!),
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

/** User + system CPU of a process in ms, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** CPU ms of every PostgreSQL process on the machine (postmaster, backends, WAL writer, checkpointer). */
/** The pids of the machine's PostgreSQL processes: the postmaster, its backends and its helpers. */
function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name === 'postgres' || name.startsWith('postgres:')) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export function postgresCpuMs(): number {
  let total = 0;
  for (const pid of postgresPids()) {
    const cpu = processCpuMs(pid);
    // NaN: the process ended since it was listed.
    if (!Number.isNaN(cpu)) total += cpu;
  }
  return total;
}

/**
 * Measures the CPU of the PostgreSQL backends serving `database` (not other databases' work on a shared server, nor
 * the WAL writer and checkpointer every database shares) over a span in which they come and go (a pool closes idle
 * connections): /proc is read every 200 ms, and each backend counts from its first reading (from 0 if it started
 * inside the span) to its last, so a backend that exits loses at most its last 200 ms.
 */
export function startPostgresCpuMeter(database: string): { stop(): number } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const read = (initial: boolean) => {
    for (const pid of postgresPids()) {
      try {
        const title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (!title.split(' ').includes(database)) continue;
        const cpu = processCpuMs(pid);
        if (Number.isNaN(cpu)) continue;
        if (!first.has(pid)) first.set(pid, initial ? cpu : 0);
        last.set(pid, cpu);
      } catch {
        // the process ended while we looked
      }
    }
  };
  read(true);
  const timer = setInterval(() => read(false), 200);
  return {
    stop() {
      clearInterval(timer);
      read(false);
      let total = 0;
      for (const [pid, at] of last) total += at - first.get(pid)!;
      return total;
    },
  };
}

/**
 * Runs `work` against `count` server processes on one fresh PostgreSQL database (created at `pgUrl`, dropped after),
 * sharing a random bootstrap token. They start one at a time, so the first alone runs the migrations.
 */
export async function withReplicas<T>(
  pgUrl: string,
  count: number,
  env: Record<string, string>,
  work: (servers: ServerProcess[], token: string, databaseName: string) => Promise<T>,
): Promise<T> {
  const database = await createTestDatabase('postgres', pgUrl);
  const token = `fbk_bench_${randomBytes(12).toString('hex')}`;
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      servers.push(await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: token, FIREBREAK_LOG_LEVEL: 'warn', ...env }));
    }
    return await work(servers, token, new URL(database.url).pathname.slice(1));
  } finally {
    for (const server of servers) await server.stop();
    await database.drop();
  }
}

export type ApiCall = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

/** A small JSON client for a benchmark's set-up calls: bearer token, JSON in and out (text when the answer is not JSON), throws on an error status. */
export function apiClient(baseUrl: string, token: string): ApiCall {
  return async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await fetch(new URL(route, baseUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
    const json = response.headers.get('content-type')?.includes('json') ?? false;
    return (json && text ? JSON.parse(text) : text) as T;
  };
}
