import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { NORMAL, generateCalls, seededRandom } from './traffic.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function latestNoonUtcBefore(ms: number): number {
  const noon = new Date(ms);
  noon.setUTCHours(12, 0, 0, 0);
  return noon.getTime() <= ms ? noon.getTime() : noon.getTime() - 24 * HOUR;
}

interface AlertView {
  dedup_key: string;
  status: string;
  severity: string;
  incident_id: string | null;
  details: Record<string, unknown>;
}

/**
 * A slow burn opens a ticket; a hard outage on top must page. The pipeline counts a repeat of an open
 * alert without routing it again, so an escalation that reused the ticket's alert would stay a warning.
 */
describeEachDatabase('SLO alert escalation', (kind) => {
  let server: TestServer;
  let configDir: string;
  let key: string;
  // Traffic follows a daily curve, so the seeded calls (and the outcome) would depend on the hour the test runs
  // at: the data always ends at the latest 12:00 UTC at least two hours ago (well inside the 7-day age limit).
  const endMs = latestNoonUtcBefore(Date.now() - 2 * HOUR);
  const r = seededRandom(11);

  async function send(fromMs: number, toMs: number, serverErrorProbability: number): Promise<void> {
    for (let at = fromMs; at < toMs; at += HOUR) {
      const calls = generateCalls(r, at, Math.min(toMs, at + HOUR), { ...NORMAL, serverErrorProbability }, { meanPerMinute: 20 });
      const sent = await server.api('POST', '/api/v1/llm/requests', { requests: calls }, { token: key });
      expect(sent.body.rejected).toBe(0);
    }
  }

  async function sloAlerts(): Promise<AlertView[]> {
    const response = await server.api<{ items: AlertView[] }>('GET', '/api/v1/alerts?service=chat-api&limit=50');
    return response.body.items.filter((a) => a.dedup_key === 'llm-slo:chat-api:availability');
  }

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-slo-escalation-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: chat-api, kind: availability, objective: 0.99 }\n');
    server = await startTestServer(kind, { config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'chat-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('tickets on three days of a 3× burn', async () => {
    await send(endMs - 3 * 24 * HOUR - 30 * MINUTE, endMs - 30 * MINUTE, 0.03);
    await expect.poll(async () => (await sloAlerts()).map((a) => [a.status, a.severity])).toEqual([['firing', 'warning']]);
  });

  it('pages with a new critical alert when an outage follows, resolving the ticket', async () => {
    await send(endMs - 30 * MINUTE, endMs, 1);
    await expect.poll(async () => (await sloAlerts()).map((a) => [a.status, a.severity]).sort()).toEqual([
      ['firing', 'critical'],
      ['resolved', 'warning'],
    ]);
    const page = (await sloAlerts()).find((a) => a.status === 'firing')!;
    expect(page.incident_id).not.toBeNull();
    const incident = await server.api('GET', `/api/v1/incidents/${page.incident_id}`);
    expect(incident.body.severity).toBe('critical');
    const slo = await server.api('GET', '/api/v1/slos/chat-api');
    expect(slo.body[0].alert).toBe('page');
  });
});
