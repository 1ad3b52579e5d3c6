import client from 'prom-client';

export interface HttpMetrics {
  registry: client.Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

/** One registry per server instance, so tests that start several servers never share counters. */
export function createHttpMetrics(): HttpMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'firebreak_process_' });
  const duration = new client.Histogram({
    name: 'firebreak_http_request_duration_seconds',
    help: 'HTTP request durations by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    observeRequest(method, route, status, seconds) {
      duration.observe({ method, route, status_code: String(status) }, seconds);
    },
  };
}
