import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { ManualClock } from '../support/clock.ts';
import { NORMAL, generateCalls, seededRandom } from './traffic.ts';

const MINUTE = 60_000;

/**
 * Telemetry judged at its own time: a server on the real wall clock receives an hour of calls that
 * happened three hours ago, ending in an outage. Burn rates and `llm_stat` windows follow the
 * service's event-time watermark, so the outage pages (stamped when it happened) and a check over
 * the last five minutes sees the outage's minutes, not an empty window at the wall clock.
 */
describeEachDatabase('LLM telemetry in event time', (kind) => {
  let server: TestServer;
  let configDir: string;
  let key: string;
  const endMs = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * 60 * MINUTE;
  const r = seededRandom(5);

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-event-time-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: chat-api, kind: availability, objective: 0.999 }\n');
    server = await startTestServer(kind, { config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'chat-api' })).body.routing_key;
    // Six hours of normal history first, so no window is judged on a handful of calls.
    for (let hour = endMs - 6 * 60 * MINUTE - 70 * MINUTE; hour < endMs - 70 * MINUTE; hour += 60 * MINUTE) {
      const sent = await server.api('POST', '/api/v1/llm/requests', { requests: generateCalls(r, hour, hour + 60 * MINUTE, NORMAL, { meanPerMinute: 30 }) }, { token: key });
      expect(sent.body.rejected).toBe(0);
    }
    // Then minute by minute, as an exporter catching up would send it.
    for (let minute = endMs - 70 * MINUTE; minute < endMs; minute += MINUTE) {
      const conditions = minute >= endMs - 10 * MINUTE ? { ...NORMAL, serverErrorProbability: 0.5 } : NORMAL;
      const calls = generateCalls(r, minute, minute + MINUTE, conditions, { meanPerMinute: 30 });
      const sent = await server.api('POST', '/api/v1/llm/requests', { requests: calls }, { token: key });
      expect(sent.body.rejected).toBe(0);
    }
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('alerts on the outage three hours late, stamped at the outage’s own time', async () => {
    const alerts = await server.api('GET', '/api/v1/alerts?service=chat-api');
    type SloAlert = { dedup_key: string; severity: string; decision: string; signal_at: string; source: string; incident_id: string };
    const raised = (alerts.body.items as SloAlert[]).filter((a) => a.dedup_key === 'llm-slo:chat-api:availability');
    // The outage's first minute already burns the slow (ticket) windows; the page follows a minute or two later.
    const page = raised.find((a) => a.severity === 'critical');
    // The SLO and the error-rate rule (which needs no SLO) both see the outage; whichever is first opens
    // the incident and the other joins it.
    const all = alerts.body.items as SloAlert[];
    const opener = all.find((a) => a.decision === 'opened_incident');
    expect(all.map((a) => a.dedup_key)).toContain('llm-detector:chat-api:openai:gpt-4o:error_rate');
    expect(page).toBeDefined();
    expect(opener).toBeDefined();
    expect(page!.source).toBe('firebreak.slo');
    for (const alert of [page!, opener!]) {
      const signalMs = Date.parse(alert.signal_at);
      expect(signalMs).toBeGreaterThan(endMs - 10 * MINUTE);
      // Event time moves on with the wall clock between a call's arrival and the evaluation (a loaded machine: seconds).
      expect(signalMs).toBeLessThanOrEqual(endMs + MINUTE);
    }
    expect(page!.incident_id).toBe(opener!.incident_id);
    const incident = await server.api('GET', `/api/v1/incidents/${page!.incident_id}`);
    expect(Date.parse(incident.body.detected_at)).toBe(Date.parse(opener!.signal_at));
    expect(incident.body.severity).toBe('critical');
    const slo = await server.api('GET', '/api/v1/slos/chat-api');
    expect(slo.body[0].alert).toBe('page');
  });

  it('evaluates llm_stat checks over the window ending at the service’s event time', async () => {
    const page = (await server.api('GET', '/api/v1/alerts?service=chat-api')).body.items[0];
    const created = await server.api('POST', `/api/v1/incidents/${page.incident_id}/recovery`, {
      steps: [{ id: 'fix', title: 'fix', estimate_minutes: 5 }],
      criteria: [
        { id: 'outage-seen', check: { kind: 'llm_stat', service: 'chat-api', stat: 'error_rate', window_minutes: 5, op: '>', threshold: 0.3 } },
        { id: 'healthy', check: { kind: 'llm_stat', service: 'chat-api', stat: 'error_rate', window_minutes: 5, op: '<', threshold: 0.01 } },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const evaluation = await server.api('POST', `/api/v1/incidents/${page.incident_id}/recovery/verify`, {});
    const byId = Object.fromEntries(evaluation.body.results.map((result: { criterion: string; passed: boolean; observed: { requests: number } }) => [result.criterion, result]));
    expect(byId['outage-seen'].passed).toBe(true);
    // Five minutes of the outage's calls, not an empty window: 30 a minute on a daily curve (0.4× to 1.6×, by the wall clock's hour).
    expect(byId['outage-seen'].observed.requests).toBeGreaterThan(40);
    expect(byId.healthy.passed).toBe(false);
  });
});

describeEachDatabase('LLM event time moves on when telemetry stops', (kind) => {
  let server: TestServer;
  let configDir: string;
  const clock = new ManualClock('2026-11-20T12:00:00Z');

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-event-time-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: chat-api, kind: availability, objective: 0.999 }\n');
    server = await startTestServer(kind, { config: { configDir }, clock: clock.now });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 });
    const key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'chat-api' })).body.routing_key;
    const r = seededRandom(9);
    const start = clock.now().getTime();
    for (const calls of [
      generateCalls(r, start - 6 * 60 * MINUTE, start - 3 * 60 * MINUTE, NORMAL),
      generateCalls(r, start - 3 * 60 * MINUTE, start - 10 * MINUTE, NORMAL),
      generateCalls(r, start - 10 * MINUTE, start, { ...NORMAL, serverErrorProbability: 0.5 }),
    ]) {
      expect((await server.api('POST', '/api/v1/llm/requests', { requests: calls }, { token: key })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('judges burn rates at the wall clock’s pace after the last call, so a page clears without new traffic', async () => {
    expect((await server.api('GET', '/api/v1/slos/chat-api')).body[0].alert).toBe('page');
    clock.advanceMinutes(7 * 60);
    expect((await server.api('GET', '/api/v1/slos/chat-api')).body[0].alert).toBeNull();
  });
});
