/**
 * Suspect ranking benchmark: a real `firebreak serve` process over a database holding 1,000,000
 * changes, on SQLite and on PostgreSQL, asked `GET /api/v1/incidents/{id}/changes` (the ranking with
 * its followed-by counts, exactly what the incident page calls) over HTTP from this process.
 *
 *   - 200 catalogue services in layers (each depends on one or two of the layer below), and 1,000,000
 *     changes spread over the year before today across them (about 14 per service and day), every kind,
 *     written straight into the table in batches in time order (seeding through HTTP would take hours and measure
 *     ingestion, not ranking), then `ANALYZE` as the databases' own maintenance would do;
 *   - 100 incidents opened through the API at random times of that year on random services;
 *   - 2,000 ranking requests, one at a time, cycling over the incidents; client-side p50/p99.
 *
 * Usage: npx tsx bench/changes/run.ts [sqlite] [postgres]   (PostgreSQL at FIREBREAK_BENCH_PG_URL,
 * default postgres://postgres:postgres@127.0.0.1:5432/postgres; a fresh database is created and
 * dropped). Writes its section of BENCHMARKS.md. Target: p99 < 50 ms on both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, toJson } from '../../src/storage/index.ts';
import type { CatalogTables } from '../../src/catalog/index.ts';
import type { ChangeTables } from '../../src/changes/index.ts';
import { CHANGE_KINDS } from '../../src/changes/index.ts';
import { percentile } from '../../src/shared/stats.ts';
import { seededRandom } from '../../src/shared/random.ts';
import { createTestDatabase } from '../../test/support/database-factory.ts';
import { machineLine, writeBenchmarkSection } from '../support/report.ts';
import { apiClient, spawnServer, type ServerProcess } from '../support/server.ts';

const PG_URL = process.env.FIREBREAK_BENCH_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
// Fixed, so a kept database (BENCH_DATABASE_URL) accepts it again; the server only listens on loopback.
const TOKEN = 'fbk_bench_changes_0123456789abcdef';
const CHANGES = Number(process.env.BENCH_CHANGES ?? 1_000_000);
const SERVICES = 200;
const INCIDENTS = 100;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const BATCH = 1000;
const DAY_MS = 86_400_000;
const TARGET_P99_MS = 50;

type Kind = 'sqlite' | 'postgres';
type Tables = CatalogTables & ChangeTables;

interface KindResult {
  kind: Kind;
  changes: number;
  seedSeconds: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  consideredMean: number;
  /** Server CPU (user + system) per request: what a ranking costs, whatever else shares the machine. */
  serverCpuMs: number;
  /** 1-minute load average before and after the measured requests. */
  load: [number, number];
}

/** Three layers: 0–19 depend on nothing, 20–59 on one or two of the first layer, the rest on the second layer (and so, two steps down, the first). */
function dependenciesOf(i: number): string[] {
  if (i < 20) return [];
  if (i < 60) return [`svc-${i % 20}`, ...(i % 3 === 0 ? [`svc-${(i + 1) % 20}`] : [])];
  return [`svc-${20 + (i % 40)}`, ...(i % 4 === 0 ? [`svc-${20 + ((i + 1) % 40)}`] : [])];
}

