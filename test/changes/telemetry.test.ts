import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const T0 = Date.parse('2026-11-20T12:00:00Z');

interface Span {
  service?: string;
  provider?: string;
  requestModel: string;
  responseModel: string;
  promptVersion?: string;
  at: number;
}

/** OTLP/JSON as an OpenTelemetry GenAI instrumentation exports it. */
function otlp(spans: readonly Span[], promptAttribute = 'gen_ai.prompt.version') {
  const nanos = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: spans[0]?.service ?? 'chat-api' } }] },
        scopeSpans: [
          {
            scope: { name: 'opentelemetry.instrumentation.openai' },
            spans: spans.map((s, i) => ({
              traceId: (i + 1).toString(16).padStart(32, '0'),
              spanId: (i + 1).toString(16).padStart(16, '0'),
              name: `chat ${s.requestModel}`,
              kind: 3,
              startTimeUnixNano: nanos(s.at),
              endTimeUnixNano: nanos(s.at + 800),
              attributes: [
                { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                { key: 'gen_ai.provider.name', value: { stringValue: s.provider ?? 'openai' } },
                { key: 'gen_ai.request.model', value: { stringValue: s.requestModel } },
                { key: 'gen_ai.response.model', value: { stringValue: s.responseModel } },
                { key: 'gen_ai.usage.input_tokens', value: { intValue: '120' } },
                { key: 'gen_ai.usage.output_tokens', value: { intValue: 40 } },
                ...(s.promptVersion ? [{ key: promptAttribute, value: { stringValue: s.promptVersion } }] : []),
              ],
              status: { code: 0 },
            })),
          },
        ],
      },
    ],
  };
}

describeEachDatabase('changes noticed in LLM telemetry', (kind) => {
  let database: TestDatabase;
  let server: TestServer;
  let key: string;
  let now = T0;
  const start = () => startTestServer(kind, { database, clock: () => new Date(now) });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    server = await start();
    await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 });
    key = (await server.api('POST', '/api/v1/integrations', { name: 'otel', service: 'chat-api' })).body.routing_key;
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const send = async (spans: Span[]) => {
    now = Math.max(now, ...spans.map((s) => s.at + 1000));
    const response = await server.api('POST', '/v1/traces', otlp(spans), { token: key });
    expect(response.status).toBe(200);
    await server.firebreak.ctx.services.changeDetector.idle();
  };
  const changes = async (query: string) => (await server.api('GET', `/api/v1/changes?${query}`)).body.items as Record<string, unknown>[];
  const spansOf = (responseModel: string, fromMs: number, count: number, extra: Partial<Span> = {}): Span[] =>
    Array.from({ length: count }, (_, i) => ({ requestModel: 'gpt-4o', responseModel, at: fromMs + i * 1000, ...extra }));

  it('a provider swapping the model behind the requested name is one model change, however many spans show it', async () => {
    await send(spansOf('gpt-4o-2024-08-06', T0, 20));
    expect(await changes('kind=model')).toHaveLength(0);
    // The swap happens mid-batch; canary traffic then mixes both versions for a while.
    await send([...spansOf('gpt-4o-2024-08-06', T0 + 60_000, 5), ...spansOf('gpt-4o-2024-11-20', T0 + 66_000, 10)]);
    await send([...spansOf('gpt-4o-2024-08-06', T0 + 120_000, 3), ...spansOf('gpt-4o-2024-11-20', T0 + 124_000, 30)]);
    const model = await changes('kind=model');
    expect(model).toHaveLength(1);
    expect(model[0]).toMatchObject({
      service: 'chat-api',
      kind: 'model',
      source: 'telemetry',
      version_from: 'gpt-4o-2024-08-06',
      version_to: 'gpt-4o-2024-11-20',
      target: 'openai/gpt-4o',
      at: new Date(T0 + 66_000).toISOString(),
      details: { detected_from: 'gen_ai.response.model', provider: 'openai', request_model: 'gpt-4o' },
    });
    // Another requested model is another series: its first response model is its baseline, not a change.
    await send(spansOf('gpt-4o-mini-2024-07-18', T0 + 180_000, 5, { requestModel: 'gpt-4o-mini' }));
    expect(await changes('kind=model')).toHaveLength(1);
  });

  it('a new prompt version is a prompt change, once per transition', async () => {
    await send(spansOf('gpt-4o-2024-11-20', T0 + 240_000, 10, { promptVersion: 'v6' }));
    expect(await changes('kind=prompt')).toHaveLength(0);
    await send(spansOf('gpt-4o-2024-11-20', T0 + 300_000, 10, { promptVersion: 'v7' }));
    await send(spansOf('gpt-4o-2024-11-20', T0 + 360_000, 10, { promptVersion: 'v7' }));
    const prompt = await changes('kind=prompt');
    expect(prompt).toHaveLength(1);
    expect(prompt[0]).toMatchObject({ kind: 'prompt', version_from: 'v6', version_to: 'v7', at: new Date(T0 + 300_000).toISOString(), details: { detected_from: 'gen_ai.prompt.version' } });
  });

  it('remembers what each series showed across a restart: no change is reported twice, a rollback after a pause is a change', async () => {
    await server.close();
    server = await start();
    await send(spansOf('gpt-4o-2024-11-20', T0 + 420_000, 10, { promptVersion: 'v7' }));
    expect(await changes('kind=model')).toHaveLength(1);
    expect(await changes('kind=prompt')).toHaveLength(1);
    // The old version comes back after more than ten minutes away: a rollback.
    await send(spansOf('gpt-4o-2024-08-06', T0 + 30 * 60_000, 5, { promptVersion: 'v7' }));
    const model = await changes('kind=model');
    expect(model).toHaveLength(2);
    expect(model[0]).toMatchObject({ version_from: 'gpt-4o-2024-11-20', version_to: 'gpt-4o-2024-08-06' });
  });

  it('reads the prompt version from JSON records too', async () => {
    const post = (version: string, at: number) =>
      server.api(
        'POST',
        '/api/v1/llm/requests',
        { requests: [{ provider: 'anthropic', model: 'claude-sonnet', response_model: 'claude-sonnet-4', prompt_version: version, started_at: new Date(at).toISOString(), latency_ms: 400 }] },
        { token: key },
      );
    now = T0 + 40 * 60_000;
    expect((await post('2026-11-a', T0 + 35 * 60_000)).status).toBe(200);
    expect((await post('2026-11-b', T0 + 36 * 60_000)).status).toBe(200);
    await server.firebreak.ctx.services.changeDetector.idle();
    const prompt = await changes('kind=prompt&from=' + new Date(T0 + 30 * 60_000).toISOString());
    expect(prompt[0]).toMatchObject({ version_from: '2026-11-a', version_to: '2026-11-b', target: 'anthropic/claude-sonnet' });
  });
});
