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
import os from 'node:os';
import { apiClient, startPostgresCpuMeter, withReplicas } from '../support/server.ts';
import { machineLine, runLoadProcess, writeBenchmarkSection } from '../support/report.ts';
import type { LoadResult } from '../support/load.ts';

const PG_URL = process.env.FIREBREAK_BENCH_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_REPLICAS_SECONDS ?? 20);
const TOTAL_CONCURRENCY = 16;
const REPLICA_COUNTS = [1, 2, 3];
const IDLE_SECONDS = 10;
const WARM_UP_REQUESTS = 5000;

interface Row {
  replicas: number;
  eventsPerSecond: number;
  p99Ms: number;
  serverCpuMsPerEvent: number;
  postgresCpuMsPerEvent: number;
  /** CPU the replicas (all together) and the database's backends use per second with no requests at all. */
  idleServerCpuMsPerSecond: number;
  idlePostgresCpuMsPerSecond: number;
  errors: number;
  loadAverage: number;
}

async function measure(replicas: number): Promise<Row> {
  return withReplicas(PG_URL, replicas, {}, async (servers, token, databaseName) => {
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
    // Warm up every replica (caches, prepared statements, JIT) by a number of requests, not a time: on a busy machine a
    // replica serves few requests a second, and one measured before V8 optimised its code pays for the compiling.
    const warmed = servers.map(() => 0);
    for (let round = 0; round < 10 && warmed.some((n) => n < WARM_UP_REQUESTS); round++) {
      const warm = await Promise.all(servers.map((s) => runLoadProcess({ url: s.url, token, concurrency: 4, durationMs: 2000, request: 'pagerduty-mix', routingKeys })));
      warm.forEach((r, i) => (warmed[i]! += r.requests));
    }
    // What the replicas cost doing nothing (workers' polls, heartbeats), so the loaded rows can be read net of it.
    const idleServerBefore = servers.map((s) => s.cpuMs());
    const idlePg = startPostgresCpuMeter(databaseName);
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const idleServerCpu = servers.reduce((sum, s, i) => sum + (s.cpuMs() - idleServerBefore[i]!), 0);
    const idlePgCpu = idlePg.stop();
    const serverCpuBefore = servers.map((s) => s.cpuMs());
    const pgMeter = startPostgresCpuMeter(databaseName);
    const shares = servers.map((_, i) => Math.floor(TOTAL_CONCURRENCY / replicas) + (i < TOTAL_CONCURRENCY % replicas ? 1 : 0));
    const results: LoadResult[] = await Promise.all(
      servers.map((s, i) => runLoadProcess({ url: s.url, token, concurrency: shares[i]!, durationMs: SECONDS * 1000, request: 'pagerduty-mix', routingKeys })),
    );
    const serverCpu = servers.reduce((sum, s, i) => sum + (s.cpuMs() - serverCpuBefore[i]!), 0);
    const pgCpu = pgMeter.stop();
    const accepted = results.reduce((sum, r) => sum + (r.statusCounts['202'] ?? 0), 0);
    const seconds = Math.max(...results.map((r) => r.seconds));
    return {
      replicas,
      eventsPerSecond: accepted / seconds,
      p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      serverCpuMsPerEvent: serverCpu / accepted,
      postgresCpuMsPerEvent: pgCpu / accepted,
      idleServerCpuMsPerSecond: idleServerCpu / idleSeconds,
      idlePostgresCpuMsPerSecond: idlePgCpu / idleSeconds,
      errors: results.reduce((sum, r) => sum + r.errors, 0),
      loadAverage: os.loadavg()[0]!,
    };
  });
}

const rows: Row[] = [];
for (const replicas of REPLICA_COUNTS) {
  const row = await measure(replicas);
  rows.push(row);
  console.log(JSON.stringify(row));
}
const seconds = SECONDS;
/** CPU an event costs beyond what the replicas spend idle over the same time. */
const net = (perEvent: number, idlePerSecond: number, r: Row) => perEvent - (idlePerSecond * seconds) / (r.eventsPerSecond * seconds);
const table = rows
  .map(
    (r) =>
      `| ${r.replicas} | ${Math.round(r.eventsPerSecond).toLocaleString('en')} | ${r.p99Ms.toFixed(0)} | ${r.serverCpuMsPerEvent.toFixed(3)} | ${net(r.serverCpuMsPerEvent, r.idleServerCpuMsPerSecond, r).toFixed(3)} | ` +
      `${r.postgresCpuMsPerEvent.toFixed(3)} | ${net(r.postgresCpuMsPerEvent, r.idlePostgresCpuMsPerSecond, r).toFixed(3)} | ${r.idleServerCpuMsPerSecond.toFixed(0)} / ${r.idlePostgresCpuMsPerSecond.toFixed(0)} | ${r.errors} | ${r.loadAverage.toFixed(1)} |`,
  )
  .join('\n');
const single = rows[0]!;
const pgNet = net(single.postgresCpuMsPerEvent, single.idlePostgresCpuMsPerSecond, single);
const serverNet = net(single.serverCpuMsPerEvent, single.idleServerCpuMsPerSecond, single);
const idlePerReplica = rows.map((r) => r.idleServerCpuMsPerSecond / r.replicas);
const idlePgPerReplica = rows.map((r) => r.idlePostgresCpuMsPerSecond / r.replicas);
const range = (values: number[]) => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;
writeBenchmarkSection(
  'ingest-replicas',
  `## Ingest with several replicas on one PostgreSQL

\`npx tsx bench/ingest/replicas.ts\` on ${machineLine()}; the last column is the machine's 1-minute load average at the
end of the row (other work shares the machine, and every figure moves with it). 1, 2 and 3 \`firebreak serve\`
processes on one fresh PostgreSQL database; Events API v2 triggers (90% repeats of 50 open dedup keys, 10% new keys)
from separate load processes, 16 connections in all spread evenly over the replicas, ${SECONDS} s per row after a
warm-up of ${WARM_UP_REQUESTS.toLocaleString('en')} requests per replica. Server CPU is all replicas together; PostgreSQL CPU is the backends serving the bench database (the shared
WAL writer and checkpointer are left out: other databases use them too). "net" subtracts what the same replicas and
backends spent per second idle (measured for ${IDLE_SECONDS} s before the load, shown as server / PostgreSQL ms/s).

| replicas | accepted events/s | p99 ms | server CPU ms/event | net | PostgreSQL CPU ms/event | net | idle CPU ms/s | errors | load |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${table}

An idle replica costs ${range(idlePerReplica)} ms of its own CPU and ${range(idlePgPerReplica)} ms of PostgreSQL's per second
(its job worker's poll for due work every 200 ms, the timeline dispatcher, the heartbeat).
Where PostgreSQL becomes the limit: with one replica an event costs PostgreSQL ${pgNet.toFixed(3)} ms net, so a
database core carries about ${Math.round(1000 / pgNet).toLocaleString('en')} events/s at this mix, less ${range(idlePgPerReplica)} ms/s for each
replica; the server side needs ${serverNet.toFixed(3)} ms net per event, so one PostgreSQL core keeps
${(serverNet / pgNet).toFixed(1)} server cores busy before it saturates.`,
);
process.exit(0);
