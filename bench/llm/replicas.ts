/**
 * LLM telemetry with several replicas: 1, 2 and 3 `firebreak serve` processes on one PostgreSQL database, each fed
 * by its own load-generator process that makes GenAI spans with the real OpenTelemetry JS SDK and exports them over
 * http/protobuf (bench/llm/exporter-load.ts). Every generator uses the same 4 services, so every series' minutes are
 * split over the replicas and must be merged. Reports spans/s, server CPU per span (all replicas together),
 * PostgreSQL CPU per span, and whether the merged statistics count every call exactly once.
 *
 * usage: npx tsx bench/llm/replicas.ts [--spans 180000] [--no-write]   (PostgreSQL at FIREBREAK_BENCH_PG_URL)
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { machineLine, writeBenchmarkSection, REPO_ROOT } from '../support/report.ts';
import { apiClient, startPostgresCpuMeter, withReplicas, type ServerProcess } from '../support/server.ts';

const exec = promisify(execFile);
const args = process.argv.slice(2);
// Long enough that a row is 10 s or more of export at these rates, so start-up and JIT warm-up weigh little.
const spansPerRow = Number(args[args.indexOf('--spans') + 1] ?? 180_000) || 180_000;
/** Sent to every replica before the measured row (caches, prepared statements, JIT), and counted like the rest. */
const WARM_UP_SPANS = 10_000;
const PG_URL = process.env.FIREBREAK_BENCH_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const REPLICA_COUNTS = [1, 2, 3];

interface Row {
  replicas: number;
  spansPerSecond: number;
  serverCpuUsPerSpan: number;
  postgresCpuUsPerSpan: number;
  failures: number;
  aggregated: number;
  sent: number;
}

async function measure(replicas: number): Promise<Row> {
  return withReplicas(PG_URL, replicas, { FIREBREAK_OTLP_GRPC_PORT: '0' }, async (servers, token, databaseName) => {
    const api = apiClient(servers[0]!.url, token);
    await api('POST', '/api/v1/services', { id: 'bench-llm' });
    const key = ((await api('POST', '/api/v1/integrations', { name: 'otel-bench', service: 'bench-llm', rate_limit: { per_second: 100_000, burst: 100_000 } })) as { routing_key: string }).routing_key;
    const startedAt = new Date();
    const exportSpans = (server: ServerProcess, spans: number) =>
      exec(
        process.execPath,
        ['--import', 'tsx', path.join(REPO_ROOT, 'bench/llm/exporter-load.ts'), JSON.stringify({ encoding: 'http/protobuf', httpUrl: server.url, grpcUrl: '', key, spans, services: 4 })],
        { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 },
      ).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop()!) as { spans: number; seconds: number; failures: number });
    const warmUp = await Promise.all(servers.map((server) => exportSpans(server, WARM_UP_SPANS)));
    const serverCpuBefore = servers.map((s) => s.cpuMs());
    const pgMeter = startPostgresCpuMeter(databaseName);
    const share = Math.floor(spansPerRow / replicas);
    const results = await Promise.all(servers.map((server) => exportSpans(server, share)));
    const serverCpu = servers.reduce((sum, s, i) => sum + (s.cpuMs() - serverCpuBefore[i]!), 0);
    const pgCpu = pgMeter.stop();
    const spans = results.reduce((n, r) => n + r.spans, 0);
    const failures = results.reduce((n, r) => n + r.failures, 0);
    const warmUpSent = warmUp.reduce((n, r) => n + r.spans - r.failures, 0);
    // Statistics read every replica's open minutes as well as the merged ones, so all calls count at once.
    const stats = (await api('GET', `/api/v1/llm/stats?from=${new Date(startedAt.getTime() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 600_000).toISOString()}`)) as {
      series: { points: { requests: number }[] }[];
    };
    return {
      replicas,
      spansPerSecond: spans / Math.max(...results.map((r) => r.seconds)),
      serverCpuUsPerSpan: (serverCpu * 1000) / spans,
      postgresCpuUsPerSpan: (pgCpu * 1000) / spans,
      failures,
      aggregated: stats.series.reduce((n, s) => n + s.points.reduce((m, p) => m + p.requests, 0), 0),
      sent: warmUpSent + spans - failures,
    };
  });
}

const rows: Row[] = [];
for (const replicas of REPLICA_COUNTS) {
  const row = await measure(replicas);
  rows.push(row);
  console.log(JSON.stringify(row));
}
const lines = [
  '## LLM telemetry with several replicas on one PostgreSQL (`bench/llm/replicas.ts`)',
  '',
  `${machineLine()}; load average at the end ${os.loadavg()[0]!.toFixed(1)}. 1, 2 and 3 \`firebreak serve\` processes on one fresh ` +
    `PostgreSQL database; ${spansPerRow.toLocaleString('en')} GenAI spans per row after a warm-up of ${WARM_UP_SPANS.toLocaleString('en')} per replica ` +
    '(counted in the check below, not in the rates), split evenly over one load-generator process per replica ' +
    '(the real OpenTelemetry JS SDK, http/protobuf exporter, the same 4 services in every generator, so each series\' minutes arrive at ' +
    'every replica and are merged). Server CPU is all replicas together; PostgreSQL CPU is the backends serving the bench database. ' +
    '"counted" is the calls `/api/v1/llm/stats` reports (merged minutes plus every replica\'s open ones) against the calls accepted.',
  '',
  '| replicas | spans/s | server CPU per span | PostgreSQL CPU per span | failed exports | counted / accepted |',
  '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.replicas} | ${Math.round(r.spansPerSecond).toLocaleString('en')} | ${r.serverCpuUsPerSpan.toFixed(1)} µs | ${r.postgresCpuUsPerSpan.toFixed(1)} µs | ${r.failures} | ${r.aggregated.toLocaleString('en')} / ${r.sent.toLocaleString('en')} |`,
  ),
  '',
  'Everything here shares 2 cores with the load generators, so added replicas cannot add throughput on this machine; the rows ' +
    'show what a replica adds per span (its own partial rows per series-minute and its share of the merge jobs) and that split ' +
    `traffic is counted once. PostgreSQL's cost per span with one replica puts its limit at about ` +
    `${Math.round(1_000_000 / rows[0]!.postgresCpuUsPerSpan).toLocaleString('en')} spans/s per database core at this batch size (512 spans an export).`,
];
if (!args.includes('--no-write')) writeBenchmarkSection('llm-replicas', lines.join('\n'));
console.log(lines.join('\n'));
process.exit(0);
