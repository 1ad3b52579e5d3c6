import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, SERVER_START_LIMIT_MS } from '../support/server.ts';
import { forkClockedServer, type ClockedServer } from '../support/replicas.ts';
import { NORMAL, generateCalls, seededRandom, type SyntheticCall } from '../llm/traffic.ts';

const pgUrl = process.env.FIREBREAK_TEST_PG_URL;
const describePg = pgUrl ? describe : describe.skip;

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-30T08:00:00Z');
const NORMAL_MINUTES = 45;
const OUTAGE_MINUTES = 8;
const RECOVERY_MINUTES = 22;
const MINUTES = NORMAL_MINUTES + OUTAGE_MINUTES + RECOVERY_MINUTES;
/** The replica killed (SIGKILL) after its share of this minute, and restarted at the later one. */
const KILL_AT = 40;
const RESTART_AT = 50;

/** What every server gets, in order: per minute, three batches of calls and now and then an alert. */
interface Step {
  minute: number;
  batches: SyntheticCall[][];
  alert?: { action: 'trigger' | 'resolve'; dedup_key: string; summary: string; severity: string; source: string };
}

function input(): Step[] {
  const r = seededRandom(1818);
  const steps: Step[] = [];
  for (let minute = 0; minute < MINUTES; minute++) {
    const from = T0 + minute * MINUTE;
    const outage = minute >= NORMAL_MINUTES && minute < NORMAL_MINUTES + OUTAGE_MINUTES;
    const calls = generateCalls(r, from, from + MINUTE, outage ? { ...NORMAL, serverErrorProbability: 0.5 } : NORMAL, { meanPerMinute: 30 });
    const batches: SyntheticCall[][] = [[], [], []];
    calls.forEach((call, i) => batches[i % 3]!.push(call));
    const step: Step = { minute, batches };
    if (minute % 12 === 3) step.alert = { action: 'trigger', dedup_key: `disk-${minute}`, summary: `Disk filling on db-${minute}`, severity: 'warning', source: 'node-exporter' };
    if (minute % 12 === 9) step.alert = { action: 'resolve', dedup_key: `disk-${minute - 6}`, summary: 'resolved', severity: 'warning', source: 'node-exporter' };
    steps.push(step);
  }
  return steps;
}

/** A deployment under test: its servers (one, or three replicas), and how to reach the one a request goes to. */
class Deployment {
  servers: (ClockedServer | null)[] = [];
  telemetryKey = '';
  alertKey = '';
  private turn = 0;
  constructor(
    readonly database: TestDatabase,
    readonly size: number,
    readonly configDir: string,
  ) {}

  start(index: number, atMs: number): Promise<ClockedServer> {
    return forkClockedServer({ databaseUrl: this.database.url, adminToken: ADMIN_TOKEN, startMs: atMs, configDir: this.configDir }).then((server) => (this.servers[index] = server));
  }

  /** The next live server, round robin. */
  next(): ClockedServer {
    for (let tries = 0; tries < this.servers.length; tries++) {
      const server = this.servers[this.turn++ % this.servers.length];
      if (server) return server;
    }
    throw new Error('no live server');
  }

