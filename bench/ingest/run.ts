/**
 * Ingestion benchmark: drives a real `firebreak serve` process (spawned like test/support/server.ts
 * does) from this separate process over HTTP on 127.0.0.1, on SQLite and on PostgreSQL.
 *
 *   1. mixed load: Events API v2 triggers for 10 services, 90% repeats of existing dedup keys and 10%
 *      new keys, for a bounded time; accepted events/s and client-side p50/p99 latency;
 *   2. storm: 100,000 events for one service; checks that exactly one incident was opened and that it
 *      counts 100,000 occurrences;
 *   3. correlation: 100,000 incidents seeded directly through the store, then /related latency.
 *
 * Usage: npx tsx bench/ingest/run.ts [sqlite] [postgres]   (PostgreSQL at FIREBREAK_BENCH_PG_URL,
 * default postgres://postgres:postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped).
 * Writes its section of BENCHMARKS.md.
 *
 * For A/B runs: BENCH_PHASES=mixed runs only the mixed load (and then writes nothing); the server's and
 * the load generator's CPU time per event are printed, since wall-clock rates on a shared machine are
 * noisy. FIREBREAK_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { percentile } from '../../src/shared/stats.ts';
import { createTestDatabase } from '../../test/support/database-factory.ts';
import { writeBenchmarkSection } from '../support/report.ts';
import { spawnServer, type ServerProcess } from '../support/server.ts';
import { seedIncidents } from './seed.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

const PG_URL = process.env.FIREBREAK_BENCH_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const TOKEN = `fbk_bench_${randomBytes(12).toString('hex')}`;
const MIXED_SECONDS = Number(process.env.BENCH_MIXED_SECONDS ?? 20);
const MIXED_MAX_EVENTS = 200_000;
const STORM_EVENTS = Number(process.env.BENCH_STORM_EVENTS ?? 100_000);
const SEEDED_INCIDENTS = Number(process.env.BENCH_SEEDED_INCIDENTS ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const OVERALL_TIMEOUT_MS = 20 * 60_000;
/** The share of new dedup keys in the mixed load; the rest repeat existing ones. Change it only to take the two paths apart. */
const NEW_SHARE = Number(process.env.BENCH_NEW_SHARE ?? 0.1);
const PHASES = new Set((process.env.BENCH_PHASES ?? 'mixed,storm,related').split(','));
const SERVER_NODE_ARGS = process.env.FIREBREAK_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15 (clock ticks, 100 a second).
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

type Kind = 'sqlite' | 'postgres';

interface Client {
  request(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: string }>;
  close(): void;
}

