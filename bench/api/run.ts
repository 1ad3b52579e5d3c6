/**
 * API benchmark: a real server process and a separate load-generator process on loopback.
 * Creates incidents, then reads them back, on SQLite and (when reachable) PostgreSQL.
 *
 *   npx tsx bench/api/run.ts            # PostgreSQL from FIREBREAK_BENCH_PG_URL or FIREBREAK_TEST_PG_URL
 */
import { createTestDatabase } from '../../test/support/database-factory.ts';
import os from 'node:os';
import { spawnServer, type ServerProcess } from '../support/server.ts';
import { machineLine, runLoadProcess, writeBenchmarkSection } from '../support/report.ts';
import type { LoadResult, LoadSpec } from '../support/load.ts';

const TOKEN = 'fbk_bench_admin_token_0123456789';
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

interface Row {
  database: string;
  phase: string;
  result: LoadResult;
  /** Server CPU (user + system) during the phase, per request: the measure that other load on the machine disturbs least. */
  serverCpuMsPerRequest: number;
}

/** Runs one measured phase and reads the server's CPU time around it. */
async function measure(server: ServerProcess, spec: LoadSpec): Promise<{ result: LoadResult; serverCpuMsPerRequest: number }> {
  const before = server.cpuMs();
  const result = await runLoadProcess(spec);
  return { result, serverCpuMsPerRequest: (server.cpuMs() - before) / Math.max(1, result.requests) };
}

async function benchDatabase(kind: 'sqlite' | 'postgres'): Promise<Row[]> {
  const database = await createTestDatabase(kind);
  const server = await spawnServer({
    FIREBREAK_DATABASE_URL: database.url,
    FIREBREAK_BOOTSTRAP_TOKEN: TOKEN,
    FIREBREAK_LOG_LEVEL: 'warn',
  });
  try {
    const base = { url: server.url, token: TOKEN, concurrency: CONCURRENCY };
    // A short warm-up so JIT compilation and connection set-up are not measured.
    await runLoadProcess({ ...base, durationMs: 1500, request: 'create-incident' });
    const create = await measure(server, { ...base, durationMs: DURATION_MS, request: 'create-incident' });
    const read = await measure(server, { ...base, durationMs: DURATION_MS, request: 'read-incident', ids: create.result.createdIds });
    return [
      { database: kind, phase: 'create incident (POST /api/v1/incidents)', ...create },
      { database: kind, phase: 'read incident (GET /api/v1/incidents/{id})', ...read },
    ];
  } finally {
    await server.stop();
    await database.drop();
  }
}

const kinds: ('sqlite' | 'postgres')[] = ['sqlite'];
const pgUrl = process.env.FIREBREAK_BENCH_PG_URL ?? process.env.FIREBREAK_TEST_PG_URL;
if (pgUrl) {
  process.env.FIREBREAK_TEST_PG_URL = pgUrl;
  kinds.push('postgres');
}

const loadBefore = os.loadavg()[0]!;
const rows: Row[] = [];
for (const kind of kinds) rows.push(...(await benchDatabase(kind)));
const loadAfter = os.loadavg()[0]!;
const perRequest = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(3) : 'n/a');

const table = rows
  .map(
    (r) =>
      `| ${r.database} | ${r.phase} | ${Math.round(r.result.requestsPerSecond).toLocaleString('en')} | ${r.result.p50Ms.toFixed(1)} | ${r.result.p99Ms.toFixed(1)} | ${perRequest(r.serverCpuMsPerRequest)} | ${perRequest(r.result.cpuMs / Math.max(1, r.result.requests))} | ${r.result.requests.toLocaleString('en')} | ${r.result.errors} |`,
  )
  .join('\n');
const sqliteCreate = rows.find((r) => r.database === 'sqlite' && r.phase.startsWith('create'))!.result;
const verdict =
  sqliteCreate.requestsPerSecond >= 2000 && sqliteCreate.p99Ms < 50
    ? 'met'
    : `not met (${Math.round(sqliteCreate.requestsPerSecond)} creations/s, p99 ${sqliteCreate.p99Ms.toFixed(1)} ms)`;

writeBenchmarkSection(
  'api',
  `## API: incident creation and reads (\`bench/api/run.ts\`)

Run on ${machineLine()}. One \`firebreak serve\` process and one load-generator process (closed loop,
${CONCURRENCY} keep-alive connections, ${DURATION_MS / 1000} s per phase after a 1.5 s warm-up) on loopback; both share the 2 cores.
Machine load (1-minute load average) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after: other work on the machine lowers
requests/s and raises p99; CPU per request (server from /proc, load generator from its own process) moves least.
Concurrent creations share one transaction (group commit), each answered after its commit.
Target: ≥ 2,000 incident creations/s with p99 < 50 ms on SQLite — **${verdict}**.

| database | phase | requests/s | p50 ms | p99 ms | server CPU ms/request | load generator CPU ms/request | requests | errors |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${table}
`,
);
process.stdout.write(`${table}\n`);
