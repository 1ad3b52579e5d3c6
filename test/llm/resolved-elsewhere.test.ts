import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { NORMAL, generateCalls, seededRandom } from './traffic.ts';

const T0 = Date.parse('2026-11-18T09:00:00Z');

describeEachDatabase('LLM alerts resolved by a responder', (kind) => {
  let server: TestServer;
  let now = T0;
  let key: string;
  let configDir: string;
  const r = seededRandom(5);

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-llm-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: search-api, kind: availability, objective: 0.999 }\n');
    server = await startTestServer(kind, { clock: () => new Date(now), config: { configDir } });
    await server.api('POST', '/api/v1/services', { id: 'search-api', tier: 1 });
    key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'search-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  async function outageMinutes(minutes: number): Promise<void> {
    const calls = generateCalls(r, now, now + minutes * 60_000, { ...NORMAL, serverErrorProbability: 0.5 }, { service: 'search-api' });
    now += minutes * 60_000;
    expect((await server.api('POST', '/api/v1/llm/requests', { requests: calls }, { token: key })).status).toBe(200);
  }
  const sloAlerts = async () =>
    (await server.api('GET', '/api/v1/alerts?service=search-api')).body.items.filter((a: { dedup_key: string }) => a.dedup_key === 'llm-slo:search-api:availability');

  it('raises a fresh alert and incident when the burn goes on after the incident was resolved', async () => {
    await outageMinutes(10);
    const [first] = await sloAlerts();
    expect(first).toMatchObject({ status: 'firing', decision: 'opened_incident' });
    const resolved = await server.api('POST', `/api/v1/incidents/${first.incident_id}/resolve`, { resolution: 'failed over to the secondary provider' });
    expect(resolved.status).toBe(200);
    // The pipeline resolves an incident's alerts after the incident's own commit.
    await vi.waitFor(async () => expect((await sloAlerts())[0].status).toBe('resolved'), { timeout: 60_000, interval: 50 });

    // The provider is still failing: the next evaluation pages again, into a new incident.
    await outageMinutes(5);
    const alerts = await sloAlerts();
    expect(alerts).toHaveLength(2);
    const fresh = alerts.find((a: { status: string }) => a.status === 'firing');
    expect(fresh.incident_id).not.toBe(first.incident_id);
  });
});
