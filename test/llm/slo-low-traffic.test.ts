import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import type { SyntheticCall } from './traffic.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T08:00:00Z');

/** One call a minute in [fromMs, toMs); the minutes listed in `failing` (minutes since T0) fail with a 503. */
function oneCallAMinute(fromMs: number, toMs: number, failing: ReadonlySet<number>): SyntheticCall[] {
  const calls: SyntheticCall[] = [];
  for (let at = fromMs; at < toMs; at += MINUTE) {
    const failed = failing.has((at - T0) / MINUTE);
    calls.push({
      service: 'quiet-api',
      provider: 'openai',
      model: 'gpt-4o',
      response_model: 'gpt-4o-2024-08-06',
      started_at: new Date(at + 20_000).toISOString(),
      latency_ms: failed ? 90 : 1400,
      ttft_ms: 300,
      http_status: failed ? 503 : 200,
      input_tokens: 500,
      output_tokens: failed ? 0 : 200,
      cost_usd: failed ? 0 : 0.0033,
    });
  }
  return calls;
}

/**
 * A service with one call a minute: its 1-hour window holds 60 calls, so two failures close together burn
 * at 33× over the hour and 200× over five minutes, past the 14.4× page threshold. Without a minimum number
 * of bad events per window that pages someone for two failed calls; a real outage on the same traffic must
 * still page.
 */
describeEachDatabase('SLO alerts on low traffic', (kind) => {
  let server: TestServer;
  let configDir: string;
  let key: string;
  let now = T0;

  async function sendUntil(untilMs: number, failing: ReadonlySet<number>): Promise<void> {
    while (now < untilMs) {
      const end = Math.min(untilMs, now + 5 * MINUTE);
      const calls = oneCallAMinute(now, end, failing);
      now = end;
      const sent = await server.api('POST', '/api/v1/llm/requests', { requests: calls }, { token: key });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      expect(sent.body.rejected).toBe(0);
    }
  }

  async function sloAlerts(): Promise<{ dedup_key: string; status: string; severity: string }[]> {
    const response = await server.api<{ items: { dedup_key: string; status: string; severity: string }[] }>('GET', '/api/v1/alerts?service=quiet-api&limit=50');
    expect(response.status).toBe(200);
    return response.body.items.filter((a) => a.dedup_key.startsWith('llm-slo:'));
  }

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-slo-low-traffic-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: quiet-api, kind: availability, objective: 0.999 }\n');
    server = await startTestServer(kind, { clock: () => new Date(now), config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'quiet-api', tier: 2 })).status).toBe(201);
    key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'quiet-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('does not alert on two failed calls among a few dozen', async () => {
    await sendUntil(T0 + 90 * MINUTE, new Set([61, 63]));
    expect(await sloAlerts()).toEqual([]);
    const slo = (await server.api('GET', '/api/v1/slos/quiet-api')).body[0];
    expect(slo.min_bad_events).toBe(3);
    // The page rule's windows do burn past 14.4× at the second failure; only the minimum keeps them quiet.
    expect(slo.requests).toBe(90);
    expect(slo.bad).toBe(2);
    expect(slo.alert).toBeNull();
  });

  it('pages on an outage of the same low traffic', async () => {
    const outage = new Set(Array.from({ length: 6 }, (_, i) => 90 + i));
    await sendUntil(T0 + 100 * MINUTE, outage);
    expect((await sloAlerts()).map((a) => [a.dedup_key, a.status, a.severity])).toEqual([['llm-slo:quiet-api:availability', 'firing', 'critical']]);
    expect((await server.api('GET', '/api/v1/slos/quiet-api')).body[0].alert).toBe('page');
  });
});
