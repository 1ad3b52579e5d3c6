/**
 * OTLP load generator, run as its own process by bench/llm/run.ts: pre-builds OTLP/JSON export
 * requests (512 GenAI spans each, the OpenTelemetry SDK's default batch size), then sends them to
 * the server with a fixed number of connections, bounded by a request count and a time limit.
 * Prints one JSON line with what it measured.
 *
 * usage: tsx bench/llm/load.ts <baseUrl> <routingKey> <requests> <concurrency> <maxSeconds>
 */
import { percentile } from '../../src/shared/stats.ts';
import http from 'node:http';
import { generateCalls, NORMAL, seededRandom, toOtlp, type SyntheticCall } from '../../test/llm/traffic.ts';

const [baseUrl, routingKey, requestsArg, concurrencyArg, maxSecondsArg] = process.argv.slice(2);
if (!baseUrl || !routingKey) throw new Error('usage: load.ts <baseUrl> <routingKey> <requests> <concurrency> <maxSeconds>');
const totalRequests = Number(requestsArg ?? 400);
const concurrency = Number(concurrencyArg ?? 4);
const maxMs = Number(maxSecondsArg ?? 60) * 1000;
const SPANS_PER_REQUEST = 512;

// Distinct bodies (services × models) so the server does real aggregation work; spans are stamped
// within the last 20 seconds, as live traffic is, so they land in open buckets.
const random = seededRandom(1);
const nowMs = Date.now();
const bodies: string[] = [];
for (let b = 0; b < 32; b++) {
  const calls: SyntheticCall[] = [];
  const service = `svc-${b % 4}`;
  const model = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'gemini-pro'][b % 4]!;
  while (calls.length < SPANS_PER_REQUEST) {
    calls.push(...generateCalls(random, nowMs - 60_000, nowMs, NORMAL, { service, model, meanPerMinute: 600 }).filter((c) => Date.parse(c.started_at) >= nowMs - 20_000 && Date.parse(c.started_at) < nowMs - 1_000));
  }
  bodies.push(JSON.stringify(toOtlp(calls.slice(0, SPANS_PER_REQUEST))));
}

const url = new URL('/v1/traces', baseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latencies: number[] = [];
let sent = 0;
let failed = 0;
let rejectedSpans = 0;

function post(body: string): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${routingKey}`, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          latencies.push(performance.now() - started);
          if (response.statusCode !== 200) failed++;
          else rejectedSpans += (JSON.parse(text) as { partialSuccess?: { rejectedSpans: number } }).partialSuccess?.rejectedSpans ?? 0;
          resolve();
        });
      },
    );
    request.on('error', () => {
      failed++;
      resolve();
    });
    request.end(body);
  });
}

const started = performance.now();
async function worker(): Promise<void> {
  while (sent < totalRequests && performance.now() - started < maxMs) {
    const body = bodies[sent % bodies.length]!;
    sent++;
    await post(body);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q: number) => percentile(latencies, q) ?? 0;
process.stdout.write(
  JSON.stringify({
    requests: sent,
    failed,
    spans: sent * SPANS_PER_REQUEST,
    rejectedSpans,
    seconds,
    spansPerSecond: (sent * SPANS_PER_REQUEST) / seconds,
    bodyBytes: Buffer.byteLength(bodies[0]!),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  }) + '\n',
);
