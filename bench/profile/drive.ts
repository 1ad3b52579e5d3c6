/**
 * CPU-profile driver for the two hottest request paths (not a benchmark: timings come from bench/api and bench/ingest).
 * Builds the app in-process over a temp SQLite file and pushes N requests through app.inject.
 *
 * Only the measured run is profiled (inspector session), so start-up and migrations stay out of the numbers.
 *
 *   PROFILE_OUT=/tmp/create.cpuprofile node --import tsx bench/profile/drive.ts create 3000
 *   node --import tsx bench/profile/drive.ts create 3000 --workers   # with the background workers, as `serve` runs
 *   PROFILE_OUT=/tmp/enqueue.cpuprofile node --import tsx bench/profile/drive.ts enqueue 5000
 *   node --import tsx bench/profile/summarise.ts /tmp/create.cpuprofile
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import pino from 'pino';
import { createFirebreak } from '../../src/app/server.ts';

const workers = process.argv.includes('--workers');
const [mode = 'create', countText = '3000'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const count = Number(countText);
const TOKEN = 'fbk_profile_admin_token_0123456789';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fb-prof-'));
const firebreak = await createFirebreak({
  config: {
    port: 0, host: '127.0.0.1', databaseUrl: path.join(dir, 'p.db'), logLevel: 'warn', bootstrapToken: TOKEN,
    configDir: path.resolve(import.meta.dirname, '../ingest'), secretKey: 'profile-secret-key', prometheusUrl: undefined, workers,
  },
  log: pino({ level: 'warn' }),
});
// Background workers (on-call dispatch, plans, outbox) start only once the server listens.
if (workers) await firebreak.listen();
const app = firebreak.app;
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
async function call(method: 'POST' | 'GET', url: string, body?: unknown) {
  const r = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  if (r.statusCode >= 300) throw new Error(`${method} ${url} ${r.statusCode} ${r.body}`);
  return r.json() as Record<string, unknown>;
}

let build: (i: number) => Promise<unknown>;
if (mode === 'create') {
  build = (i) => call('POST', '/api/v1/incidents', { title: `load ${i}: 429 storm on chat-api`, severity: i % 10 === 0 ? 'critical' : 'high', labels: { bench: 'api' } });
} else {
  const keys: string[] = [];
  for (let s = 0; s < 10; s++) {
    await call('POST', '/api/v1/services', { id: `svc-${s}` });
    keys.push((await call('POST', '/api/v1/integrations', { name: `svc-${s}-prom`, service: `svc-${s}`, rate_limit: { per_second: 100_000, burst: 1_000_000 } })).routing_key as string);
  }
  const trigger = (key: string, dedup: string, summary: string) =>
    call('POST', '/v2/enqueue', { routing_key: key, event_action: 'trigger', dedup_key: dedup, payload: { summary, source: 'bench-prometheus', severity: 'error', component: 'api' } });
  for (let i = 0; i < 1000; i++) await trigger(keys[i % 10]!, `alert-${i}`, `warm-up ${i}`);
  let created = 1000;
  build = (i) => {
    if (i % 10 === 0) { const d = `alert-${created++}`; return trigger(keys[created % 10]!, d, `new alert ${d}`); }
    const k = Math.floor(Math.random() * 1000);
    return trigger(keys[k % 10]!, `alert-${k}`, `repeat of alert-${k}`);
  };
}
// Warm-up so the JIT settles, then the measured run (8 in flight, like a small closed-loop client).
for (let i = 0; i < 300; i++) await build(i);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 200 });
await session.post('Profiler.start');
const started = process.cpuUsage();
const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: 8 }, async () => { while (next < count) await build(next++); }));
const cpu = process.cpuUsage(started);
const { profile } = await session.post('Profiler.stop');
const out = process.env.PROFILE_OUT ?? `/tmp/firebreak-${mode}.cpuprofile`;
fs.writeFileSync(out, JSON.stringify(profile));
process.stdout.write(`${mode}: ${count} requests, CPU ${((cpu.user + cpu.system) / 1000 / count).toFixed(3)} ms/request (user ${(cpu.user / 1000 / count).toFixed(3)}), wall ${((performance.now() - t0) / count).toFixed(3)} ms/request\n`);
await firebreak.close();
fs.rmSync(dir, { recursive: true, force: true });
