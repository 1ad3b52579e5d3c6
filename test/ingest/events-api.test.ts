import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { ManualClock } from '../support/clock.ts';
import { createIntegration, createService, post, trigger } from './helpers.ts';

describeEachDatabase('PagerDuty Events API v2', (kind) => {
  let server: TestServer;
  let key: string;
  let integrationId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await createService(server, 'chat-api');
    ({ routing_key: key, id: integrationId } = await createIntegration(server, 'chat-api'));
  });
  afterAll(async () => server.close());

  const alertCount = async () => (await server.api('GET', `/api/v1/alerts?integration_id=${integrationId}&limit=500`)).body.items.length as number;

  it('integrations are admin only, and the routing key is shown once', async () => {
    const viewer = await server.tokenFor('responder');
    const denied = await server.api('POST', '/api/v1/integrations', { name: 'x', service: 'chat-api' }, { token: viewer });
    expect(denied.status).toBe(403);
    expect((await server.api('GET', '/api/v1/integrations', undefined, { token: viewer })).status).toBe(403);
    const list = await server.api('GET', '/api/v1/integrations');
    expect(list.status).toBe(200);
    const listed = list.body.find((i: { id: string }) => i.id === integrationId);
    expect(listed).toMatchObject({ service: 'chat-api', key_hint: key.slice(0, 6) });
    expect(JSON.stringify(list.body)).not.toContain(key);
    // Nothing received yet: no last event, no counts; the URLs senders post to.
    expect(listed.activity).toEqual({ alerts: 0, open_alerts: 0, events: 0, last_event_at: null });
    expect(listed.endpoints).toEqual({ events_v2: '/v2/enqueue', alertmanager: '/api/v1/integrations/alertmanager', generic: '/api/v1/alerts' });
    const unknownService = await server.api('POST', '/api/v1/integrations', { name: 'x', service: 'nope' });
    expect(unknownService.status).toBe(422);
    expect(unknownService.body.field).toBe('service');
  });

  it('a trigger opens an incident detected at the alert time; repeats count, ack and resolve act on the alert', async () => {
    const timestamp = new Date(Date.now() - 90_000).toISOString();
    const first = await post(server, '/v2/enqueue', trigger(key, 'p99 latency above 2s', { dedup_key: 'latency-1' }, { timestamp, component: 'gateway', custom_details: { region: 'eu' } }));
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'latency-1' });
    for (let i = 0; i < 4; i++) expect((await post(server, '/v2/enqueue', trigger(key, 'p99 latency above 2s', { dedup_key: 'latency-1' }))).status).toBe(202);

    const alerts = await server.api('GET', `/api/v1/alerts?integration_id=${integrationId}`);
    const alert = alerts.body.items.find((a: { dedup_key: string }) => a.dedup_key === 'latency-1');
    expect(alert).toMatchObject({ occurrences: 5, status: 'firing', severity: 'critical', service: 'chat-api', decision: 'opened_incident', rule: 'default', format: 'events_v2' });
    expect(alert.labels).toMatchObject({ component: 'gateway', region: 'eu', source: 'prometheus-1' });
    expect(alert.signal_at).toBe(timestamp);
    const incident = await server.api('GET', `/api/v1/incidents/${alert.incident_id}`);
    expect(incident.body).toMatchObject({ severity: 'critical', services: ['chat-api'], detected_at: timestamp, title: 'p99 latency above 2s' });

    const detail = await server.api('GET', `/api/v1/alerts/${alert.id}`);
    expect(detail.body.raw).toMatchObject({ event_action: 'trigger', dedup_key: 'latency-1' });
    expect(JSON.stringify(detail.body.raw)).not.toContain(key);

    const ack = await post(server, '/v2/enqueue', { routing_key: key, event_action: 'acknowledge', dedup_key: 'latency-1' });
    expect(ack.status).toBe(202);
    expect((await server.api('GET', `/api/v1/alerts/${alert.id}`)).body.status).toBe('acknowledged');
    const resolved = await post(server, '/v2/enqueue', { routing_key: key, event_action: 'resolve', dedup_key: 'latency-1' });
    expect(resolved.status).toBe(202);
    expect((await server.api('GET', `/api/v1/alerts/${alert.id}`)).body).toMatchObject({ status: 'resolved', occurrences: 5 });

    const timeline = await server.api('GET', `/api/v1/incidents/${alert.incident_id}/timeline`);
    const kinds = timeline.body.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['created', 'alert_attached', 'alert_acknowledged', 'alert_resolved', 'alerts_all_resolved']));
    const allResolved = timeline.body.find((e: { kind: string }) => e.kind === 'alerts_all_resolved');
    expect(allResolved.summary).toContain('responder');
    expect((await server.api('GET', `/api/v1/incidents/${alert.incident_id}`)).body.status).toBe('detected');

    // Once resolved, the same key fires again as a new alert.
    await post(server, '/v2/enqueue', trigger(key, 'p99 latency above 2s', { dedup_key: 'latency-1' }));
    const again = await server.api('GET', `/api/v1/alerts?integration_id=${integrationId}&status=firing`);
    expect(again.body.items.filter((a: { dedup_key: string }) => a.dedup_key === 'latency-1')).toHaveLength(1);

    // The integration's activity counts what it delivered: 2 alerts (the first resolved), 6 triggers, the last one now.
    const fresh = again.body.items.find((a: { dedup_key: string }) => a.dedup_key === 'latency-1');
    const integration = (await server.api('GET', `/api/v1/integrations/${integrationId}`)).body;
    expect(integration.activity).toEqual({ alerts: 2, open_alerts: 1, events: 6, last_event_at: fresh.last_seen_at });
  });

  it('a trigger without dedup_key gets one generated from its content, so a retried request creates nothing twice', async () => {
    const event = trigger(key, 'disk full on db-7', {}, { timestamp: '2026-11-24T10:00:00.000Z' });
    const first = await post(server, '/v2/enqueue', event);
    expect(first.status).toBe(202);
    expect(first.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    const before = await alertCount();
    const retry = await post(server, '/v2/enqueue', event);
    expect(retry.body.dedup_key).toBe(first.body.dedup_key);
    expect(await alertCount()).toBe(before);
  });

  it('rejects bad events with the Events API error body and stores nothing', async () => {
    const before = await alertCount();
    const incidentsBefore = (await server.api('GET', '/api/v1/incidents?limit=500')).body.items.length;
    const cases: [unknown, number, string][] = [
      ['{"routing_key": "', 400, ''],
      [{ ...trigger(key, 'x'), event_action: 'explode' }, 400, 'event_action'],
      [{ routing_key: key, event_action: 'trigger', payload: { source: 's', severity: 'error' } }, 400, 'payload.summary'],
      [{ routing_key: key, event_action: 'trigger', payload: { summary: 's', severity: 'error' } }, 400, 'payload.source'],
      [{ routing_key: key, event_action: 'trigger', payload: { summary: 's', source: 's' } }, 400, 'payload.severity'],
      [trigger(key, 'x'.repeat(1025)), 400, 'payload.summary'],
      [trigger(key, 'x', {}, { timestamp: 'yesterday' }), 400, 'payload.timestamp'],
      [trigger(key, 'x', {}, { timestamp: '2026-13-45T25:00:00Z' }), 400, 'payload.timestamp'],
      [{ routing_key: key, event_action: 'trigger' }, 400, 'payload'],
      [{ routing_key: key, event_action: 'resolve' }, 400, 'dedup_key'],
      [trigger('0'.repeat(32), 'x'), 400, 'Invalid routing key'],
      [trigger(key, 'x', {}, { custom_details: { blob: 'y'.repeat(600 * 1024) } }), 413, ''],
    ];
    for (const [body, status, mention] of cases) {
      const response = await post(server, '/v2/enqueue', body);
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      expect(response.body.status).toBe('invalid event');
      expect(Array.isArray(response.body.errors)).toBe(true);
      if (mention) expect(response.body.errors.join(' ')).toContain(mention);
    }
    expect(await alertCount()).toBe(before);
    expect((await server.api('GET', '/api/v1/incidents?limit=500')).body.items.length).toBe(incidentsBefore);
  });

  it('a flooding integration gets 429 with Retry-After while another keeps working, and is admitted again as its bucket refills', async () => {
    // The bucket refills by the server's clock, which stands still here: however slow the machine, no token comes back until the test moves it.
    const clock = new ManualClock('2026-03-01T12:00:00.000Z');
    const flooded = await startTestServer(kind, { clock: clock.now });
    try {
      await createService(flooded, 'noisy');
      const noisy = await createIntegration(flooded, 'noisy', { per_second: 1, burst: 5 });
      const quiet = await createIntegration(flooded, 'noisy');
      const flood = () => post(flooded, '/v2/enqueue', trigger(noisy.routing_key, 'flood', { dedup_key: 'flood' }));
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await flood()).status);
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
      const limited = await flood();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.body.status).toBe('throttle event');
      expect((await post(flooded, '/v2/enqueue', trigger(quiet.routing_key, 'unrelated'))).status).toBe(202);
      // Generic JSON and Alertmanager share the bucket and answer with problem+json.
      const generic = await post(flooded, '/api/v1/alerts', { summary: 'x', source: 'y', severity: 'info' }, { authorization: `Bearer ${noisy.routing_key}` });
      expect(generic.status).toBe(429);
      expect(generic.headers.get('retry-after')).toBe('1');
      expect(generic.body.code).toBe('rate_limited');
      // One token a second: after 2 s two events pass and the third waits again.
      clock.advance(2000);
      expect([(await flood()).status, (await flood()).status, (await flood()).status]).toEqual([202, 202, 429]);
    } finally {
      await flooded.close();
    }
  });

  it('a deleted integration\u2019s routing key stops working at once, though it was just used (and cached)', async () => {
    const doomed = await createIntegration(server, 'chat-api');
    expect((await post(server, '/v2/enqueue', trigger(doomed.routing_key, 'about to be deleted', { dedup_key: 'doomed-1' }))).status).toBe(202);
    expect((await server.api('DELETE', `/api/v1/integrations/${doomed.id}`)).status).toBe(200);
    const after = await post(server, '/v2/enqueue', trigger(doomed.routing_key, 'about to be deleted', { dedup_key: 'doomed-1' }));
    expect(after.status).toBe(400);
    expect(after.body).toMatchObject({ status: 'invalid event', errors: ['Invalid routing key'] });
    expect((await post(server, `/api/v1/alerts?key=${doomed.routing_key}`, { summary: 's', source: 'x', severity: 'error' })).status).toBe(401);
    // Other integrations keep working.
    expect((await post(server, '/v2/enqueue', trigger(key, 'still fine', { dedup_key: 'fine-1' }))).status).toBe(202);
  });

  it('the endpoint is in the OpenAPI document', async () => {
    const doc = await server.api('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v2/enqueue', '/api/v1/integrations/alertmanager', '/api/v1/alerts', '/api/v1/incidents/{id}/related']));
  });
});