async function seed(url: string, now: number): Promise<number> {
  const database = openDatabase(url, { poolSize: 4 });
  const db = database.db.withTables<Tables>();
  const started = performance.now();
  try {
    const created = new Date(now).toISOString();
    await db
      .insertInto('services')
      .values(
        Array.from({ length: SERVICES }, (_, i) => ({
          id: `svc-${i}`,
          name: `svc ${i}`,
          description: '',
          owner_team: null,
          tier: 1 + (i % 4),
          rto_minutes: null,
          rpo_minutes: null,
          slo_target: null,
          data_integrity_required: 0,
          depends_on: toJson(dependenciesOf(i)),
          created_at: created,
          updated_at: created,
          version: 1,
        })),
      )
      .execute();
    const random = seededRandom(7);
    const from = now - 365 * DAY_MS;
    // Written in time order, as changes arrive: random times, sorted.
    const times = new Float64Array(CHANGES);
    for (let n = 0; n < CHANGES; n++) times[n] = from + Math.floor(random() * 365 * DAY_MS);
    times.sort();
    for (let offset = 0; offset < CHANGES; offset += BATCH) {
      const rows: ChangeTables['changes'][] = [];
      for (let n = offset; n < Math.min(CHANGES, offset + BATCH); n++) {
        const at = new Date(times[n]!).toISOString();
        const kind = CHANGE_KINDS[Math.floor(random() * CHANGE_KINDS.length)]!;
        rows.push({
          id: `chg_${n.toString(16).padStart(16, '0')}`,
          service: `svc-${Math.floor(random() * SERVICES)}`,
          kind,
          summary: `${kind} change number ${n}`,
          version_from: `v${n}`,
          version_to: `v${n + 1}`,
          author: 'bench',
          links: '[]',
          at,
          source: 'api',
          target: null,
          integration_id: null,
          dedup_key: null,
          details: '{}',
          created_at: at,
        });
      }
      await db.insertInto('changes').values(rows).execute();
      if (offset % 100_000 === 0) process.stderr.write(`  seeded ${offset.toLocaleString('en')} changes\n`);
    }
    // What the databases' own maintenance (autovacuum, `PRAGMA optimize`) keeps: statistics, and on
    // PostgreSQL the visibility map that lets an index-only scan skip the table.
    await (url.startsWith('postgres') ? sql`VACUUM ANALYZE` : sql`ANALYZE`).execute(db);
  } finally {
    await database.close();
  }
  return (performance.now() - started) / 1000;
}

/**
 * While profiling: BENCH_KEEP_DATABASE=1 keeps the seeded database and prints its URL; BENCH_DATABASE_URL=<url>
 * runs against such a database again without seeding (only for one database kind at a time).
 */
