import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { CLI_COMMANDS } from '../../src/cli/commands.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { toOtlp, type SyntheticCall } from './traffic.ts';

const T0 = Date.parse('2026-11-20T12:00:00Z');
const SLOS = `
slos:
  - service: chat-api
    kind: availability
    objective: 0.99
    window_days: 7
  - service: chat-api
    name: fast
    kind: latency
    objective: 0.95
    threshold_ms: 900
    window_days: 7
`;

function call(overrides: Partial<SyntheticCall> & { status?: string } = {}): Record<string, unknown> {
  return {
    service: 'chat-api',
    provider: 'anthropic',
    model: 'claude-sonnet',
    started_at: new Date(T0 + 1000).toISOString(),
    latency_ms: 500,
    ttft_ms: 120,
    http_status: 200,
    input_tokens: 100,
    output_tokens: 50,
    cost_usd: 0.001,
    ...overrides,
  };
}

describeEachDatabase('LLM telemetry ingest', (kind) => {
  let database: TestDatabase;
  let server: TestServer;
  let now = T0 + 59_000;
  let key: string;
  let configDir: string;
  const start = () => startTestServer(kind, { database, clock: () => new Date(now), config: { configDir } });

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-llm-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), SLOS);
    database = await createTestDatabase(kind);
    server = await start();
    await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 });
    key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'chat-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('needs an integration key, as a bearer token or ?key=', async () => {
    const body = { requests: [call()] };
    const missing = await server.api('POST', '/api/v1/llm/requests', body, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((await server.api('POST', '/v1/traces', {}, { token: 'not-a-key' })).status).toBe(401);
    // An API token is not an integration key.
    expect((await server.api('POST', '/api/v1/llm/requests', body)).status).toBe(401);
    const viaQuery = await server.api('POST', `/api/v1/llm/requests?key=${key}`, { requests: [call({ started_at: new Date(T0 - 3_600_000).toISOString() })] }, { token: null });
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.body).toEqual({ accepted: 1, rejected: 0, rejections: [] });
  });

  it('documents its endpoints in the OpenAPI document', async () => {
    const openapi = await server.api('GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    for (const route of ['/v1/traces', '/api/v1/llm/requests', '/api/v1/llm/stats', '/api/v1/llm/detectors', '/api/v1/slos', '/api/v1/slos/{service}']) {
      expect(Object.keys(openapi.body.paths)).toContain(route);
    }
  });

  it('reads GenAI spans from OTLP JSON, ignores and counts other spans', async () => {
    const spans: SyntheticCall[] = [0, 1, 2].map((i) => ({
      service: 'chat-api',
      provider: 'openai',
      model: 'gpt-4o',
      response_model: 'gpt-4o-2024-08-06',
      started_at: new Date(T0 + 10_000 + i).toISOString(),
      latency_ms: 1000 + i * 100,
      ttft_ms: 200,
      http_status: i === 2 ? 429 : 200,
      input_tokens: 10,
      output_tokens: 20,
      cost_usd: 0.5,
    }));
    const response = await server.api('POST', '/v1/traces', toOtlp(spans, 4), { token: key });
    expect(response.status).toBe(200);
    expect(response.body.partialSuccess.rejectedSpans).toBe(0);
    expect(response.body.partialSuccess.errorMessage).toContain('4 spans without GenAI attributes');
    const metrics = await server.api('GET', '/metrics');
    expect(metrics.body).toMatch(/firebreak_llm_calls_total\{source="otlp",outcome="ignored_non_genai"\} 4/);
    expect(metrics.body).toMatch(/firebreak_llm_calls_total\{source="otlp",outcome="accepted"\} 3/);
    const stats = await server.api('GET', `/api/v1/llm/stats?provider=openai&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}`);
    expect(stats.status).toBe(200);
    const [series] = stats.body.series;
    expect(series).toMatchObject({ service: 'chat-api', provider: 'openai', model: 'gpt-4o' });
    expect(series.points[0]).toMatchObject({ requests: 3, errors: { rate_limit: 1 }, input_tokens: 30, output_tokens: 60, cost_usd: 1.5, cost_per_hour: 90 });
    expect(series.points[0].ttft_ms.p50).toBeCloseTo(200, -1);
  });

  it('accepts gzip-compressed OTLP, as the Collector sends it', async () => {
    const span = { ...call(), response_model: 'x', provider: 'gzip-provider', started_at: new Date(T0 + 30_000).toISOString() } as unknown as SyntheticCall;
    const response = await fetch(new URL('/v1/traces', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(toOtlp([span]))),
    });
    expect(response.status).toBe(200);
    const stats = await server.api('GET', `/api/v1/llm/stats?provider=gzip-provider&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}`);
    expect(stats.body.series[0].points[0].requests).toBe(1);
  });

  it('answers malformed OTLP with a problem naming the field, and protobuf with 415', async () => {
    const notJson = await server.api('POST', '/v1/traces', '{"resourceSpans": [', { token: key });
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe('malformed_input');
    const badShape = await server.api('POST', '/v1/traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ endTimeUnixNano: '1' }] }] }] }, { token: key });
    expect(badShape.status).toBe(400);
    expect(badShape.body.field).toBe('resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano');
    // Bytes that are not an ExportTraceServiceRequest: the sender's mistake, never a 5xx it would retry.
    const protobuf = await server.api('POST', '/v1/traces', '\u00ff\u00ffgarbage', { token: key, headers: { 'content-type': 'application/x-protobuf' } });
    expect(protobuf.status).toBe(400);
    expect(protobuf.body.code).toBe('malformed_input');
    expect(protobuf.body.detail).toContain('protobuf');
    const corrupt = await fetch(new URL('/v1/traces', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'not gzip at all',
    });
    expect(corrupt.status).toBe(400);
    const unknownField = await server.api('POST', '/api/v1/llm/requests', { requests: [{ ...call(), colour: 'red' }] }, { token: key });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.field).toBe('requests[0].colour');
  });

  it('refuses impossible values one by one and counts them, never aggregating them', async () => {
    const far = new Date(now + 86_400_000).toISOString();
    const response = await server.api(
      'POST',
      '/api/v1/llm/requests',
      {
        requests: [
          call({ model: 'poison', latency_ms: -5 }),
          call({ model: 'poison', input_tokens: 1e12 }),
          call({ model: 'poison', started_at: far }),
          call({ model: 'poison', latency_ms: 1e9 }),
          call({ model: 'poison', cost_usd: -1 }),
        ],
      },
      { token: key },
    );
    expect(response.status).toBe(200);
    expect(response.body.accepted).toBe(0);
    expect(response.body.rejections).toEqual([
      { index: 0, reason: 'negative_latency' },
      { index: 1, reason: 'absurd_tokens' },
      { index: 2, reason: 'future_timestamp' },
      { index: 3, reason: 'absurd_latency' },
      { index: 4, reason: 'negative_cost' },
    ]);
    const base = Date.parse('2026-11-20T12:00:00Z') * 1e6;
    const span = (start: number, end: number) => ({
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(end),
      attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'gen_ai.request.model', value: { stringValue: 'poison' } }],
    });
    const otlp = await server.api('POST', '/v1/traces', { resourceSpans: [{ scopeSpans: [{ spans: [span(base + 5e9, base), span(base + 864e11, base + 864e11 + 1e6)] }] }] }, { token: key });
    expect(otlp.body.partialSuccess).toEqual({ rejectedSpans: 2, errorMessage: '2 GenAI spans rejected (1 negative_latency, 1 future_timestamp)' });
    const stats = await server.api('GET', `/api/v1/llm/stats?model=poison&from=${new Date(T0 - 86_400_000).toISOString()}&to=${new Date(T0 + 2 * 86_400_000).toISOString()}`);
    expect(stats.body.series).toEqual([]);
    const metrics = await server.api('GET', '/metrics');
    expect(metrics.body).toMatch(/firebreak_llm_calls_total\{source="json",outcome="rejected_negative_latency"\} 1/);
  });

  it('aggregates into buckets with quantiles, error kinds, cost per hour, and the same figures after they are flushed', async () => {
    const records = [];
    for (let i = 1; i <= 1000; i++) records.push(call({ latency_ms: i, started_at: new Date(T0 + 20_000 + i).toISOString() }));
    for (let i = 0; i < 10; i++) records.push(call({ http_status: 429, latency_ms: 50 }));
    for (let i = 0; i < 5; i++) records.push(call({ http_status: 502, latency_ms: 50 }));
    for (let i = 0; i < 3; i++) records.push({ ...call({ latency_ms: 50 }), http_status: undefined, status: 'timeout' });
    for (let i = 0; i < 2; i++) records.push({ ...call({ latency_ms: 50 }), http_status: undefined, status: 'content_filtered', safety_flags: ['violence'] });
    const response = await server.api('POST', '/api/v1/llm/requests', { requests: records.map((r) => JSON.parse(JSON.stringify(r))) }, { token: key });
    expect(response.body).toMatchObject({ accepted: 1020, rejected: 0 });

    const query = `/api/v1/llm/stats?service=chat-api&provider=anthropic&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}`;
    const check = async () => {
      const stats = await server.api('GET', query);
      const point = stats.body.series[0].points[0];
      expect(point.requests).toBe(1020);
      expect(point.errors).toEqual({ server_error: 5, rate_limit: 10, timeout: 3, content_filter: 2, client_error: 0, other: 0 });
      expect(point.error_rate).toBeCloseTo(20 / 1020, 9);
      expect(point.safety_flag_rate).toBeCloseTo(2 / 1020, 9);
      // 1,000 latencies 1..1000 ms plus 20 at 50 ms: exact p50 is 491, p99 is 990 (sketch: within 1%).
      expect(Math.abs(point.latency_ms.p50 - 491) / 491).toBeLessThan(0.011);
      expect(Math.abs(point.latency_ms.p99 - 990) / 990).toBeLessThan(0.011);
      expect(point.cost_usd).toBeCloseTo(1.02, 9);
      expect(point.cost_per_hour).toBeCloseTo(61.2, 6);
      expect(point.requests_per_second).toBeCloseTo(1020 / 60, 9);
    };
    await check();
    const metricsBefore = await server.api('GET', '/metrics');
    expect(metricsBefore.body).toMatch(/firebreak_llm_open_buckets [1-9]/);
    // Time passes beyond the allowed lateness (5 min); the next request closes the minute into a database rollup row.
    now = T0 + 7 * 60_000;
    await server.api('POST', '/api/v1/llm/requests', { requests: [call({ started_at: new Date(now - 1000).toISOString(), provider: 'other' })] }, { token: key });
    expect((await server.api('GET', '/metrics')).body).toMatch(/firebreak_llm_open_buckets 1\n/);
    await check();

    const stepped = await server.api('GET', `/api/v1/llm/stats?service=chat-api&provider=anthropic&step=60&from=${new Date(T0 - 3_600_000).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}`);
    expect(stepped.body.step_seconds).toBe(60);
    expect(stepped.body.series[0].points.map((p: { start: string }) => p.start)).toEqual([new Date(T0 - 3_600_000).toISOString(), new Date(T0).toISOString()]);
    const tooWide = await server.api('GET', `/api/v1/llm/stats?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&step=60`);
    expect(tooWide.status).toBe(422);
    expect(tooWide.body.field).toBe('step');
    const badStep = await server.api('GET', `/api/v1/llm/stats?step=90&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}`);
    expect(badStep.status).toBe(400);
    expect(badStep.body.field).toBe('step');
  });

  it('reports SLOs with error budget remaining and burn rates', async () => {
    const all = await server.api('GET', '/api/v1/slos');
    expect(all.status).toBe(200);
    const availability = all.body.find((s: { name: string }) => s.name === 'availability');
    // 1,026 calls so far; 19 failed the caller (429s, 5xx, timeouts); content filtering does not count against availability.
    expect(availability).toMatchObject({ service: 'chat-api', kind: 'availability', objective: 0.99, window_days: 7, requests: 1026, bad: 19 });
    expect(availability.error_budget_remaining).toBeCloseTo(1 - 19 / 1026 / 0.01, 9);
    expect(availability.burn_rates).toHaveLength(3);
    const fast = all.body.find((s: { name: string }) => s.name === 'fast');
    // Successful calls slower than 900 ms: latencies 901..1000 and the two OTLP spans at 1000 and 1100 ms.
    expect(fast).toMatchObject({ kind: 'latency', threshold_ms: 900, bad: 102 });
    expect((await server.api('GET', '/api/v1/slos/chat-api')).body).toHaveLength(2);
    const unknown = await server.api('GET', '/api/v1/slos/nobody');
    expect(unknown.status).toBe(404);
  });

  it('evaluates llm_stat checks from the aggregates', async () => {
    const checks = server.firebreak.ctx.services.checks;
    const failing = await checks.evaluate({ kind: 'llm_stat', service: 'chat-api', stat: 'error_rate', window_minutes: 10, op: '<', threshold: 0.01 });
    expect(failing.passed).toBe(false);
    expect(failing.observed.error_rate as number).toBeGreaterThan(0.01);
    // People read the detail: the rate at three significant digits, never a raw float like 0.06451612903225806.
    expect(failing.detail).toMatch(/^error_rate is 0\.0*[1-9]\d{0,2} over \d+ calls$/);
    const passing = await checks.evaluate({ kind: 'llm_stat', service: 'chat-api', provider: 'anthropic', stat: 'latency_p99_ms', window_minutes: 10, op: '<=', threshold: 1000 });
    expect(passing.passed).toBe(true);
    const silent = await checks.evaluate({ kind: 'llm_stat', service: 'nobody', stat: 'cost_per_hour', window_minutes: 5, op: '<', threshold: 1 });
    expect(silent).toMatchObject({ passed: false });
    expect(silent.detail).toContain('no LLM calls');
  });

  it('shows SLOs, statistics and detectors in the CLI', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const cli = (...args: string[]) => runCli(['--server', server.url, '--token', ADMIN_TOKEN, ...args], CLI_COMMANDS);
    try {
      expect(await cli('slo', 'list', '--service', 'chat-api')).toBe(0);
      expect(out.join('')).toMatch(/chat-api.*availability.*99\.00%/);
      out.length = 0;
      expect(await cli('--json', 'llm', 'stats', '--service', 'chat-api', '--provider', 'anthropic', '--from', new Date(T0).toISOString(), '--to', new Date(T0 + 60_000).toISOString())).toBe(0);
      expect(JSON.parse(out.join('')).series[0].points[0].requests).toBe(1020);
      out.length = 0;
      expect(await cli('llm', 'detectors')).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps aggregates and SLO windows across a restart', async () => {
    const before = await server.api('GET', '/api/v1/slos/chat-api');
    await server.close();
    server = await start();
    const after = await server.api('GET', '/api/v1/slos/chat-api');
    expect(after.body.map((s: { requests: number }) => s.requests)).toEqual(before.body.map((s: { requests: number }) => s.requests));
    expect(after.body[0].burn_rates[2].long.requests).toBe(before.body[0].burn_rates[2].long.requests);
  });
});
