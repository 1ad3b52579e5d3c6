/**
 * Storms at Alertmanager's cost: the same alerts sent, in one run on one machine, to Firebreak (its
 * Alertmanager webhook, SQLite, durable) and to Prometheus Alertmanager itself (its `POST /api/v2/alerts`,
 * in memory), with each server's CPU per alert from /proc. Also the cost of a new event on `/v2/enqueue`.
 *
 *   1. Firebreak webhook: GROUPS groups of 2,000 new alerts (one webhook request each, as Alertmanager
 *      sends a group): server CPU per alert and the latency of each request (p50, p99);
 *   2. Firebreak `/v2/enqueue`: ENQUEUE new events (new dedup keys), 16 in flight (after 3,000 not counted, to
 *      warm up as the webhook's first group does), then ENQUEUE / 5 one at a time: server CPU per event;
 *   3. Alertmanager (Debian's `prometheus-alertmanager`, installed with apt-get when missing), the same
 *      GROUPS × 2,000 alerts in requests of 2,000 to `/api/v2/alerts`, routed to a receiver that sends
 *      nowhere: its CPU per alert, measured until its API lists them all.
 *
 * Prints the CPU-per-alert ratio and writes the section bench:ingest-alertmanager of BENCHMARKS.md.
 * usage: npx tsx bench/ingest/alertmanager.ts [--groups 25] [--enqueue 5000] [--enqueue-warm-up 3000] [--no-write]
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { percentile } from '../../src/shared/stats.ts';
import { machineLine, writeBenchmarkSection } from '../support/report.ts';
import { apiClient, freePort, processCpuMs, spawnServer } from '../support/server.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const GROUPS = option('groups', 25);
const GROUP_SIZE = 2000;
const ENQUEUE = option('enqueue', 5000);
const ENQUEUE_SEQUENTIAL = Math.max(1, Math.round(ENQUEUE / 5));
const ENQUEUE_WARM_UP = option('enqueue-warm-up', 3000);
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const token = 'fbk_bench_admin_token_0123456789';

function ensureAlertmanager(): void {
  if (fs.existsSync(ALERTMANAGER)) return;
  console.log('installing prometheus-alertmanager (Debian package)');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus-alertmanager'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

const startsAt = new Date(Date.now() - 60_000).toISOString();
function alertsOfGroup(group: number) {
  return Array.from({ length: GROUP_SIZE }, (_, i) => ({
    labels: { alertname: `StormGroup${group}`, instance: `node-${i}.example:9100`, job: 'node', severity: i % 3 === 0 ? 'critical' : 'warning', service: 'storm' },
    annotations: { summary: `node-${i} of group ${group} is down`, description: 'Node exporter has not answered for 5 minutes.' },
    startsAt,
    generatorURL: `http://prometheus.example:9090/graph?g0.expr=up%7Bgroup%3D%22${group}%22%7D`,
  }));
}
function webhookOf(group: number) {
  const alerts = alertsOfGroup(group).map((a, i) => ({ status: 'firing', ...a, endsAt: '0001-01-01T00:00:00Z', fingerprint: `${group.toString(16)}-${i.toString(16).padStart(8, '0')}` }));
  return { version: '4', groupKey: `{}:{alertname="StormGroup${group}"}`, truncatedAlerts: 0, status: 'firing', receiver: 'firebreak', groupLabels: { alertname: `StormGroup${group}` }, commonLabels: { job: 'node' }, commonAnnotations: {}, externalURL: 'http://alertmanager.example:9093', alerts };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
}

function postWith(agent: http.Agent, url: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request({ agent, hostname, port, path: pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(payload);
  });
}

ensureAlertmanager();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-am-'));
const firebreak = await spawnServer(
  { FIREBREAK_DATABASE_URL: path.join(dir, 'bench.db'), FIREBREAK_BOOTSTRAP_TOKEN: token, FIREBREAK_CONFIG_DIR: dir, FIREBREAK_LOG_LEVEL: 'warn', FIREBREAK_OTLP_GRPC_PORT: '0' },
  { nodeArgs: process.env.FIREBREAK_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [] },
);
let result: { webhookCpuMs: number; webhookP50: number; webhookP99: number; enqueueCpuMs: number; enqueueSequentialCpuMs: number; alertmanagerCpuMs: number };
try {
  const api = apiClient(firebreak.url, token);
  await api('POST', '/api/v1/services', { id: 'storm' });
  const key = ((await api('POST', '/api/v1/integrations', { name: 'alertmanager', service: 'storm', rate_limit: { per_second: 100_000, burst: 1_000_000 } })) as { routing_key: string }).routing_key;
  // Warm-up: the first group compiles and caches what every later one uses.
  if ((await post(`${firebreak.url}/api/v1/integrations/alertmanager?key=${key}`, webhookOf(-1))) !== 202) throw new Error('warm-up group refused');

  // 1. Firebreak's webhook, one 2,000-alert group a request, one request at a time (as Alertmanager's one receiver sends).
  const bodies = Array.from({ length: GROUPS }, (_, g) => JSON.stringify(webhookOf(g)));
  const latencies: number[] = [];
  const cpuBefore = firebreak.cpuMs();
  for (const body of bodies) {
    const t = performance.now();
    const response = await fetch(`${firebreak.url}/api/v1/integrations/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
    await response.arrayBuffer();
    latencies.push(performance.now() - t);
    if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
  }
  const webhookCpuMs = (firebreak.cpuMs() - cpuBefore) / (GROUPS * GROUP_SIZE);
  latencies.sort((a, b) => a - b);
  console.log(`Firebreak webhook: ${webhookCpuMs.toFixed(4)} ms CPU per alert; request p50 ${percentile(latencies, 0.5)!.toFixed(0)} ms p99 ${percentile(latencies, 0.99)!.toFixed(0)} ms`);

  // 2. /v2/enqueue, new events only, 16 in flight over keep-alive connections (node:http: undici's fetch
  // costs the load generator so much CPU that on 2 cores it, not the server, would set the pace).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const enqueueNew = async (prefix: string, count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) {
          const i = next++;
          const status = await postWith(agent, `${firebreak.url}/v2/enqueue`, { routing_key: key, event_action: 'trigger', dedup_key: `${prefix}-${i}`, payload: { summary: `new event ${i}`, source: 'bench', severity: 'error' } });
          if (status !== 202) throw new Error(`/v2/enqueue answered ${status}`);
        }
      }),
    );
  };
  // Warm-up, as for the webhook: the first events of this route are slower while the server's JIT compiles
  // the path they take (a one-time cost, not a per-event one); they are not counted.
  await enqueueNew('enqueue-warm-up', ENQUEUE_WARM_UP);
  const enqueueBefore = firebreak.cpuMs();
  await enqueueNew('enqueue', ENQUEUE);
  const enqueueCpuMs = (firebreak.cpuMs() - enqueueBefore) / ENQUEUE;
  console.log(`Firebreak /v2/enqueue: ${enqueueCpuMs.toFixed(4)} ms CPU per new event, 16 in flight`);
  // The same one at a time: nothing to write together, every event its own transaction.
  const sequentialBefore = firebreak.cpuMs();
  for (let i = 0; i < ENQUEUE_SEQUENTIAL; i++) {
    const status = await postWith(agent, `${firebreak.url}/v2/enqueue`, { routing_key: key, event_action: 'trigger', dedup_key: `enqueue-alone-${i}`, payload: { summary: `new event alone ${i}`, source: 'bench', severity: 'error' } });
    if (status !== 202) throw new Error(`/v2/enqueue answered ${status}`);
  }
  const enqueueSequentialCpuMs = (firebreak.cpuMs() - sequentialBefore) / ENQUEUE_SEQUENTIAL;
  agent.destroy();
  console.log(`Firebreak /v2/enqueue: ${enqueueSequentialCpuMs.toFixed(4)} ms CPU per new event, one at a time`);

  // 3. Alertmanager itself, the same alerts.
  const amPort = await freePort();
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), "route:\n  receiver: nowhere\n  group_by: ['alertname']\nreceivers:\n  - name: nowhere\n");
  const am = spawn(ALERTMANAGER, [`--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: 'ignore' });
  try {
    const amUrl = `http://127.0.0.1:${amPort}`;
    for (let i = 0; ; i++) {
      if (await fetch(`${amUrl}/-/ready`).then((r) => r.ok).catch(() => false)) break;
      if (i > 300) throw new Error('alertmanager did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const amAlerts = Array.from({ length: GROUPS }, (_, g) => JSON.stringify(alertsOfGroup(g)));
    const amBefore = processCpuMs(am.pid!);
    for (const body of amAlerts) {
      const response = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`alertmanager answered ${response.status}`);
    }
    // It aggregates asynchronously: measured until its API lists every alert.
    for (let i = 0; i < 600; i++) {
      const listed = (await (await fetch(`${amUrl}/api/v2/alerts?active=true&silenced=false&inhibited=false`)).json()) as unknown[];
      if (listed.length >= GROUPS * GROUP_SIZE) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const alertmanagerCpuMs = (processCpuMs(am.pid!) - amBefore) / (GROUPS * GROUP_SIZE);
    console.log(`Alertmanager /api/v2/alerts: ${alertmanagerCpuMs.toFixed(4)} ms CPU per alert`);
    result = { webhookCpuMs, webhookP50: percentile(latencies, 0.5)!, webhookP99: percentile(latencies, 0.99)!, enqueueCpuMs, enqueueSequentialCpuMs, alertmanagerCpuMs };
  } finally {
    am.kill('SIGTERM');
  }
} finally {
  await firebreak.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

const ratio = result.webhookCpuMs / result.alertmanagerCpuMs;
console.log(`CPU per alert, Firebreak webhook / Alertmanager: ${ratio.toFixed(2)}×`);
const mark = (ok: boolean) => (ok ? 'met' : '**missed**');
const lines = [
  '## Alert storms against Alertmanager itself (`bench/ingest/alertmanager.ts`)',
  '',
  `${machineLine()}; load average at the end ${os.loadavg()[0]!.toFixed(1)}. The machine was shared with other work during the run, so CPU figures include ` +
    "some contention and wall-clock figures are upper bounds. Both servers ran on SQLite/in memory on 127.0.0.1 in the same run, fed the same " +
    `${GROUPS} groups of ${GROUP_SIZE.toLocaleString('en')} new alerts (one request per group, one at a time); CPU is each process's user + system time from /proc over its part, divided by the alerts. ` +
    'Firebreak commits every alert durably (alert rows, one incident per group, one timeline entry per group, correlation keys) before answering; Alertmanager keeps alerts in memory.',
  '',
  '| measure | Firebreak | Alertmanager 0.25 | target |',
  '| --- | --- | --- | --- |',
  `| server CPU per alert, 2,000-alert groups | ${result.webhookCpuMs.toFixed(3)} ms (webhook) | ${result.alertmanagerCpuMs.toFixed(3)} ms (\`POST /api/v2/alerts\`) | ≤ 0.15 ms: ${mark(result.webhookCpuMs <= 0.15)} |`,
  `| ratio Firebreak / Alertmanager | ${ratio.toFixed(2)}× | 1× | |`,
  `| 2,000-alert webhook latency p50 / p99 | ${result.webhookP50.toFixed(0)} / ${result.webhookP99.toFixed(0)} ms | – | p99 < 1 s: ${mark(result.webhookP99 < 1000)} |`,
  `| \`/v2/enqueue\` server CPU per new event (${ENQUEUE.toLocaleString('en')} new dedup keys, 16 in flight, after ${ENQUEUE_WARM_UP.toLocaleString('en')} not counted) | ${result.enqueueCpuMs.toFixed(3)} ms | – | ≤ 0.3 ms: ${mark(result.enqueueCpuMs <= 0.3)} |`,
  `| \`/v2/enqueue\` server CPU per new event, one at a time (${ENQUEUE_SEQUENTIAL.toLocaleString('en')} events, each its own transaction) | ${result.enqueueSequentialCpuMs.toFixed(3)} ms | – | |`,
];
if (!args.includes('--no-write')) writeBenchmarkSection('ingest-alertmanager', lines.join('\n'));
console.log(lines.join('\n'));
