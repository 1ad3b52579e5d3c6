import type { TestServer } from '../support/server.ts';

/** Creates a catalogue service (and what it depends on must exist already). */
export async function createService(server: TestServer, id: string, dependsOn: string[] = []): Promise<void> {
  const created = await server.api('POST', '/api/v1/services', { id, depends_on: dependsOn });
  if (created.status !== 201) throw new Error(`creating service ${id}: ${created.status} ${JSON.stringify(created.body)}`);
}

export async function createIntegration(
  server: TestServer,
  service: string,
  rateLimit?: { per_second: number; burst: number },
): Promise<{ id: string; routing_key: string }> {
  const created = await server.api('POST', '/api/v1/integrations', { name: `${service}-monitoring`, service, ...(rateLimit ? { rate_limit: rateLimit } : {}) });
  if (created.status !== 201) throw new Error(`creating integration: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body;
}

export function trigger(routingKey: string, summary: string, extra: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    payload: { summary, source: 'prometheus-1', severity: 'critical', ...payload },
    ...extra,
  };
}

/** Posts raw text (or JSON) without the admin token: ingestion authenticates by routing key. */
export async function post(server: TestServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  return server.api('POST', path, body, { token: null, headers });
}

/** Waits for an asynchronous consequence (event listeners run after the response); the limit is for a loaded machine. */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
