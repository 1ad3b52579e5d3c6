import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createIntegration, createService, post } from './helpers.ts';

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');

describeEachDatabase('Alertmanager webhook and generic JSON alerts', (kind) => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await createService(server, 'llm-platform');
    await createService(server, 'chat-api', ['llm-platform']);
    // The receiver belongs to the platform service; alerts naming a catalogue service go to that service.
    ({ routing_key: key } = await createIntegration(server, 'llm-platform'));
  });
  afterAll(async () => server.close());

  it('accepts a recorded version 4 payload: one alert per fingerprint, labels, annotations and generatorURL kept', async () => {
    const firing = await post(server, '/api/v1/integrations/alertmanager', fixture('alertmanager-v4-firing.json'), {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
    });
    expect(firing.status).toBe(202);
    expect(firing.body.alerts.map((a: { fingerprint: string }) => a.fingerprint)).toEqual(['a1d2f3e4b5c6d7e8', '0f9e8d7c6b5a4321']);
    const [first, second] = firing.body.alerts;
    expect(first.outcome).toBe('created');
    expect(first.decision).toBe('opened_incident');
    expect(second.decision).toBe('grouped');
    expect(second.incident_id).toBe(first.incident_id);

    const alert = (await server.api('GET', `/api/v1/alerts/${first.alert_id}`)).body;
    expect(alert).toMatchObject({
      dedup_key: 'a1d2f3e4b5c6d7e8',
      format: 'alertmanager',
      service: 'chat-api',
      severity: 'critical',
      summary: 'chat-api error rate above 5%',
      signal_at: '2026-11-24T09:41:27.384Z',
      status: 'firing',
    });
    expect(alert.labels).toMatchObject({ alertname: 'LLMHighErrorRate', cluster: 'prod-eu-1', namespace: 'llm' });
    expect(alert.details.annotations.runbook_url).toBe('https://runbooks.example.com/chat-api/high-error-rate');
    expect(alert.links[0]).toMatchObject({ text: 'generatorURL' });
    expect(alert.links[0].href).toContain('http://prometheus-0:9090/graph');
    expect(alert.raw.fingerprint).toBe('a1d2f3e4b5c6d7e8');

    const incident = (await server.api('GET', `/api/v1/incidents/${first.incident_id}`)).body;
    expect(incident).toMatchObject({ severity: 'critical', services: ['chat-api'], detected_at: '2026-11-24T09:41:27.384Z' });

    // Alertmanager re-sends the group on its repeat interval: counted, nothing new.
    const again = await post(server, `/api/v1/integrations/alertmanager?key=${key}`, fixture('alertmanager-v4-firing.json'), { 'content-type': 'application/json' });
    expect(again.status).toBe(202);
    expect(again.body.alerts.map((a: { outcome: string }) => a.outcome)).toEqual(['repeated', 'repeated']);
    expect(again.body.alerts[0].occurrences).toBe(2);

    const resolved = await post(server, '/api/v1/integrations/alertmanager', fixture('alertmanager-v4-resolved.json'), {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
    });
    expect(resolved.status).toBe(202);
    expect(resolved.body.alerts[0]).toMatchObject({ outcome: 'resolved', status: 'resolved' });
    const summary = (await server.api('GET', `/api/v1/incidents/${first.incident_id}/alerts`)).body.summary;
    expect(summary).toMatchObject({ alerts: 2, open: 1, resolved: 1, occurrences: 4 });
  });

  it('rejects missing or unknown routing keys and malformed payloads with problem+json, storing nothing', async () => {
    const before = (await server.api('GET', '/api/v1/alerts?limit=500')).body.items.length;
    const none = await post(server, '/api/v1/integrations/alertmanager', fixture('alertmanager-v4-firing.json'), { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    const unknown = await post(server, '/api/v1/integrations/alertmanager?key=nope', fixture('alertmanager-v4-firing.json'), { 'content-type': 'application/json' });
    expect(unknown.status).toBe(401);
    const v3 = await post(server, `/api/v1/integrations/alertmanager?key=${key}`, { ...JSON.parse(fixture('alertmanager-v4-firing.json')), version: '3' });
    expect(v3.status).toBe(400);
    expect(v3.body.field).toBe('version');
    const badTime = JSON.parse(fixture('alertmanager-v4-firing.json'));
    badTime.alerts[1].startsAt = 'not a time';
    const badTimeResponse = await post(server, `/api/v1/integrations/alertmanager?key=${key}`, badTime);
    expect(badTimeResponse.status).toBe(400);
    expect(badTimeResponse.body.field).toBe('alerts[1].startsAt');
    const malformed = await post(server, `/api/v1/integrations/alertmanager?key=${key}`, '{"version":', { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('malformed_input');
    expect((await server.api('GET', '/api/v1/alerts?limit=500')).body.items.length).toBe(before);
  });

  it('generic JSON alerts trigger, repeat and resolve; missing fields are named', async () => {
    const auth = { authorization: `Bearer ${key}` };
    const body = { dedup_key: 'gpu-oom', summary: 'GPU out of memory on inference node', source: 'dcgm-exporter', severity: 'error', labels: { node: 'gpu-3' }, details: { free_mb: 12 } };
    const created = await post(server, '/api/v1/alerts', body, auth);
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ outcome: 'created', status: 'firing', occurrences: 1, decision: 'opened_incident' });
    const repeated = await post(server, '/api/v1/alerts', body, auth);
    expect(repeated.body).toMatchObject({ outcome: 'repeated', occurrences: 2, alert_id: created.body.alert_id });
    const resolved = await post(server, '/api/v1/alerts', { action: 'resolve', dedup_key: 'gpu-oom' }, auth);
    expect(resolved.body).toMatchObject({ outcome: 'resolved', status: 'resolved' });
    const alert = (await server.api('GET', `/api/v1/alerts/${created.body.alert_id}`)).body;
    expect(alert).toMatchObject({ format: 'generic', service: 'llm-platform', labels: { node: 'gpu-3', source: 'dcgm-exporter' }, details: { free_mb: 12 } });

    const missing = await post(server, '/api/v1/alerts', { summary: 'x', severity: 'info' }, auth);
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('source');
    const unknownField = await post(server, '/api/v1/alerts', { ...body, colour: 'red' }, auth);
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.field).toBe('colour');
    const tooBig = await post(server, '/api/v1/alerts', { ...body, details: { blob: 'x'.repeat(520 * 1024) } }, auth);
    expect(tooBig.status).toBe(413);
  });

  it('lists alerts with filters; responders can acknowledge and resolve them', async () => {
    const firing = await server.api('GET', '/api/v1/alerts?status=firing&service=chat-api');
    expect(firing.status).toBe(200);
    expect(firing.body.items.length).toBeGreaterThan(0);
    for (const a of firing.body.items) expect(a).toMatchObject({ status: 'firing', service: 'chat-api' });
    const target = firing.body.items[0];
    const byIncident = await server.api('GET', `/api/v1/alerts?incident_id=${target.incident_id}`);
    expect(byIncident.body.items.every((a: { incident_id: string }) => a.incident_id === target.incident_id)).toBe(true);
    const page = await server.api('GET', '/api/v1/alerts?limit=1');
    expect(page.body.next_cursor).toBeTruthy();
    const next = await server.api('GET', `/api/v1/alerts?limit=1&cursor=${page.body.next_cursor}`);
    expect(next.body.items[0].id).not.toBe(page.body.items[0].id);
    const viewer = await server.tokenFor('viewer');
    expect((await server.api('POST', `/api/v1/alerts/${target.id}/resolve`, {}, { token: viewer })).status).toBe(403);
    const acked = await server.api('POST', `/api/v1/alerts/${target.id}/acknowledge`, {});
    expect(acked.body.status).toBe('acknowledged');
    const resolved = await server.api('POST', `/api/v1/alerts/${target.id}/resolve`, {});
    expect(resolved.body.status).toBe('resolved');
    expect((await server.api('POST', `/api/v1/alerts/${target.id}/resolve`, {})).status).toBe(409);
    expect((await server.api('GET', '/api/v1/alerts?status=burning')).status).toBe(400);
  });
});
