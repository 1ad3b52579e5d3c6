/**
 * Step-scheduling overhead of the plan executor: how many steps per second one server schedules and
 * records when every step is an HTTP call to a no-op local target, on SQLite and on PostgreSQL.
 *
 *   npx tsx bench/plans/run.ts                       # SQLite only
 *   BENCH_PG_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres npx tsx bench/plans/run.ts
 *
 * The server runs as a separate process (`firebreak serve`) on 127.0.0.1; the load is bounded
 * (EXECUTIONS × STEPS steps, and a hard time limit). Writes its section of BENCHMARKS.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { createTestDatabase } from '../../test/support/database-factory.ts';
import { writeBenchmarkSection } from '../support/report.ts';
import { apiClient, spawnServer } from '../support/server.ts';

const TOKEN = 'fbk_bench_admin_token_0123456789';
const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 40);
const LIMIT_MS = 120_000;

interface Result {
  database: string;
  executions: number;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  chainStepMs: number;
}

async function startTarget(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + LIMIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function measure(label: string, databaseUrl: string): Promise<Result> {
  const target = await startTarget();
  const server = await spawnServer({
    FIREBREAK_DATABASE_URL: databaseUrl,
    FIREBREAK_BOOTSTRAP_TOKEN: TOKEN,
    FIREBREAK_WORKERS: 'true',
    FIREBREAK_PLAN_POLL_MS: '20',
  });
  const api = apiClient(server.url, TOKEN);
  try {
    // A fan-out/fan-in plan: 4 independent steps, then 4 that each need one of them.
    const fan = {
      id: 'bench-fan',
      name: 'bench fan-out',
      steps: [
        ...[1, 2, 3, 4].map((i) => ({ id: `a${i}`, type: 'http', with: { method: 'POST', url: `${target.url}/a${i}` } })),
        ...[1, 2, 3, 4].map((i) => ({ id: `b${i}`, type: 'http', needs: [`a${i}`], with: { method: 'POST', url: `${target.url}/b${i}` } })),
      ],
    };
    // A chain of 10 dependent steps: the per-step latency a responder sees.
    const chain = {
      id: 'bench-chain',
      name: 'bench chain',
      steps: Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, type: 'http', ...(i ? { needs: [`s${i - 1}`] } : {}), with: { method: 'POST', url: `${target.url}/s${i}` } })),
    };
    await api('POST', '/api/v1/plans', fan);
    await api('POST', '/api/v1/plans', chain);
    const incidents: string[] = [];
    for (let i = 0; i < EXECUTIONS; i++) incidents.push((await api<{ id: string }>('POST', '/api/v1/incidents', { title: `bench ${i}`, severity: 'low' })).id);

    const steps = EXECUTIONS * fan.steps.length;
    const started = performance.now();
    await Promise.all(incidents.map((id) => api('POST', '/api/v1/plans/bench-fan/run', { incident_id: id })));
    await waitFor(() => target.hits() >= steps, `${steps} steps`);
    const seconds = (performance.now() - started) / 1000;

    const before = target.hits();
    const chainStarted = performance.now();
    const execution = await api<{ id: string }>('POST', '/api/v1/plans/bench-chain/run', { incident_id: incidents[0] });
    await waitFor(async () => (await api<{ status: string }>('GET', `/api/v1/executions/${execution.id}`)).status === 'succeeded', 'the chain');
    const chainStepMs = (performance.now() - chainStarted) / 10;
    if (target.hits() - before !== 10) throw new Error(`chain made ${target.hits() - before} requests, expected 10`);
    return { database: label, executions: EXECUTIONS, steps, seconds, stepsPerSecond: steps / seconds, chainStepMs };
  } finally {
    await server.stop();
    await target.close();
  }
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const sqlite = await createTestDatabase('sqlite');
  try {
    results.push(await measure('SQLite', sqlite.url));
  } finally {
    await sqlite.drop();
  }
  const pgUrl = process.env.BENCH_PG_URL;
  if (pgUrl) {
    const postgres = await createTestDatabase('postgres', pgUrl);
    try {
      results.push(await measure('PostgreSQL', postgres.url));
    } finally {
      await postgres.drop();
    }
  }
  for (const r of results) console.log(`${r.database}: ${r.steps} steps in ${r.seconds.toFixed(2)} s = ${r.stepsPerSecond.toFixed(1)} steps/s; chain ${r.chainStepMs.toFixed(1)} ms/step`);
  writeSection(results);
}

function writeSection(results: Result[]): void {
  const load = os.loadavg()[0]!.toFixed(1);
  const section = [
    '## Plans: step-scheduling overhead',
    '',
    `${new Date().toISOString().slice(0, 10)}, machine: ${os.cpus().length} cores (load average ${load} while measuring), node ${process.version}. ` +
      '`npx tsx bench/plans/run.ts` (PostgreSQL with `BENCH_PG_URL`). One `firebreak serve` process; every step is an HTTP POST to a no-op ' +
      'local target, so the figures are the executor’s own cost: claim with a lease, timeline entries, result, deciding what runs next.',
    '',
    '| database | executions | steps | wall time | steps/s (fan-out plan, 8 steps) | latency per step (chain of 10) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.database} | ${r.executions} | ${r.steps} | ${r.seconds.toFixed(2)} s | ${r.stepsPerSecond.toFixed(1)} | ${r.chainStepMs.toFixed(1)} ms |`),
  ].join('\n');
  writeBenchmarkSection('plans', section);
}

await main();
