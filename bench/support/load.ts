/**
 * A closed-loop HTTP load generator meant to run in its own process: `concurrency` workers each send
 * the next request as soon as the previous answers, for `durationMs`. Keep-alive connections, like a
 * real client pool. Prints one JSON line with throughput and latency percentiles.
 */
import http from 'node:http';
import { percentile } from '../../src/shared/stats.ts';

export interface LoadSpec {
  url: string;
  token: string;
  concurrency: number;
  durationMs: number;
  /** Produces the i-th request. */
  request: 'create-incident' | 'read-incident' | 'pagerduty-mix';
  ids?: string[];
  routingKeys?: string[];
}

export interface LoadResult {
  requests: number;
  errors: number;
  statusCounts: Record<string, number>;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time the load generator itself spent (user + system), so its share of a shared machine is known. */
  cpuMs: number;
  createdIds: string[];
}

function buildRequest(spec: LoadSpec, i: number): { method: string; path: string; body?: string } {
  switch (spec.request) {
    case 'create-incident':
      return {
        method: 'POST',
        path: '/api/v1/incidents',
        body: JSON.stringify({ title: `load ${i}: 429 storm on chat-api`, severity: i % 10 === 0 ? 'critical' : 'high', labels: { bench: 'api' } }),
      };
    case 'read-incident': {
      const ids = spec.ids ?? [];
      return { method: 'GET', path: `/api/v1/incidents/${ids[i % ids.length]}` };
    }
    case 'pagerduty-mix': {
      // 90% repeats of a small set of existing dedup keys, 10% new keys.
      const keys = spec.routingKeys ?? [];
      const repeat = i % 10 !== 0;
      const dedup = repeat ? `known-${i % 50}` : `new-${i}-${Math.random().toString(36).slice(2)}`;
      return {
        method: 'POST',
        path: '/v2/enqueue',
        body: JSON.stringify({
          routing_key: keys[i % keys.length],
          event_action: 'trigger',
          dedup_key: dedup,
          payload: { summary: `p95 latency high on chat-api (${dedup})`, source: 'prometheus', severity: 'error' },
        }),
      };
    }
  }
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const target = new URL(spec.url);
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  const createdIds: string[] = [];
  let errors = 0;
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + spec.durationMs;

  const send = (i: number) =>
    new Promise<void>((resolve) => {
      const { method, path, body } = buildRequest(spec, i);
      const t0 = performance.now();
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
          agent,
          headers: { authorization: `Bearer ${spec.token}`, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            const status = String(res.statusCode);
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
            if ((res.statusCode ?? 500) >= 400) errors++;
            else if (spec.request === 'create-incident' && createdIds.length < 5000) createdIds.push((JSON.parse(text) as { id: string }).id);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      if (body) req.write(body);
      req.end();
    });

  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < deadline) await send(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    statusCounts,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5) ?? 0,
    p99Ms: percentile(latencies, 0.99) ?? 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    createdIds,
  };
}

// Run as a child process: the spec arrives as JSON in argv[2], the result leaves as JSON on stdout.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const spec = JSON.parse(process.argv[2]!) as LoadSpec;
  runLoad(spec).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`));
}
