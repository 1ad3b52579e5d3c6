/**
 * Profiling aid for bench/ingest/replicas.ts (not a benchmark): N replicas on one fresh PostgreSQL database under the
 * same Events API v2 load, with each server's CPU profile (--cpu-prof), the statements it sent by text (--count,
 * bench/profile/count-statements.mjs), its context switches and user/system CPU per event, and pg_stat_database's
 * counters per event.
 *
 *   TOTAL=16 node --import tsx bench/profile/replicas-prof.ts 3 15 --count
 *   node --import tsx bench/profile/replicas-prof.ts 1 15 --cpu-prof   # then summarise.ts with the printed --window
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase } from '../../test/support/database-factory.ts';
import { apiClient, postgresCpuMs, spawnServer, type ServerProcess } from '../support/server.ts';
import { runLoadProcess } from '../support/report.ts';
import type { LoadResult } from '../support/load.ts';

const PG_URL = 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const replicas = Number(process.argv[2] ?? 1);
const seconds = Number(process.argv[3] ?? 15);
const prof = process.argv.includes('--cpu-prof');
const count = process.argv.includes('--count');
const TOTAL = Number(process.env.TOTAL ?? 16);
const dir = `/tmp/firebreak-replicas-prof-${replicas}`;
fs.rmSync(dir, { recursive: true, force: true });
const database = await createTestDatabase('postgres', PG_URL);
const token = `fbk_bench_${randomBytes(12).toString('hex')}`;
const servers: ServerProcess[] = [];
const nodeArgs = [...(count ? ['--import', path.join(import.meta.dirname, 'count-statements.mjs')] : []), ...(prof ? ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '500'] : [])];
const dbName = new URL(database.url).pathname.slice(1);
const stat = async () => {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  const r = await c.query('select xact_commit::int, xact_rollback::int, tup_returned::bigint, tup_fetched::bigint, tup_inserted::int, tup_updated::int, tup_deleted::int, blks_hit::bigint from pg_stat_database where datname=$1', [dbName]);
  await c.end();
  return r.rows[0] as Record<string, number>;
};
try {
  for (let i = 0; i < replicas; i++) servers.push(await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: token, FIREBREAK_LOG_LEVEL: 'warn' }, { nodeArgs }));
  const api = apiClient(servers[0]!.url, token);
  await api('POST', '/api/v1/services', { id: 'chat-api', owner_team: null, tier: 1 });
  const routingKeys: string[] = [];
  for (let i = 0; i < 10; i++) {
    const integration = await api<{ routing_key: string }>('POST', '/api/v1/integrations', { name: `bench-${i}`, service: 'chat-api', rate_limit: { per_second: 100_000, burst: 100_000 } });
    routingKeys.push(integration.routing_key);
  }
  await Promise.all(servers.map((s) => runLoadProcess({ url: s.url, token, concurrency: 4, durationMs: 2000, request: 'pagerduty-mix', routingKeys })));
  if (count) for (const s of servers) s.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
  const s0 = await stat();
  const sw = (pid: number) => { const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8'); const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').slice(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' '); return [Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)![1]), Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)![1]), Number(f[11]) * 10, Number(f[12]) * 10]; };
  const sw0 = servers.map((s) => sw(s.child.pid!));
  const cpu0 = servers.map((s) => s.cpuMs());
  const pg0 = postgresCpuMs();
  const windowStart = process.hrtime.bigint() / 1000n;
  const shares = servers.map((_, i) => Math.floor(TOTAL / replicas) + (i < TOTAL % replicas ? 1 : 0));
  const results: LoadResult[] = await Promise.all(servers.map((s, i) => runLoadProcess({ url: s.url, token, concurrency: shares[i]!, durationMs: seconds * 1000, request: 'pagerduty-mix', routingKeys })));
  const windowEnd = process.hrtime.bigint() / 1000n;
  const cpu = servers.map((s, i) => s.cpuMs() - cpu0[i]!);
  const pgCpu = postgresCpuMs() - pg0;
  const swd = servers.map((s, i) => sw(s.child.pid!).map((v, j) => v - sw0[i]![j]!)).reduce((a, b) => a.map((v, j) => v + b[j]!));
  const s1 = await stat();
  if (count) for (const s of servers) s.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 500));
  const accepted = results.reduce((sum, r) => sum + (r.statusCounts['202'] ?? 0), 0);
  const delta = Object.fromEntries(Object.keys(s1).map((k) => [k, Number(s1[k]) - Number(s0[k])]));
  console.log(JSON.stringify({ replicas, accepted, perSecond: accepted / seconds, serverCpuMsPerEvent: cpu.reduce((a, b) => a + b, 0) / accepted, perServer: cpu.map((c) => c / accepted), pgCpuMsPerEvent: pgCpu / accepted, load: (await import('node:os')).loadavg()[0] }));
  const acc = results.reduce((sum, r) => sum + (r.statusCounts['202'] ?? 0), 0);
  console.log('per event: voluntary switches', (swd[0]! / acc).toFixed(2), 'involuntary', (swd[1]! / acc).toFixed(2), 'user ms', (swd[2]! / acc).toFixed(3), 'sys ms', (swd[3]! / acc).toFixed(3), 'cpu ms per voluntary switch', ((swd[2]! + swd[3]!) / swd[0]!).toFixed(3));
  console.log('pg_stat_database per event', Object.fromEntries(Object.entries(delta).map(([k, v]) => [k, (v / accepted).toFixed(2)])));
  console.log(`window: --window ${windowStart},${windowEnd}`);
  if (count) {
    for (const s of servers) {
      const file = `/tmp/firebreak-statements-${s.child.pid}.json`;
      const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as [string, number][];
      const total = rows.reduce((a, [, n]) => a + n, 0);
      console.log(`server ${s.child.pid}: ${total} statements, ${(total / accepted).toFixed(2)} per event (all events)`);
      for (const [text, n] of rows.slice(0, 25)) console.log(`  ${String(n).padStart(7)}  ${(n / accepted).toFixed(3)}  ${text.slice(0, 200)}`);
    }
  }
} finally {
  for (const s of servers) await s.stop();
  await database.drop();
}
