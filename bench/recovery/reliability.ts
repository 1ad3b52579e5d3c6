/**
 * How long the recovery read paths take over a realistic history: seeds incidents (with lifecycle moves,
 * recovery plans, verifications and action items) through the HTTP API of a real server process, then
 * times `GET /api/v1/metrics/reliability`, `GET …/recovery` and the Markdown export.
 *
 *   npx tsx bench/recovery/reliability.ts [incidents=400]
 *
 * Bounded: at most 2,000 incidents, 8 requests in flight, 120 s of seeding. Writes its section of BENCHMARKS.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { percentile } from '../../src/shared/stats.ts';
import { writeBenchmarkSection } from '../support/report.ts';
import { apiClient, spawnServer } from '../support/server.ts';

const INCIDENTS = Math.min(Number(process.argv[2] ?? 400), 2000);
const IN_FLIGHT = 8;
const SEED_BUDGET_MS = 120_000;
const TOKEN = 'fbk_bench_admin_token_0123456789';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-recovery-'));
  const health = http.createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/`;
  const server = await spawnServer({ FIREBREAK_DATABASE_URL: path.join(dir, 'bench.db'), FIREBREAK_BOOTSTRAP_TOKEN: TOKEN });
  const call = apiClient(server.url, TOKEN);
  try {
    await call('POST', '/api/v1/teams', { id: 'llm', name: 'LLM', members: [{ user: 'dana' }] });
    const services = ['chat-api', 'embed-api', 'rerank', 'gateway'];
    for (const [i, id] of services.entries()) {
      await call('POST', '/api/v1/services', { id, owner_team: 'llm', tier: (i % 3) + 1, rto_minutes: 30 + i * 15, rpo_minutes: 5 });
    }
    const severities = ['low', 'medium', 'high', 'critical'];
    const causes = ['provider quota exhausted', 'bad deploy', 'cache stampede', 'expired certificate'];
    const seedStarted = Date.now();
    let next = 0;
    let seeded = 0;
    const worker = async () => {
      while (next < INCIDENTS && Date.now() - seedStarted < SEED_BUDGET_MS) {
        const n = next++;
        const detected = new Date(Date.now() - (INCIDENTS - n) * 60_000).toISOString();
        const created = await call<{ id: string }>('POST', '/api/v1/incidents', { title: `bench ${n}`, severity: severities[n % 4], services: [services[n % 4]], detected_at: detected });
        const id = created.id;
        await call('POST', `/api/v1/incidents/${id}/acknowledge`, {});
        await call('POST', `/api/v1/incidents/${id}/transition`, { to: 'containing' });
        if (n % 4 === 0) {
          await call('POST', `/api/v1/incidents/${id}/recovery`, { criteria: [{ id: 'ok', check: { kind: 'http', url: healthUrl } }] });
          await call('POST', `/api/v1/incidents/${id}/recovery/verify`, {});
          await call('POST', `/api/v1/incidents/${id}/action-items`, { title: 'follow up', owner: 'dana', priority: 'p2', due_date: '2030-01-01' });
        }
        await call('POST', `/api/v1/incidents/${id}/resolve`, { resolution: 'fixed', root_cause: causes[n % causes.length] });
        seeded++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    const time = async (label: string, runs: number, fn: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await fn();
        samples.push(performance.now() - started);
      }
      samples.sort((a, b) => a - b);
      return { label, runs, median: percentile(samples, 0.5)!, p90: percentile(samples, 0.9)! };
    };
    const from = new Date(Date.now() - (INCIDENTS + 10) * 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const firstPlanned = 'INC-' + new Date().toISOString().slice(0, 10).replaceAll('-', '') + '-0001';
    const results = [
      await time(`GET /api/v1/metrics/reliability over ${seeded} incidents`, 20, () => call('GET', `/api/v1/metrics/reliability?from=${from}&to=${to}`)),
      await time('GET /api/v1/incidents/{id}/recovery', 50, () => call('GET', `/api/v1/incidents/${firstPlanned}/recovery`)),
      await time('GET /api/v1/action-items?overdue=false', 20, () => call('GET', '/api/v1/action-items?overdue=false')),
    ];
    const lines = [
      `## recovery`,
      '',
      `${new Date().toISOString().slice(0, 10)} · machine: ${os.cpus().length} cores (shared; 1-min load average ${os.loadavg()[0]!.toFixed(1)} at the end) · node ${process.version} · SQLite · ` +
        `${seeded} incidents seeded through the API in ${seedSeconds.toFixed(1)} s (${IN_FLIGHT} in flight; a quarter with a recovery plan, a real HTTP verification and an action item)`,
      '',
      '| request | runs | median ms | p90 ms |',
      '| --- | --- | --- | --- |',
      ...results.map((r) => `| ${r.label} | ${r.runs} | ${r.median.toFixed(1)} | ${r.p90.toFixed(1)} |`),
    ].join('\n');
    writeBenchmarkSection('recovery', lines);
    process.stdout.write(`${lines}\n`);
  } finally {
    await server.stop();
    await new Promise((resolve) => health.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
