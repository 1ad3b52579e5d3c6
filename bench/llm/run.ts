/**
 * OTLP ingest throughput: starts a real server process on 127.0.0.1 (SQLite in a temporary
 * directory), creates a service and an integration key per synthetic service, runs the load
 * generator (bench/llm/load.ts) as a separate process against POST /v1/traces, and records the
 * figures in BENCHMARKS.md (section bench:llm).
 *
 * usage: npx tsx bench/llm/run.ts [--requests 600] [--concurrency 4] [--max-seconds 60] [--no-write]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBenchmarkSection } from '../support/report.ts';
import { apiClient, spawnServer, type ServerProcess } from '../support/server.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const requests = option('requests', 600);
const concurrency = option('concurrency', 4);
const maxSeconds = option('max-seconds', 60);
const TARGET = 20_000;
const token = 'fbk_bench_admin_token_0123456789';

const loadAverage = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-llm-'));
fs.writeFileSync(
  path.join(dir, 'slos.yaml'),
  ['slos:', ...[0, 1, 2, 3].map((i) => `  - { service: svc-${i}, kind: availability, objective: 0.999 }\n  - { service: svc-${i}, kind: latency, objective: 0.99, threshold_ms: 5000 }`)].join('\n') + '\n',
);

let server: ServerProcess | undefined;
try {
  server = await spawnServer({
    FIREBREAK_DATABASE_URL: path.join(dir, 'firebreak.db'),
    FIREBREAK_BOOTSTRAP_TOKEN: token,
    FIREBREAK_CONFIG_DIR: dir,
  });
  const baseUrl = server.url;
  const api = apiClient(baseUrl, token);
  for (let i = 0; i < 4; i++) await api('POST', '/api/v1/services', { id: `svc-${i}`, tier: 2 });
  const integration = await api<{ routing_key: string }>('POST', '/api/v1/integrations', { name: 'bench', service: 'svc-0' });

  const load = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'load.ts'), baseUrl, integration.routing_key, String(requests), String(concurrency), String(maxSeconds)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let loadOutput = '';
  load.stdout!.on('data', (chunk: Buffer) => (loadOutput += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => load.on('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const result = JSON.parse(loadOutput.trim().split('\n').pop()!) as {
    requests: number;
    failed: number;
    spans: number;
    rejectedSpans: number;
    seconds: number;
    spansPerSecond: number;
    bodyBytes: number;
    p50Ms: number;
    p99Ms: number;
  };
  const metrics = await api<string>('GET', '/metrics');
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const rssMiB = metric('firebreak_process_process_resident_memory_bytes') / 2 ** 20;
  const accepted = metric('firebreak_llm_calls_total');
  const openBuckets = metric('firebreak_llm_open_buckets');
  console.log(JSON.stringify({ ...result, accepted, rssMiB, openBuckets }));

  const date = new Date().toISOString().slice(0, 10);
  const md = [
    '## LLM telemetry: OTLP ingest throughput (`bench/llm`)',
    '',
    `Run with \`npx tsx bench/llm/run.ts\` on ${date}; ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, 2 cores shared by the server and the load generator, Node ${process.version}.`,
    `Load average at the start of the run: ${loadAverage} (other work shares these 2 cores, so this is a floor, not a ceiling).`,
    `A real server process (SQLite, 4 services with availability and latency SLOs, detectors on) receives OTLP/JSON export requests of 512 GenAI spans (${(result.bodyBytes / 1024).toFixed(0)} KiB each) from a separate load-generator process over ${concurrency} keep-alive connections.`,
    '',
    '| spans/s | target | requests | spans | failed requests | rejected spans | request p50 | request p99 | server RSS after | open buckets after |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| **${Math.round(result.spansPerSecond).toLocaleString('en-US')}** | ${TARGET.toLocaleString('en-US')} | ${result.requests} | ${result.spans.toLocaleString('en-US')} | ${result.failed} | ${result.rejectedSpans} | ${result.p50Ms.toFixed(0)} ms | ${result.p99Ms.toFixed(0)} ms | ${rssMiB.toFixed(0)} MiB | ${openBuckets} |`,
    '',
    result.spansPerSecond >= TARGET ? `Target (≥ ${TARGET.toLocaleString('en-US')} spans/s) met.` : `Target (≥ ${TARGET.toLocaleString('en-US')} spans/s) not met.`,
  ].join('\n');
  if (!args.includes('--no-write')) writeBenchmarkSection('llm', md);
  console.log(md);
} finally {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
