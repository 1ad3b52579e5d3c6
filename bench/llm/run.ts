/**
 * OTLP ingest with the real OpenTelemetry JS SDK exporters: a real server process (SQLite in a temporary
 * directory, OTLP/gRPC on a free port) and, for each encoding (http/json, http/protobuf, grpc), a load
 * generator process (bench/llm/exporter-load.ts) that makes GenAI spans with the SDK and exports them.
 * Reports spans/s (from the first span made to the last export answered) and the server's CPU per span
 * (its user + system time over the run, from /proc), and writes the section bench:llm-exporters.
 *
 * usage: npx tsx bench/llm/run.ts [--spans 60000] [--no-write]
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { machineLine, writeBenchmarkSection, REPO_ROOT } from '../support/report.ts';
import { apiClient, freePort, spawnServer } from '../support/server.ts';

const exec = promisify(execFile);
const args = process.argv.slice(2);
const spansPerRun = Number(args[args.indexOf('--spans') + 1] ?? 60_000) || 60_000;
const token = 'fbk_bench_admin_token_0123456789';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-otlp-'));
const grpcPort = await freePort();
const server = await spawnServer({
  FIREBREAK_DATABASE_URL: path.join(dir, 'bench.db'),
  FIREBREAK_BOOTSTRAP_TOKEN: token,
  FIREBREAK_CONFIG_DIR: dir,
  FIREBREAK_OTLP_GRPC_PORT: String(grpcPort),
  FIREBREAK_LOG_LEVEL: 'warn',
});
const rows: { encoding: string; spans: number; seconds: number; spansPerSecond: number; serverCpuUsPerSpan: number; failures: number }[] = [];
try {
  const api = apiClient(server.url, token);
  await api('POST', '/api/v1/services', { id: 'bench-llm' });
  const key = ((await api('POST', '/api/v1/integrations', { name: 'otel-bench', service: 'bench-llm' })) as { routing_key: string }).routing_key;
  for (const encoding of ['http/json', 'http/protobuf', 'grpc'] as const) {
    const cpuBefore = server.cpuMs();
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'bench/llm/exporter-load.ts'), JSON.stringify({ encoding, httpUrl: server.url, grpcUrl: `http://127.0.0.1:${grpcPort}`, key, spans: spansPerRun, services: 4 })],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { spans: number; seconds: number; failures: number };
    const cpuMs = server.cpuMs() - cpuBefore;
    const row = { encoding, spans: result.spans, seconds: result.seconds, spansPerSecond: result.spans / result.seconds, serverCpuUsPerSpan: (cpuMs * 1000) / result.spans, failures: result.failures };
    rows.push(row);
    console.log(`${encoding}: ${row.spansPerSecond.toFixed(0)} spans/s, server CPU ${row.serverCpuUsPerSpan.toFixed(1)} µs/span, ${row.failures} failed`);
  }
  const stats = (await api('GET', `/api/v1/llm/stats?from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 600_000).toISOString()}`)) as { series: { points: { requests: number }[] }[] };
  const aggregated = stats.series.reduce((n, s) => n + s.points.reduce((m, p) => m + p.requests, 0), 0);
  console.log(`aggregated calls: ${aggregated} of ${rows.reduce((n, r) => n + r.spans - r.failures, 0)} sent`);
  const lines = [
    '## LLM telemetry: OTLP ingest with the real OpenTelemetry exporters (`bench/llm`)',
    '',
    `${machineLine()}; load average at the end ${os.loadavg()[0]!.toFixed(1)} — a machine shared with other work, so rates are lower bounds. ` +
      `One server process (SQLite); for each encoding a separate load-generator process makes ${spansPerRun.toLocaleString('en')} GenAI spans with the OpenTelemetry JS SDK ` +
      '(4 services, BatchSpanProcessor with 512-span batches) and exports them with the real exporter. spans/s runs from the first span made to the last export answered; ' +
      `server CPU is the server process's user + system time over the run divided by the spans. Every span was aggregated: ${aggregated} calls in the roll-ups. ` +
      'On this shared 2-core machine the rate is bounded by the load generator (the SDK making and serialising spans, on the same cores), so server CPU per span is the measure of Firebreak\'s own cost.',
    '',
    '| encoding | spans/s | server CPU per span | failed exports |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.encoding} | ${r.spansPerSecond.toFixed(0)} | ${r.serverCpuUsPerSpan.toFixed(1)} µs | ${r.failures} spans |`),
  ];
  if (!args.includes('--no-write')) writeBenchmarkSection('llm', lines.join('\n'));
  console.log(lines.join('\n'));
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
