import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../../test/support/database-factory.ts';
import { postgresCpuMs, spawnServer, type ServerProcess } from '../../bench/support/server.ts';
const n = Number(process.argv[2] ?? 3);
const database = await createTestDatabase('postgres', 'postgres://postgres:postgres@127.0.0.1:5432/postgres');
const token = `fbk_bench_${randomBytes(12).toString('hex')}`;
const servers: ServerProcess[] = [];
const nodeArgs = process.argv.includes('--count') ? ['--require', '/tmp/scal/pgcount.cjs'] : [];
try {
  for (let i = 0; i < n; i++) servers.push(await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: token, FIREBREAK_LOG_LEVEL: 'warn' }, { nodeArgs }));
  await new Promise((r) => setTimeout(r, 3000));
  if (nodeArgs.length) for (const s of servers) s.child.kill('SIGUSR2');
  const c0 = servers.map((s) => s.cpuMs()); const p0 = postgresCpuMs();
  await new Promise((r) => setTimeout(r, 20000));
  const c1 = servers.map((s, i) => s.cpuMs() - c0[i]!); const p1 = postgresCpuMs() - p0;
  if (nodeArgs.length) for (const s of servers) s.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 500));
  console.log('idle cpu ms/s per server', c1.map((c) => c / 20), 'postgres ms/s', p1 / 20);
  if (nodeArgs.length) { const fs = await import('node:fs'); const rows = JSON.parse(fs.readFileSync(`/tmp/scal/stmts-${servers[0]!.child.pid}.json`, 'utf8')) as [string, number][]; for (const [t, k] of rows) console.log(String(k / 20).padStart(6), t.slice(0, 220)); }
} finally { for (const s of servers) await s.stop(); await database.drop(); }
