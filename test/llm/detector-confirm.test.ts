import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { NORMAL, generateCalls, seededRandom, type Conditions } from './traffic.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = Date.parse('2026-11-16T00:00:00Z');
const TTFT_KEY = 'llm-detector:chat-api:openai:gpt-4o:ttft_p95_ms';

/**
 * A detection pages only once the point after it is still above the normal band: one minute of odd
 * calls (a TTFT p95 of a few dozen calls lands far out on noise alone now and then) wakes nobody, and a
 * regression that stays pages one point later. Without the confirmation the lone minute below scores 1
 * (a record far beyond two and a half days of range) and pages.
 */
describeEachDatabase('LLM detector confirmation', (kind) => {
  let server: TestServer;
  let database: TestDatabase;
  let configDir: string;
  let now = T0;
  let routingKey: string;
  const r = seededRandom(4242);

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-llm-'));
    database = await createTestDatabase(kind);
    server = await startTestServer(kind, { database, clock: () => new Date(now), config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    routingKey = (await server.api('POST', '/api/v1/integrations', { name: 'chat-api telemetry', service: 'chat-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  async function replay(until: number, conditions: Conditions, stepMs = HOUR): Promise<void> {
    while (now < until) {
      const end = Math.min(until, now + stepMs);
      const calls = generateCalls(r, now, end, conditions, { meanPerMinute: 25 });
      now = end;
      for (let i = 0; i < calls.length; i += 10_000) {
        const response = await server.api('POST', '/api/v1/llm/requests', { requests: calls.slice(i, i + 10_000) }, { token: routingKey });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      }
    }
  }
  async function detectorAlerts(): Promise<{ dedup_key: string; details: Record<string, unknown> }[]> {
    const response = await server.api<{ items: { dedup_key: string; details: Record<string, unknown> }[] }>('GET', '/api/v1/alerts?service=chat-api&limit=100');
    expect(response.status).toBe(200);
    return response.body.items.filter((a) => a.dedup_key.startsWith('llm-detector:'));
  }

  it('does not page on a single minute of slow first tokens once the next minutes are normal', async () => {
    await replay(T0 + 58 * HOUR, NORMAL);
    expect(await detectorAlerts()).toEqual([]);
    // One minute at ten times the usual TTFT, then normal again.
    await replay(now + MINUTE, { ...NORMAL, ttftMedianMs: 3000 }, MINUTE);
    await replay(now + 30 * MINUTE, NORMAL, 5 * MINUTE);
    expect(await detectorAlerts()).toEqual([]);
  });

  it('pages on a regression that stays, with the first point as its evidence', async () => {
    // Past the detector's cooldown after the unconfirmed minute (200 points).
    await replay(now + 5 * HOUR, NORMAL);
    await replay(now + 20 * MINUTE, { ...NORMAL, ttftMedianMs: 3000 }, 5 * MINUTE);
    const alerts = await detectorAlerts();
    // TTFT is part of each call's latency, so the latency rule pages too.
    expect(alerts.map((a) => a.dedup_key).sort()).toEqual(['llm-detector:chat-api:openai:gpt-4o:latency_p95_exceedance', TTFT_KEY]);
    const details = alerts.find((a) => a.dedup_key === TTFT_KEY)!.details;
    expect(details.value as number).toBeGreaterThan(3 * (details.baseline as number));
    expect(details.confirmed_by_value as number).toBeGreaterThan(details.normal_upper as number);
  });
});
