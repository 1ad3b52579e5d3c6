/**
 * Scaling benchmark: 1, 2 and 3 `firebreak serve` processes on one PostgreSQL database, driven with the same
 * closed-loop Events API v2 load (90% repeats, 10% new dedup keys; 16 connections in all, spread evenly over the
 * replicas) from separate load-generator processes. For each replica count it reports accepted events/s, client
 * p99, server CPU per event (all replicas together) and PostgreSQL CPU per event (every `postgres` process of the
 * machine), so it shows which side a replica count makes the limit.
 *
 * Usage: npx tsx bench/ingest/replicas.ts   (PostgreSQL at FIREBREAK_BENCH_PG_URL, default
 * postgres://postgres:postgres@127.0.0.1:5432/postgres; fresh databases are created and dropped).
 * BENCH_REPLICAS_SECONDS sets the load time per replica count (default 20). Writes its section of BENCHMARKS.md.
 */
import { apiClient, postgresCpuMs, withReplicas } from '../support/server.ts';
import { machineLine, runLoadProcess, writeBenchmarkSection } from '../support/report.ts';
import type { LoadResult } from '../support/load.ts';

const PG_URL = process.env.FIREBREAK_BENCH_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_REPLICAS_SECONDS ?? 20);
const TOTAL_CONCURRENCY = 16;
const REPLICA_COUNTS = [1, 2, 3];

interface Row {
  replicas: number;
  eventsPerSecond: number;
  p99Ms: number;
  serverCpuMsPerEvent: number;
  postgresCpuMsPerEvent: number;
  errors: number;
}

async function measure(replicas: number): Promise<Row> {
  return withReplicas(PG_URL, replicas, {}, async (servers, token) => {
    const api = apiClient(servers[0]!.url, token);
    await api('POST', '/api/v1/services', { id: 'chat-api', owner_team: null, tier: 1 });
    const routingKeys: string[] = [];
    for (let i = 0; i < 10; i++) {
      const integration = await api<{ routing_key: string }>('POST', '/api/v1/integrations', {
        name: `bench-${i}`,
        service: 'chat-api',
        rate_limit: { per_second: 100_000, burst: 100_000 },
      });
      routingKeys.push(integration.routing_key);
    }
    // Warm up every replica (caches, prepared statements, JIT) before measuring.
    await Promise.all(servers.map((s) => runLoadProcess({ url: s.url, token, concurrency: 4, durationMs: 2000, request: 'pagerduty-mix', routingKeys })));
    const serverCpuBefore = servers.map((s) => s.cpuMs());
    const pgCpuBefore = postgresCpuMs();
    const shares = servers.map((_, i) => Math.floor(TOTAL_CONCURRENCY / replicas) + (i < TOTAL_CONCURRENCY % replicas ? 1 : 0));
    const results: LoadResult[] = await Promise.all(
      servers.map((s, i) => runLoadProcess({ url: s.url, token, concurrency: shares[i]!, durationMs: SECONDS * 1000, request: 'pagerduty-mix', routingKeys })),
    );
    const serverCpu = servers.reduce((sum, s, i) => sum + (s.cpuMs() - serverCpuBefore[i]!), 0);
    const pgCpu = postgresCpuMs() - pgCpuBefore;
    const accepted = results.reduce((sum, r) => sum + (r.statusCounts['202'] ?? 0), 0);
    const seconds = Math.max(...results.map((r) => r.seconds));
    return {
      replicas,
      eventsPerSecond: accepted / seconds,
      p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      serverCpuMsPerEvent: serverCpu / accepted,
      postgresCpuMsPerEvent: pgCpu / accepted,
      errors: results.reduce((sum, r) => sum + r.errors, 0),
    };
  });
}

const rows: Row[] = [];
for (const replicas of REPLICA_COUNTS) {
  const row = await measure(replicas);
  rows.push(row);
  console.log(JSON.stringify(row));
}
const table = rows
  .map(
    (r) =>
      `| ${r.replicas} | ${Math.round(r.eventsPerSecond).toLocaleString('en')} | ${r.p99Ms.toFixed(0)} | ${r.serverCpuMsPerEvent.toFixed(3)} | ${r.postgresCpuMsPerEvent.toFixed(3)} | ${r.errors} |`,
  )
  .join('\n');
const single = rows[0]!;
const share = single.postgresCpuMsPerEvent / (single.postgresCpuMsPerEvent + single.serverCpuMsPerEvent);
writeBenchmarkSection(
  'ingest-replicas',
  `## Ingest with several replicas on one PostgreSQL

\`npx tsx bench/ingest/replicas.ts\` on ${machineLine()}. 1, 2 and 3 \`firebreak serve\` processes on one fresh
PostgreSQL database; Events API v2 triggers (90% repeats of 50 open dedup keys, 10% new keys) from separate load
processes, 16 connections in all spread evenly over the replicas, ${SECONDS} s per row after a warm-up. Server CPU is
all replicas together; PostgreSQL CPU is every \`postgres\` process of the machine.

| replicas | accepted events/s | p99 ms | server CPU ms/event | PostgreSQL CPU ms/event | errors |
| ---: | ---: | ---: | ---: | ---: | ---: |
${table}

Where PostgreSQL becomes the limit: with one replica PostgreSQL spends ${(share * 100).toFixed(0)}% of the CPU an event costs
in all. Everything here shares 2 cores, so added replicas cannot add throughput on this machine; they show what a
replica costs (its share of the relay, heartbeats and the per-replica caches) and that nothing is lost. On machines of
their own, replicas scale ingest until the database host's CPU is saturated: at
${(1000 / single.postgresCpuMsPerEvent).toFixed(0)} events/s per PostgreSQL core at this event mix, which is then the limit.`,
);
process.exit(0);