function client(base: string, sockets: number): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const { hostname, port } = new URL(base);
  return {
    request(method, url, body, token = TOKEN) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            agent, hostname, port, method, path: url,
            headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

async function json<T>(c: Client, method: string, url: string, body?: unknown): Promise<T> {
  const res = await c.request(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
}

interface LoadResult {
  sent: number;
  accepted: number;
  rejected: number;
  seconds: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  /** Milliseconds of CPU per accepted event, in the server process and in this (load generator) process. */
  serverCpuMs?: number | null;
  clientCpuMs?: number;
}

/** Runs `next()` with `concurrency` requests in flight until it returns null or time runs out. */
async function drive(c: Client, concurrency: number, maxEvents: number, maxMs: number, next: (i: number) => unknown): Promise<LoadResult> {
  const latencies = new Float64Array(maxEvents);
  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  const started = performance.now();
  const deadline = started + maxMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < maxEvents && performance.now() < deadline) {
        const i = sent++;
        const body = next(i);
        const t = performance.now();
        const res = await c.request('POST', '/v2/enqueue', body, null);
        latencies[i] = performance.now() - t;
        if (res.status === 202) accepted++;
        else {
          rejected++;
          if (rejected < 5) console.error(`rejected: ${res.status} ${res.body}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = Array.from(latencies.subarray(0, sent)).sort((a, b) => a - b);
  return { sent, accepted, rejected, seconds, eventsPerSecond: accepted / seconds, p50: percentile(sorted, 0.5) ?? 0, p99: percentile(sorted, 0.99) ?? 0 };
}

/** Sends `total` alerts in requests of `perRequest`, `concurrency` requests in flight; latency is per request. */
async function driveBatches(
  c: Client,
  url: string,
  concurrency: number,
  total: number,
  perRequest: number,
  maxMs: number,
  batch: (first: number, count: number) => unknown,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total && performance.now() - started < maxMs) {
        const first = sent;
        const count = Math.min(perRequest, total - sent);
        sent += count;
        const body = batch(first, count);
        const t = performance.now();
        const res = await c.request('POST', url, body, null);
        latencies.push(performance.now() - t);
        if (res.status === 202) accepted += count;
        else {
          rejected += count;
          console.error(`rejected: ${res.status} ${res.body.slice(0, 300)}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { sent, accepted, rejected, seconds, eventsPerSecond: accepted / seconds, p50: percentile(latencies, 0.5) ?? 0, p99: percentile(latencies, 0.99) ?? 0 };
}

function trigger(routingKey: string, dedupKey: string, summary: string) {
  return { routing_key: routingKey, event_action: 'trigger', dedup_key: dedupKey, payload: { summary, source: 'bench-prometheus', severity: 'error', component: 'api' } };
}

interface KindResult {
  kind: Kind;
  mixed: LoadResult;
  /** Absent when BENCH_PHASES leaves the storm and the correlation phase out. */
  storm?: LoadResult & { incidents: number; occurrences: number; alerts: number };
  related?: { incidents: number; seedSeconds: number; samples: number; p50: number; p99: number; candidatesMean: number };
}

/** The server the bench is running now, so the overall time bound can stop it. */
let runningServer: ServerProcess | undefined;

async function benchKind(kind: Kind): Promise<KindResult> {
  const database = await createTestDatabase(kind, PG_URL);
  let server: ServerProcess | undefined;
  try {
    server = runningServer = await spawnServer(
      { FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: TOKEN, FIREBREAK_CONFIG_DIR: path.join(REPO_ROOT, 'bench/ingest') },
      { nodeArgs: SERVER_NODE_ARGS },
    );
    const c = client(server.url, CONCURRENCY * 2);
    const services = Array.from({ length: 10 }, (_, i) => `svc-${i}`);
    const keys: string[] = [];
    for (const id of services) {
      await json(c, 'POST', '/api/v1/services', { id });
      keys.push((await json<{ routing_key: string }>(c, 'POST', '/api/v1/integrations', { name: `${id}-prom`, service: id, rate_limit: { per_second: 100_000, burst: 1_000_000 } })).routing_key);
    }

    // Mixed load: 1,000 alerts exist first (100 per service); then 90% repeats, 10% new.
    const pool: { key: string; dedup: string }[] = [];
    for (let i = 0; i < 1000; i++) pool.push({ key: keys[i % 10]!, dedup: `alert-${i}` });
    await drive(c, CONCURRENCY, pool.length, 120_000, (i) => trigger(pool[i]!.key, pool[i]!.dedup, `warm-up ${i}`));
    let created = pool.length;
    console.log(`[${kind}] mixed load for ${MIXED_SECONDS}s`);
    const serverCpuBefore = processCpuSeconds(server.child.pid);
    const clientCpuBefore = process.cpuUsage();
    const mixed = await drive(c, CONCURRENCY, MIXED_MAX_EVENTS, MIXED_SECONDS * 1000, () => {
      if (Math.random() < NEW_SHARE) {
        const entry = { key: keys[created % 10]!, dedup: `alert-${created++}` };
        pool.push(entry);
        return trigger(entry.key, entry.dedup, `new alert ${entry.dedup}`);
      }
      const entry = pool[Math.floor(Math.random() * pool.length)]!;
      return trigger(entry.key, entry.dedup, `repeat of ${entry.dedup}`);
    });
    const serverCpuAfter = processCpuSeconds(server.child.pid);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    mixed.serverCpuMs = serverCpuBefore === null || serverCpuAfter === null ? null : ((serverCpuAfter - serverCpuBefore) * 1000) / mixed.accepted;
    mixed.clientCpuMs = (clientCpu.user + clientCpu.system) / 1000 / mixed.accepted;
    console.log(
      `[${kind}] mixed: ${mixed.eventsPerSecond.toFixed(0)} events/s p50 ${mixed.p50.toFixed(1)} ms p99 ${mixed.p99.toFixed(1)} ms; ` +
        `CPU per event: server ${mixed.serverCpuMs?.toFixed(3) ?? '?'} ms, load generator ${mixed.clientCpuMs.toFixed(3)} ms; load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
    if (!PHASES.has('storm')) {
      c.close();
      return { kind, mixed };
    }

    // Storm: one service, 100,000 events, 10% of them new alerts, many in flight at once.
    await json(c, 'POST', '/api/v1/services', { id: 'storm' });
    const stormKey = (await json<{ routing_key: string }>(c, 'POST', '/api/v1/integrations', { name: 'storm', service: 'storm', rate_limit: { per_second: 100_000, burst: 1_000_000 } })).routing_key;
    // Monitoring sends a storm in batches (Alertmanager groups alerts); 100 alerts a request, 10% of them new.
    console.log(`[${kind}] storm of ${STORM_EVENTS} events`);
    let stormAlerts = 0;
    const startsAt = new Date().toISOString();
    const stormAlert = (i: number) => {
      const n = i % 10 === 0 || stormAlerts === 0 ? stormAlerts++ : Math.floor(Math.random() * stormAlerts);
      return {
        status: 'firing',
        labels: { alertname: 'UpstreamTimeout', replica: `storm-${n}`, severity: n % 2 ? 'error' : 'critical' },
        annotations: { summary: `replica storm-${n}: upstream timing out` },
        startsAt,
        fingerprint: `storm-${n}`,
      };
    };
    const stormRun = await driveBatches(c, `/api/v1/integrations/alertmanager?key=${stormKey}`, CONCURRENCY / 2, STORM_EVENTS, 100, 15 * 60_000, (first, count) => ({
      version: '4',
      status: 'firing',
      receiver: 'firebreak',
      groupLabels: { alertname: 'UpstreamTimeout' },
      alerts: Array.from({ length: count }, (_, j) => stormAlert(first + j)),
    }));
    const incidents = await json<{ items: { id: string }[] }>(c, 'GET', '/api/v1/incidents?service=storm&limit=500');
    const summary = incidents.items[0] ? (await json<{ summary: { occurrences: number; alerts: number } }>(c, 'GET', `/api/v1/incidents/${incidents.items[0].id}/alerts?limit=1`)).summary : { occurrences: 0, alerts: 0 };
    const storm = { ...stormRun, incidents: incidents.items.length, occurrences: summary.occurrences, alerts: summary.alerts };
    console.log(`[${kind}] storm: ${storm.incidents} incident(s), ${storm.occurrences} occurrences, ${storm.eventsPerSecond.toFixed(0)} events/s`);
    if (!PHASES.has('related')) {
      c.close();
      return { kind, mixed, storm };
    }

    // Correlation over 100,000 incidents seeded directly through the store.
    console.log(`[${kind}] seeding ${SEEDED_INCIDENTS} incidents`);
    const seedStarted = performance.now();
    const seeded = await seedIncidents(database.url, SEEDED_INCIDENTS);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const latencies: number[] = [];
    let candidates = 0;
    for (let i = 0; i < 300; i++) {
      const id = seeded[Math.floor(Math.random() * seeded.length)]!;
      const t = performance.now();
      const related = await json<{ candidates: unknown[] }>(c, 'GET', `/api/v1/incidents/${id}/related`);
      latencies.push(performance.now() - t);
      candidates += related.candidates.length;
    }
    latencies.sort((a, b) => a - b);
    const related = { incidents: SEEDED_INCIDENTS, seedSeconds, samples: latencies.length, p50: percentile(latencies, 0.5)!, p99: percentile(latencies, 0.99)!, candidatesMean: candidates / latencies.length };
    console.log(`[${kind}] related: p50 ${related.p50.toFixed(1)} ms p99 ${related.p99.toFixed(1)} ms over ${SEEDED_INCIDENTS} incidents`);
    c.close();
    return { kind, mixed, storm, related };
  } finally {
    await server?.stop();
    await database.drop();
  }
}

type CompleteResult = Required<KindResult>;

function render(results: CompleteResult[]): string {
  const load = (os.loadavg()[0] ?? 0).toFixed(1);
  const lines = [
    `## Alert ingestion (\`bench/ingest\`)`,
    '',
    `${new Date().toISOString().slice(0, 10)}, machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}; ` +
      `load average when done: ${load} (the machine is shared, so figures are lower bounds). Server and load generator are separate processes on 127.0.0.1; ` +
      `${CONCURRENCY} connections for the mixed load, ${CONCURRENCY / 2} for the storm; latency measured by the client. ` +
      `CPU per event is the server process's user + system time over the mixed load divided by the events it accepted (the load generator's own is in parentheses).`,
    '',
    '| database | mixed load (90% repeats, 10% new), Events API | p50 | p99 | CPU per event: server (load generator) | storm alerts/s (Alertmanager, 100 a request) | storm p99 per request | storm result | `/related` p50 / p99 with 100,000 incidents |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.kind} | ${r.mixed.eventsPerSecond.toFixed(0)} events/s (${r.mixed.accepted} in ${r.mixed.seconds.toFixed(1)} s, ${r.mixed.rejected} rejected) | ${r.mixed.p50.toFixed(1)} ms | ${r.mixed.p99.toFixed(1)} ms | ` +
        `${r.mixed.serverCpuMs?.toFixed(3) ?? '?'} ms (${r.mixed.clientCpuMs?.toFixed(3) ?? '?'} ms) | ` +
        `${r.storm.eventsPerSecond.toFixed(0)} | ${r.storm.p99.toFixed(1)} ms | ${r.storm.sent} events → **${r.storm.incidents} incident**, ${r.storm.alerts} alerts, ${r.storm.occurrences} occurrences | ` +
        `${r.related.p50.toFixed(1)} / ${r.related.p99.toFixed(1)} ms (${r.related.samples} lookups, ${r.related.candidatesMean.toFixed(1)} candidates each; seeded in ${r.related.seedSeconds.toFixed(0)} s) |`,
    );
  }
  lines.push('', 'Targets: ≥ 5,000 events/s sustained on SQLite with p99 < 50 ms; the storm opens exactly one incident.');
  return lines.join('\n');
}

const kinds = (process.argv.slice(2).filter((a) => a === 'sqlite' || a === 'postgres') as Kind[]);
const selected: Kind[] = kinds.length ? kinds : ['sqlite', 'postgres'];
const timer = setTimeout(() => {
  console.error('benchmark exceeded its time bound');
  // Stop the server it started, or it outlives the bench and keeps loading the machine.
  void (runningServer?.stop() ?? Promise.resolve()).finally(() => process.exit(2));
}, OVERALL_TIMEOUT_MS);
const results: KindResult[] = [];
for (const kind of selected) results.push(await benchKind(kind));
clearTimeout(timer);
const complete = results.filter((r): r is CompleteResult => r.storm !== undefined && r.related !== undefined);
if (complete.length === results.length) {
  const section = render(complete);
  writeBenchmarkSection('ingest', section);
  console.log(section);
} else {
  console.log('some phases were left out (BENCH_PHASES); BENCHMARKS.md is left as it was');
}
const failed = results.some((r) => r.storm !== undefined && r.storm.incidents !== 1);
process.exit(failed ? 1 : 0);
