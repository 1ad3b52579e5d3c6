/**
 * Server CPU per request over real HTTP (not a benchmark: throughput comes from bench/api). Spawns
 * `firebreak serve` on a temp SQLite file (or PostgreSQL with `--postgres`), warms it up, then runs the
 * load-generator process and reads the server's CPU time from /proc around the measured phase. With
 * `--cpu-prof` the server writes a V8 profile for bench/profile/summarise.ts.
 *
 *   node --import tsx bench/profile/server.ts create 5000          # phase, duration in ms
 *   node --import tsx bench/profile/server.ts create 5000 --cpu-prof
 *   node --import tsx bench/profile/summarise.ts /tmp/firebreak-server-prof/<file>.cpuprofile
 */
import fs from 'node:fs';
import { createTestDatabase } from '../../test/support/database-factory.ts';
import { spawnServer } from '../support/server.ts';
import { runLoadProcess } from '../support/report.ts';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [phase = 'create', durationText = '5000'] = args.filter((a) => !a.startsWith('--'));
const durationMs = Number(durationText);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TOKEN = 'fbk_profile_admin_token_0123456789';
const PROFILE_DIR = '/tmp/firebreak-server-prof';

const database = await createTestDatabase(flags.has('--postgres') ? 'postgres' : 'sqlite');
if (flags.has('--cpu-prof')) fs.rmSync(PROFILE_DIR, { recursive: true, force: true });
const server = await spawnServer(
  { FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: TOKEN, FIREBREAK_LOG_LEVEL: 'warn' },
  flags.has('--cpu-prof') ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-interval', '200'] } : {},
);
try {
  const base = { url: server.url, token: TOKEN, concurrency };
  const warm = await runLoadProcess({ ...base, durationMs: 1500, request: 'create-incident' });
  const request = phase === 'read' ? 'read-incident' : 'create-incident';
  const before = server.cpuMs();
  // The monotonic clock in microseconds, as V8 stamps profile samples: summarise.ts --window keeps this span.
  const windowStart = process.hrtime.bigint() / 1000n;
  const result = await runLoadProcess({ ...base, durationMs, request, ids: warm.createdIds });
  const windowEnd = process.hrtime.bigint() / 1000n;
  const serverCpuMs = server.cpuMs() - before;
  if (flags.has('--cpu-prof')) process.stdout.write(`window: --window ${windowStart},${windowEnd}\n`);
  process.stdout.write(
    `${phase}: ${result.requests} requests, ${Math.round(result.requestsPerSecond)}/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, errors ${result.errors}\n` +
      `server CPU ${(serverCpuMs / result.requests).toFixed(3)} ms/request; load generator CPU ${(result.cpuMs / result.requests).toFixed(3)} ms/request\n`,
  );
} finally {
  await server.stop();
  await database.drop();
}
if (flags.has('--cpu-prof')) process.stdout.write(`profile: ${fs.readdirSync(PROFILE_DIR).map((f) => `${PROFILE_DIR}/${f}`).join(' ')}\n`);