async function benchKind(kind: Kind): Promise<KindResult> {
  const reused = process.env.BENCH_DATABASE_URL;
  const database = reused ? { url: reused, drop: async () => {} } : await createTestDatabase(kind, PG_URL);
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-changes-'));
  let server: ServerProcess | undefined;
  try {
    const now = Date.now();
    let seedSeconds = 0;
    if (!reused) {
      // The server creates the schema; seeding then writes beside it, as another process would.
      server = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: TOKEN, FIREBREAK_CONFIG_DIR: configDir, FIREBREAK_LOG_LEVEL: 'warn' });
      await server.stop();
      process.stderr.write(`${kind}: seeding ${CHANGES.toLocaleString('en')} changes\n`);
      seedSeconds = await seed(database.url, now);
    }
    // BENCH_CPU_PROF=<dir>: the measured server writes a V8 CPU profile there (bench/profile/summarise.ts reads it).
    const nodeArgs = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    server = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: TOKEN, FIREBREAK_CONFIG_DIR: configDir, FIREBREAK_LOG_LEVEL: 'warn' }, { nodeArgs });
    const api = apiClient(server.url, TOKEN);
    const random = seededRandom(11);
    const incidents: string[] = [];
    for (let i = 0; i < INCIDENTS; i++) {
      const detected = new Date(now - Math.floor((1 + random() * 360) * DAY_MS)).toISOString();
      const service = `svc-${60 + Math.floor(random() * (SERVICES - 60))}`;
      const created = await api<{ id: string }>('POST', '/api/v1/incidents', { title: `bench incident ${i}`, severity: 'high', services: [service], detected_at: detected });
      incidents.push(created.id);
    }
    // Warm-up: the first requests compile statements and fill caches.
    for (let i = 0; i < 50; i++) await api('GET', `/api/v1/incidents/${incidents[i % incidents.length]}/changes`);
    const samples: number[] = [];
    let considered = 0;
    const loadBefore = os.loadavg()[0]!;
    const cpuBefore = server.cpuMs();
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const result = await api<{ considered: number; items: unknown[] }>('GET', `/api/v1/incidents/${incidents[i % incidents.length]}/changes`);
      samples.push(performance.now() - started);
      considered += result.considered;
    }
    const serverCpuMs = (server.cpuMs() - cpuBefore) / REQUESTS;
    const load: [number, number] = [loadBefore, os.loadavg()[0]!];
    samples.sort((a, b) => a - b);
    return {
      serverCpuMs,
      load,
      kind,
      changes: CHANGES,
      seedSeconds,
      samples: samples.length,
      p50: percentile(samples, 0.5)!,
      p99: percentile(samples, 0.99)!,
      max: samples[samples.length - 1]!,
      consideredMean: considered / samples.length,
    };
  } finally {
    await server?.stop();
    if (process.env.BENCH_KEEP_DATABASE) process.stderr.write(`${kind}: database kept at ${database.url}\n`);
    else await database.drop();
    fs.rmSync(configDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const kinds = process.argv.slice(2).filter((a): a is Kind => a === 'sqlite' || a === 'postgres');
  const chosen: Kind[] = kinds.length ? kinds : ['sqlite', 'postgres'];
  const results: KindResult[] = [];
  for (const kind of chosen) {
    const result = await benchKind(kind);
    results.push(result);
    process.stderr.write(`${kind}: p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms over ${result.samples} requests, server CPU ${result.serverCpuMs.toFixed(2)} ms per request\n`);
  }
  const rows = results.map(
    (r) =>
      `| ${r.kind} | ${r.changes.toLocaleString('en')} | ${r.samples.toLocaleString('en')} | ${r.p50.toFixed(1)} | **${r.p99.toFixed(1)}** | ${r.max.toFixed(1)} | ${r.consideredMean.toFixed(0)} | ${r.serverCpuMs.toFixed(2)} | ${r.load.map((l) => l.toFixed(1)).join(' → ')} | ${r.seedSeconds.toFixed(0)} s | ${r.p99 < TARGET_P99_MS ? 'yes' : 'NO'} |`,
  );
  const markdown = `## Suspect ranking (\`src/changes\`)

Run with \`npx tsx bench/changes/run.ts\` on ${machineLine()}; load average when it finished ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} (other work shared the machine).
A real server process over a database holding ${CHANGES.toLocaleString('en')} changes (200 services in three layers, the changes spread over a year, about 14 per service and day, every kind), answering \`GET /api/v1/incidents/{id}/changes\` — the ranking with its parts and the incidents that followed each change, as the incident page asks for it — for ${INCIDENTS} incidents opened at random times of that year, ${REQUESTS.toLocaleString('en')} requests one after another, timed by the client over HTTP on loopback. The changes are seeded straight into the table in time order (then \`ANALYZE\`d; on PostgreSQL \`VACUUM ANALYZE\`d, as autovacuum does for an insert-only table); the server runs as shipped. Per request: the incident, its services' dependencies two steps down (the catalogue read level by level, a query per level), one index range scan per service over \`changes_by_service_at_kind\` (service, at, id, kind: every column the ranking needs, so no table lookups; capped at 500 per service), the 10 shown changes read whole by id, and the incidents detected in the window after them for \`followed_by\`. The server's CPU time per request (from /proc) is shown beside the latencies: on a shared machine the latencies include waiting for a core, the CPU time does not.

| database | changes stored | requests | p50 ms | p99 ms | max ms | changes considered per incident | server CPU ms per request | load average (1 min) | seeding | p99 < ${TARGET_P99_MS} ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}
`;
  if (chosen.length === 2) writeBenchmarkSection('changes', markdown);
  process.stdout.write(markdown);
}

await main();
