import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describeEachDatabase('operations endpoints', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server.close());

  it('reports health without a token', async () => {
    const health = await server.api('GET', '/healthz', undefined, { token: null });
    expect(health.body).toEqual({ status: 'ok', database: kind });
  });

  it('exposes open incidents by severity and request durations in Prometheus format', async () => {
    await server.api('POST', '/api/v1/incidents', { title: 'a', severity: 'critical' });
    await server.api('POST', '/api/v1/incidents', { title: 'b', severity: 'critical' });
    const resolved = await server.api('POST', '/api/v1/incidents', { title: 'c', severity: 'low' });
    await server.api('POST', `/api/v1/incidents/${resolved.body.id}/resolve`, { resolution: 'x' });
    const metrics = await server.api<string>('GET', '/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toContain('firebreak_open_incidents{severity="critical"} 2');
    expect(metrics.body).toContain('firebreak_open_incidents{severity="low"} 0');
    expect(metrics.body).toMatch(/firebreak_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/incidents",status_code="201"\} 3/);
  });

  it('serves an OpenAPI 3 document generated from the request schemas', async () => {
    const { body } = await server.api('GET', '/openapi.json');
    expect(body.openapi).toMatch(/^3\./);
    const create = body.paths['/api/v1/incidents'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(['title', 'severity']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.severity.enum).toEqual(['low', 'medium', 'high', 'critical']);
    for (const path of ['/api/v1/incidents/{id}/transition', '/api/v1/metrics/incidents', '/api/v1/services', '/api/v1/teams', '/api/v1/tokens']) {
      expect(body.paths[path], path).toBeDefined();
    }
  });
});

describe('request logs', () => {
  it('never carry a routing key or token passed in the query string', async () => {
    const { redactUrl } = await import('../../src/http/app.ts');
    expect(redactUrl('/api/v1/integrations/alertmanager?key=abc123&x=1')).toBe('/api/v1/integrations/alertmanager?key=[REDACTED]&x=1');
    expect(redactUrl('/v1/traces?Token=zzz')).toBe('/v1/traces?Token=[REDACTED]');
    expect(redactUrl('/api/v1/incidents?monkey=1')).toBe('/api/v1/incidents?monkey=1');
  });
});
