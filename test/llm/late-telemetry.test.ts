import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { ManualClock } from '../support/clock.ts';
import { encodeOtlpRequest } from '../../src/llm/index.ts';

const MINUTE = 60_000;

function span(model: string, startMs: number, latencyMs: number, extra: { key: string; value: Record<string, unknown> }[] = []) {
  return {
    name: 'chat',
    startTimeUnixNano: `${BigInt(Math.round(startMs)) * 1_000_000n}`,
    endTimeUnixNano: `${BigInt(Math.round(startMs + latencyMs)) * 1_000_000n}`,
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
      { key: 'gen_ai.request.model', value: { stringValue: model } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 100 } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 20 } },
      ...extra,
    ],
  };
}

function exportOf(service: string, spans: unknown[]) {
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans }] }] };
}

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describeEachDatabase('late, out-of-order and unknown-service telemetry', (kind) => {
  let server: TestServer;
  let key: string;
  let configDir: string;
  const clock = new ManualClock('2026-12-06T10:00:00Z');

  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-late-'));
    // An SLO on a service the catalogue does not have: its page must still reach someone.
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: shadow-api, kind: availability, objective: 0.99 }\n');
    server = await startTestServer(kind, { clock: clock.now, config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    key = (await server.api('POST', '/api/v1/integrations', { name: 'otel', service: 'chat-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  const send = (body: Record<string, unknown>) =>
    fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' }, body: encodeOtlpRequest('traces', body) });

  it('loses no minute to the detectors when 8 exports in flight arrive out of order', async () => {
    const t0 = clock.now().getTime() - 16 * MINUTE;
    // 16 minutes of 30 calls each, as an exporter sends them: an export every 30 s of calls, 8 exports
    // in flight at once and answered in a scrambled order (each wave spans 4 minutes, within the
    // allowed lateness), while the wall clock moves on between waves.
    const exports = Array.from({ length: 32 }, (_, e) => {
      const spans = [];
      for (let i = 0; i < 15; i++) spans.push(span('ooo-model', t0 + e * 30_000 + i * 2000, 300 + i));
      return exportOf('chat-api', spans);
    });
    const scramble = [5, 2, 7, 0, 6, 3, 1, 4];
    const answers = [];
    for (let wave = 0; wave < 4; wave++) {
      answers.push(...(await Promise.all(scramble.map((i) => send(exports[wave * 8 + i]!)))));
      clock.advance(MINUTE);
    }
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // The watermark passes the last minute only after the allowed lateness: then every minute is fed, in order.
    clock.advance(7 * MINUTE);
    await server.firebreak.ctx.services.llmTelemetry.maintain();
    const detectors = (await server.api('GET', '/api/v1/llm/detectors?service=chat-api')).body as { model: string; signal: string; points: number; last_at: string }[];
    const tokens = detectors.find((d) => d.model === 'ooo-model' && d.signal === 'tokens_per_second');
    expect(tokens?.points).toBe(16);
    expect(tokens?.last_at).toBe(new Date(t0 + 16 * MINUTE).toISOString());
    const metrics = (await server.api('GET', '/metrics')).body as string;
    expect(metricValue(metrics, 'firebreak_llm_late_calls_total', 'source="otlp"')).toBe(0);
  });

  it('still rolls up a call later than the allowed lateness, and counts it as late', async () => {
    const before = metricValue((await server.api('GET', '/metrics')).body as string, 'firebreak_llm_late_calls_total', 'source="otlp"');
    const lateMinute = clock.now().getTime() - 20 * MINUTE;
    const response = await fetch(`${server.url}/v1/traces?key=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(exportOf('chat-api', [span('ooo-model', lateMinute + 5000, 250)]))),
    });
    expect(response.status).toBe(200);
    const after = metricValue((await server.api('GET', '/metrics')).body as string, 'firebreak_llm_late_calls_total', 'source="otlp"');
    expect(after - before).toBe(1);
    const stats = await server.api('GET', `/api/v1/llm/stats?from=${new Date(lateMinute).toISOString()}&to=${new Date(lateMinute + MINUTE).toISOString()}&model=ooo-model`);
    expect(stats.body.series[0].points[0].requests).toBe(31);
  });

  it('aggregates an unknown service, pages its SLO to the integration’s service, and keeps every other series going', async () => {
    const start = clock.now().getTime() - 10 * MINUTE;
    const failing = [{ key: 'error.type', value: { stringValue: '503' } }];
    const spans = [];
    for (let m = 0; m < 10; m++) for (let i = 0; i < 40; i++) spans.push(span('shadow-model', start + m * MINUTE + i * 1000, 200, i % 2 === 0 ? failing : []));
    const healthy = [];
    for (let m = 0; m < 10; m++) for (let i = 0; i < 30; i++) healthy.push(span('healthy-model', start + m * MINUTE + i * 1000, 200));
    expect((await send(exportOf('shadow-api', spans))).status).toBe(200);
    expect((await send(exportOf('chat-api', healthy))).status).toBe(200);
    clock.advance(8 * MINUTE);
    await server.firebreak.ctx.services.llmTelemetry.maintain();
    const stats = await server.api('GET', `/api/v1/llm/stats?from=${new Date(start).toISOString()}&to=${new Date(start + 10 * MINUTE).toISOString()}&service=shadow-api`);
    expect(stats.body.series[0].points[0].requests).toBe(400);
    const alerts = (await server.api('GET', '/api/v1/alerts?source=firebreak.slo')).body.items as { dedup_key: string; service: string; reason: string }[];
    const page = alerts.find((a) => a.dedup_key === 'llm-slo:shadow-api:availability');
    expect(page?.service).toBe('chat-api');
    expect(page?.reason).toContain('shadow-api is not in the catalogue');
    const detectors = (await server.api('GET', '/api/v1/llm/detectors?service=chat-api')).body as { model: string; signal: string; points: number }[];
    expect(detectors.find((d) => d.model === 'healthy-model' && d.signal === 'tokens_per_second')?.points).toBe(10);
    const metrics = (await server.api('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/firebreak_llm_series_maintenance_failures_total 0/);
  });

  it('answers 400 problem+json, never 5xx, to bodies that are not objects on every ingest endpoint', async () => {
    const endpoints = ['/v1/traces', '/v1/metrics', '/api/v1/llm/requests', '/api/v1/alerts', '/api/v1/integrations/alertmanager'];
    for (const endpoint of endpoints) {
      for (const body of ['null', '[]', '[{"a":1}]', '42', '"text"', 'true', '{"unterminated": ']) {
        const response = await fetch(`${server.url}${endpoint}?key=${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(response.status, `${endpoint} ${body}`).toBe(400);
        expect(response.headers.get('content-type'), `${endpoint} ${body}`).toContain('application/problem+json');
      }
    }
    for (const endpoint of ['/v1/traces', '/v1/metrics']) {
      for (const [body, headers] of [
        [Buffer.from([0xff, 0xff, 0xff, 0x01]), { 'content-type': 'application/x-protobuf' }],
        [Buffer.from('not gzip'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }],
        [gzipSync(Buffer.from([0x0a, 0xff])), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }],
      ] as const) {
        const response = await fetch(`${server.url}${endpoint}?key=${key}`, { method: 'POST', headers, body });
        expect(response.status, `${endpoint} ${JSON.stringify(headers)}`).toBe(400);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
      }
    }
    // The Events API keeps PagerDuty's error body, with PagerDuty's 400.
    for (const body of ['null', '[]', '7', '{"x": ']) {
      const response = await fetch(`${server.url}/v2/enqueue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status, body).toBe(400);
    }
  });
});