  async api<T>(server: ClockedServer, method: string, route: string, body?: unknown, token = ADMIN_TOKEN): Promise<T> {
    const response = await fetch(new URL(route, server.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${route}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async setClock(ms: number): Promise<void> {
    for (const server of this.servers) await server?.setClock(ms);
  }
}

/** Numbers to 9 significant digits: sums of costs merged in another order differ in the last bits. */
function normalise(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toPrecision(9));
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

describePg('LLM telemetry and alerts over three replicas equal one server', () => {
  let configDir: string;
  let single: Deployment;
  let cluster: Deployment;

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-equivalence-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: chat-api, kind: availability, objective: 0.999 }\n  - { service: chat-api, kind: latency, objective: 0.99, threshold_ms: 4000 }\n');
    single = new Deployment(await createTestDatabase('postgres'), 1, configDir);
    cluster = new Deployment(await createTestDatabase('postgres'), 3, configDir);
    for (const deployment of [single, cluster]) {
      // The first server migrates the database; the others start on it.
      await deployment.start(0, T0);
      for (let i = 1; i < deployment.size; i++) await deployment.start(i, T0);
      const server = deployment.servers[0]!;
      await deployment.api(server, 'POST', '/api/v1/services', { id: 'chat-api', tier: 1 });
      deployment.telemetryKey = (await deployment.api<{ routing_key: string }>(server, 'POST', '/api/v1/integrations', { name: 'telemetry', service: 'chat-api' })).routing_key;
      deployment.alertKey = (await deployment.api<{ routing_key: string }>(server, 'POST', '/api/v1/integrations', { name: 'node-exporter', service: 'chat-api' })).routing_key;
    }
    // Four servers start one after the other, each within its limit.
  }, 4 * SERVER_START_LIMIT_MS + 60_000);
  afterAll(async () => {
    for (const deployment of [single, cluster]) {
      for (const server of deployment?.servers ?? []) await server?.close();
      await deployment?.database.drop();
    }
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  async function play(deployment: Deployment, steps: Step[], faults: boolean): Promise<void> {
    for (const step of steps) {
      if (faults && step.minute === RESTART_AT) await deployment.start(1, T0 + step.minute * MINUTE);
      await deployment.setClock(T0 + (step.minute + 1) * MINUTE + 5_000);
      for (const batch of step.batches) {
        const server = deployment.next();
        const sent = await deployment.api<{ accepted: number; rejected: number }>(server, 'POST', '/api/v1/llm/requests', { requests: batch }, deployment.telemetryKey);
        expect(sent.rejected).toBe(0);
      }
      if (step.alert) await deployment.api(deployment.next(), 'POST', '/api/v1/alerts', { ...step.alert, timestamp: new Date(T0 + step.minute * MINUTE + 30_000).toISOString() }, deployment.alertKey);
      await deployment.next().runDue();
      if (faults && step.minute === KILL_AT) {
        // Killed between requests, as a crash after answering: whatever it acknowledged must survive.
        await deployment.servers[1]!.kill();
        deployment.servers[1] = null;
      }
    }
    // Past the allowed lateness, so every minute closes and reaches the detectors.
    await deployment.setClock(T0 + (MINUTES + 7) * MINUTE);
    for (const server of deployment.servers) await server?.runDue();
  }

  async function outcome(deployment: Deployment) {
    const server = deployment.next();
    type Alert = { dedup_key: string; status: string; severity: string; summary: string; source: string; signal_at: string; details: unknown; decision: string; incident_id: string | null };
    const alerts = (await deployment.api<{ items: Alert[] }>(server, 'GET', '/api/v1/alerts?limit=200')).items;
    type Incident = { id: string; title: string; severity: string; status: string; service: string; detected_at: string; resolved_at: string | null };
    const incidents = (await deployment.api<{ items: Incident[] }>(server, 'GET', '/api/v1/incidents?limit=200')).items;
    const titleOf = new Map(incidents.map((i) => [i.id, i.title]));
    const stats = await deployment.api<{ series: unknown[] }>(server, 'GET', `/api/v1/llm/stats?from=${new Date(T0).toISOString()}&to=${new Date(T0 + MINUTES * MINUTE).toISOString()}&step=60`);
    return normalise({
      alerts: alerts
        .map((a) => ({ dedup_key: a.dedup_key, status: a.status, severity: a.severity, summary: a.summary, source: a.source, signal_at: a.signal_at, decision: a.decision, incident: a.incident_id ? titleOf.get(a.incident_id) : null, details: a.details }))
        .sort((a, b) => `${a.dedup_key}${a.signal_at}`.localeCompare(`${b.dedup_key}${b.signal_at}`)),
      incidents: incidents.map((i) => ({ title: i.title, severity: i.severity, status: i.status, service: i.service, detected_at: i.detected_at, resolved_at: i.resolved_at })).sort((a, b) => `${a.detected_at}${a.title}`.localeCompare(`${b.detected_at}${b.title}`)),
      slos: await deployment.api(server, 'GET', '/api/v1/slos'),
      detectors: await deployment.api(server, 'GET', '/api/v1/llm/detectors'),
      stats: stats.series,
    }) as { alerts: Alert[]; incidents: Incident[]; slos: unknown; detectors: unknown; stats: unknown };
  }

  it('pages, detects and counts the same with one replica killed and restarted mid-run', async () => {
    const steps = input();
    await play(single, steps, false);
    await play(cluster, steps, true);
    const one = await outcome(single);
    const three = await outcome(cluster);
    // The run is worth comparing: the outage paged on the SLO and the error-rate rule, and the alerts came through.
    const keys = new Set(one.alerts.map((a) => a.dedup_key));
    expect(keys).toContain('llm-slo:chat-api:availability');
    expect(keys).toContain('llm-detector:chat-api:openai:gpt-4o:error_rate');
    expect(keys).toContain('disk-3');
    expect(one.incidents.length).toBeGreaterThan(0);
    expect(three.stats).toEqual(one.stats);
    expect(three.alerts).toEqual(one.alerts);
    expect(three.incidents).toEqual(one.incidents);
    expect(three.slos).toEqual(one.slos);
    expect(three.detectors).toEqual(one.detectors);
  }, 900_000);
});
