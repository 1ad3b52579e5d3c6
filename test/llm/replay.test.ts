import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { NORMAL, generateCalls, seededRandom, toOtlp, type Conditions, type SyntheticCall } from './traffic.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = Date.parse('2026-11-16T00:00:00Z');
const SLOS = `
slos:
  - service: chat-api
    kind: availability
    objective: 0.999
    window_days: 30
  - service: chat-api
    kind: latency
    objective: 0.99
    threshold_ms: 5000
    window_days: 30
`;

/**
 * The "done when" replay: days of normal diurnal traffic, then a provider outage (429 and 5xx burst),
 * a TTFT regression after a model rollout, and a cost spike, through the real HTTP endpoints with a
 * controllable clock. Each must raise exactly its expected alert and resolve once traffic recovers.
 */
describeEachDatabase('LLM traffic replay', (kind) => {
  let server: TestServer;
  let database: TestDatabase;
  let now = T0;
  let routingKey: string;
  const r = seededRandom(Number(process.env.FIREBREAK_REPLAY_SEED ?? 20261124));
  let configDir: string;

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-llm-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), SLOS);
    database = await createTestDatabase(kind);
    server = await startTestServer(kind, { database, clock: () => new Date(now), config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    const integration = await server.api('POST', '/api/v1/integrations', { name: 'chat-api telemetry', service: 'chat-api' });
    expect(integration.status).toBe(201);
    routingKey = integration.body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  async function sendJson(calls: SyntheticCall[]): Promise<void> {
    for (let i = 0; i < calls.length; i += 10_000) {
      const response = await server.api('POST', '/api/v1/llm/requests', { requests: calls.slice(i, i + 10_000) }, { token: routingKey });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.rejected).toBe(0);
    }
  }

  async function sendOtlp(calls: SyntheticCall[]): Promise<void> {
    const response = await server.api('POST', '/v1/traces', toOtlp(calls), { token: routingKey });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({});
  }

  /** Replays [now, until) in steps, advancing the clock to the end of each step before sending it. */
  async function replay(until: number, conditions: Conditions, options: { stepMs?: number; via?: 'json' | 'otlp' } = {}): Promise<void> {
    const step = options.stepMs ?? HOUR;
    while (now < until) {
      const end = Math.min(until, now + step);
      const calls = generateCalls(r, now, end, conditions, { meanPerMinute: 25 });
      now = end;
      await (options.via === 'otlp' ? sendOtlp(calls) : sendJson(calls));
    }
  }

  interface PipelineAlert {
    dedup_key: string;
    status: string;
    severity: string;
    source: string;
    summary: string;
    details: Record<string, unknown>;
    incident_id: string | null;
    decision: string;
  }
  /** Alerts from LLM telemetry as the alert pipeline holds them, oldest first. */
  async function alerts(): Promise<PipelineAlert[]> {
    const response = await server.api<{ items: PipelineAlert[] }>('GET', '/api/v1/alerts?service=chat-api&limit=500');
    expect(response.status).toBe(200);
    return response.body.items.filter((a) => a.dedup_key.startsWith('llm-')).reverse();
  }
  const raisedKeys = async () => (await alerts()).map((a) => a.dedup_key);
  const resolvedKeys = async () => (await alerts()).filter((a) => a.status === 'resolved').map((a) => a.dedup_key);

  it('stays quiet through two and a half days of normal diurnal traffic', async () => {
    await replay(T0 + 58 * HOUR, NORMAL);
    expect(await raisedKeys()).toEqual([]);
  });

  it('pages on the availability SLO during a provider outage, and resolves after recovery', async () => {
    await replay(now + 20 * MINUTE, { ...NORMAL, rateLimitProbability: 0.5, serverErrorProbability: 0.2 }, { stepMs: 5 * MINUTE });
    // The error-rate rule needs no SLO and sees it too; the incident is one.
    expect((await raisedKeys()).sort()).toEqual(['llm-detector:chat-api:openai:gpt-4o:error_rate', 'llm-slo:chat-api:availability']);
    const page = (await alerts()).find((a) => a.source === 'firebreak.slo');
    expect(page!.severity).toBe('critical');
    expect(page!.source).toBe('firebreak.slo');
    const rule = (await alerts()).find((a) => a.source === 'firebreak.detector')!;
    expect(rule.details.rule).toBe('error_rate');
    expect(rule.incident_id).toBe(page!.incident_id);
    const incident = await server.api('GET', `/api/v1/incidents/${page!.incident_id}`);
    expect(incident.body).toMatchObject({ status: 'detected', services: ['chat-api'] });
    expect(page!.details.signal).toBe('error_ratio');
    expect(page!.details.baseline).toBeCloseTo(0.001, 9);
    expect(page!.details.threshold).toBeCloseTo(0.0144, 9);
    expect((page!.details.values as { value: number | null }[]).some((v) => (v.value ?? 0) > 0.5)).toBe(true);

    const slo = await server.api('GET', '/api/v1/slos/chat-api');
    const availability = slo.body.find((s: { name: string }) => s.name === 'availability');
    expect(availability.alert).toBe('page');
    expect(availability.error_budget_remaining).toBeLessThan(0.9);
    const stats = await server.api('GET', `/api/v1/llm/stats?service=chat-api&from=${new Date(now - 20 * MINUTE).toISOString()}&to=${new Date(now).toISOString()}`);
    const point = stats.body.series[0].points[0];
    expect(point.rate_limit_rate).toBeGreaterThan(0.4);
    expect(point.errors.server_error).toBeGreaterThan(0);

    // The ticket rule (3 d and 6 h at 1×) keeps it open until the outage leaves the 6-hour window.
    await replay(now + 7 * HOUR, NORMAL);
    const outage = ['llm-detector:chat-api:openai:gpt-4o:error_rate', 'llm-slo:chat-api:availability'];
    expect((await resolvedKeys()).sort()).toEqual(outage);
    expect((await raisedKeys()).sort()).toEqual(outage);
  });

  it('flags the TTFT regression after a model rollout (sent as OTLP spans), then resolves after the rollback', async () => {
    const rollout = { ...NORMAL, responseModel: 'gpt-4o-2024-11-20', ttftMedianMs: 1100 };
    await replay(now + HOUR, rollout, { stepMs: 10 * MINUTE, via: 'otlp' });
    // TTFT is part of each call's latency: the latency rule sees the regression too.
    expect((await raisedKeys()).slice(2).sort()).toEqual(['llm-detector:chat-api:openai:gpt-4o:latency_p95_exceedance', 'llm-detector:chat-api:openai:gpt-4o:ttft_p95_ms']);
    const alert = (await alerts()).find((a) => a.dedup_key.endsWith(':ttft_p95_ms'))!;
    expect(alert.incident_id).not.toBeNull();
    expect(alert.details.signal).toBe('ttft_p95_ms');
    expect(alert.details.value as number).toBeGreaterThan(2 * (alert.details.baseline as number));
    expect((alert.details.values as unknown[]).length).toBeGreaterThan(5);
    expect(alert.details.threshold).toBeGreaterThan(0);

    await replay(now + 2 * HOUR, NORMAL, { stepMs: 10 * MINUTE, via: 'otlp' });
    expect(await resolvedKeys()).toContain('llm-detector:chat-api:openai:gpt-4o:ttft_p95_ms');
    expect(await resolvedKeys()).toContain('llm-detector:chat-api:openai:gpt-4o:latency_p95_exceedance');
    expect(await raisedKeys()).toHaveLength(4);
  });

  it('flags a cost spike, then resolves when cost returns to normal', async () => {
    await replay(now + HOUR, { ...NORMAL, costFactor: 4 }, { stepMs: 10 * MINUTE });
    expect((await raisedKeys()).slice(4)).toEqual(['llm-detector:chat-api:openai:gpt-4o:cost_per_hour']);
    const cost = (await alerts())[4]!;
    expect(cost.incident_id).not.toBeNull();
    expect(cost.details.value as number).toBeGreaterThan(2 * (cost.details.baseline as number));
    await replay(now + 2 * HOUR, NORMAL, { stepMs: 10 * MINUTE });
    expect(await resolvedKeys()).toContain('llm-detector:chat-api:openai:gpt-4o:cost_per_hour');
    expect(await raisedKeys()).toHaveLength(5);
    expect(await resolvedKeys()).toHaveLength(5);
  });

  it('keeps detector baselines across a restart', async () => {
    const before = await server.api('GET', '/api/v1/llm/detectors?service=chat-api');
    expect(before.body.map((d: { signal: string }) => d.signal).sort()).toEqual(['cost_per_hour', 'error_rate', 'latency_p95_exceedance', 'safety_flag_rate', 'tokens_per_second', 'ttft_p95_ms']);
    expect(before.body.every((d: { learning: boolean; points: number }) => !d.learning && d.points > 1000)).toBe(true);
    await server.close();
    server = await startTestServer(kind, { database, clock: () => new Date(now), config: { configDir } });
    const after = await server.api('GET', '/api/v1/llm/detectors?service=chat-api');
    // Baselines come back from the database; the minutes still open at shutdown were flushed into them, so never fewer points.
    expect(after.body.map((d: { signal: string }) => d.signal)).toEqual(before.body.map((d: { signal: string }) => d.signal));
    after.body.forEach((d: { points: number; learning: boolean }, i: number) => {
      expect(d.points).toBeGreaterThanOrEqual(before.body[i].points);
      expect(d.learning).toBe(false);
    });
  });
});
