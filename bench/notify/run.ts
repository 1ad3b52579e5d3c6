/**
 * Notification delivery latency, from the decision (the outbox row's `decided_at`) to receipt by a
 * local webhook receiver, at a fixed offered rate of notifications per second.
 *
 *   npx tsx bench/notify/run.ts [--rate 100] [--seconds 15]
 *
 * Starts `firebreak serve` as a separate process on 127.0.0.1 over a fresh SQLite file (or
 * FIREBREAK_BENCH_DATABASE_URL), configures a signed webhook channel pointing at a receiver in this
 * process, enqueues notifications through `POST /api/v1/notifications` on an open-loop schedule,
 * verifies every signature on receipt, and writes its section of BENCHMARKS.md.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { percentile } from '../../src/shared/stats.ts';
import { writeBenchmarkSection } from '../support/report.ts';
import { spawnServer } from '../support/server.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RATE = option('rate', 100);
const SECONDS = Math.min(option('seconds', 15), 60);
const TOTAL = RATE * SECONDS;
/** Sent first and not measured: JIT, schema compilation and connection set-up are not what we measure. */
const WARMUP = 200;
const TOKEN = 'fbk_bench_admin_token_0123456789';
const SECRET = 'bench-signing-secret-0123456789abcdef';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-notify-'));
  const databaseUrl = process.env.FIREBREAK_BENCH_DATABASE_URL ?? path.join(dir, 'bench.db');

  const latencies: number[] = [];
  let badSignatures = 0;
  const seen = new Set<string>();
  const target = { count: WARMUP };
  let allReceived: () => void = () => undefined;
  let done = new Promise<void>((resolve) => (allReceived = resolve));
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-firebreak-timestamp']);
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      if (expected !== req.headers['x-firebreak-signature']) badSignatures++;
      const payload = JSON.parse(body) as { delivery_id: number; decided_at: string };
      if (!seen.has(String(payload.delivery_id))) {
        seen.add(String(payload.delivery_id));
        latencies.push(receivedAt - Date.parse(payload.decided_at));
      }
      res.writeHead(200).end('ok');
      if (seen.size >= target.count) allReceived();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  // FIREBREAK_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server.
  const nodeArgs = process.env.FIREBREAK_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = await spawnServer(
    { FIREBREAK_DATABASE_URL: databaseUrl, FIREBREAK_BOOTSTRAP_TOKEN: TOKEN, FIREBREAK_SECRET_KEY: 'bench-secret-key-for-firebreak' },
    { nodeArgs },
  );
  const serverUrl = server.url;

  // A bounded keep-alive pool, as a real client would use: requests queue here instead of opening a
  // connection storm that the server's accept queue turns into connect timeouts.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const api = (method: string, route: string, body?: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = http.request(
        new URL(route, serverUrl),
        { method, agent, headers: { authorization: `Bearer ${TOKEN}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((response.statusCode ?? 500) >= 300) reject(new Error(`${method} ${route}: HTTP ${response.statusCode} ${text}`));
            else resolve(text ? (JSON.parse(text) as unknown) : undefined);
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });

  try {
    await api('POST', '/api/v1/notification-channels', { id: 'bench', kind: 'webhook', url: receiverUrl, signing_secret: SECRET, events: [] });
    const enqueueMs: number[] = [];
    let failedEnqueues = 0;
    const cpuSeconds = async () => {
      const response = await fetch(new URL('/metrics', serverUrl), { headers: { authorization: `Bearer ${TOKEN}` } });
      const match = /^firebreak_process_process_cpu_seconds_total\s+([\d.e+-]+)/m.exec(await response.text());
      return match ? Number(match[1]) : NaN;
    };
    const send = (i: number) =>
      api('POST', '/api/v1/notifications', { event: 'message', channel_ids: ['bench'], context: { message: { title: `bench ${i}`, text: 'latency probe' } } });
    for (let i = 0; i < WARMUP; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => send(-1 - i - j)));
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    latencies.length = 0;
    seen.clear();
    badSignatures = 0;
    target.count = TOTAL;
    done = new Promise<void>((resolve) => (allReceived = resolve));
    const cpuBefore = await cpuSeconds();
    const loadBefore = os.loadavg()[0]!;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    // Open loop: request i is sent at i / RATE seconds whatever the server's speed.
    for (let i = 0; i < TOTAL; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const sentAt = performance.now();
      inFlight.push(
        send(i).then(
          () => void enqueueMs.push(performance.now() - sentAt),
          (error: unknown) => {
            if (failedEnqueues++ === 0) console.error(`first failed enqueue: ${(error as Error).message} ${String((error as Error).cause ?? "")}`);
          },
        ),
      );
    }
    await Promise.all(inFlight);
    const offeredSeconds = (performance.now() - started) / 1000;
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 30_000))]);

    const serverCpuMs = ((await cpuSeconds()) - cpuBefore) * 1000;
    const sorted = [...latencies].sort((a, b) => a - b);
    const enqueueSorted = [...enqueueMs].sort((a, b) => a - b);
    const fmt = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);
    const result: Record<string, string | number> = {
      offered: `${TOTAL} notifications in ${offeredSeconds.toFixed(1)} s (${(TOTAL / offeredSeconds).toFixed(0)}/s)`,
      received: `${sorted.length} of ${TOTAL}`,
      p50: fmt(percentile(sorted, 0.5)),
      p99: fmt(percentile(sorted, 0.99)),
      max: fmt(sorted.length ? sorted[sorted.length - 1]! : null),
      enqueue_p50: fmt(percentile(enqueueSorted, 0.5)),
      enqueue_p99: fmt(percentile(enqueueSorted, 0.99)),
      failed_enqueues: failedEnqueues,
      bad_signatures: badSignatures,
      server_cpu: `${(serverCpuMs / TOTAL).toFixed(2)} ms per notification (${(serverCpuMs / 1000).toFixed(1)} s in all)`,
      load: `${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after`,
    };
    console.log(result);
    const achieved = TOTAL / offeredSeconds;
    if (achieved < RATE * 0.9) {
      result.note = `The offered rate fell short of ${RATE}/s (${achieved.toFixed(0)}/s): load generator and server were starved of CPU on the shared machine, so requests queued before the decision; the latency figures start at the decision and exclude that queueing (see the enqueue row).`;
    }
    writeSection(result, databaseUrl.startsWith('postgres') ? 'PostgreSQL' : 'SQLite');
  } finally {
    await server.stop();
    agent.destroy();
    receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function writeSection(result: Record<string, string | number>, database: string): void {
  const cpus = os.cpus();
  const section = [
    '## Notification delivery latency (`bench/notify`)',
    '',
    `${new Date().toISOString().slice(0, 10)} · machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}) · Node ${process.version} · ${database}`,
    '',
    `Decision (outbox row written) to receipt by a local signed-webhook receiver, server and receiver on 127.0.0.1,`,
    `offered open-loop through \`POST /api/v1/notifications\` at ${RATE}/s for ${SECONDS} s after ${WARMUP} unmeasured warm-up notifications. Run: \`npx tsx bench/notify/run.ts\`.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| offered | ${result.offered} |`,
    `| received (signature verified) | ${result.received}, ${result.bad_signatures} bad signatures |`,
    `| delivery latency p50 | ${result.p50} |`,
    `| delivery latency p99 | ${result.p99} |`,
    `| delivery latency max | ${result.max} |`,
    `| enqueue API latency p50 / p99 | ${result.enqueue_p50} / ${result.enqueue_p99} |`,
    `| failed enqueues | ${result.failed_enqueues} |`,
    `| server CPU (enqueue + delivery + bookkeeping) | ${result.server_cpu} |`,
    `| 1-minute load average (shared machine) | ${result.load} |`,
    ...(result.note ? ['', String(result.note)] : []),
  ].join('\n');
  writeBenchmarkSection('notify', section);
}

await main();
