import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createIntegration, createService, eventually, post, trigger } from './helpers.ts';

/** Sends `total` requests with at most `concurrency` in flight. */
async function pool<T>(total: number, concurrency: number, send: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        results[i] = await send(i);
      }
    }),
  );
  return results;
}

describeEachDatabase('grouping', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
    for (const s of ['rag-api', 'embeddings', 'gateway']) await createService(server, s);
  });
  afterAll(async () => server.close());

  it('a storm of 10,000 alerts from one failure becomes one incident with 10,000 occurrences counted', async () => {
    const { routing_key: key } = await createIntegration(server, 'rag-api', { per_second: 100_000, burst: 100_000 });
    // 500 replicas each report the failure 20 times, in Alertmanager batches of 500, four batches in flight.
    const batch = {
      version: '4',
      status: 'firing',
      receiver: 'firebreak',
      groupLabels: { alertname: 'UpstreamTimeout' },
      alerts: Array.from({ length: 500 }, (_, i) => ({
        status: 'firing',
        labels: { alertname: 'UpstreamTimeout', replica: `rag-api-${i}`, severity: i % 2 ? 'error' : 'critical' },
        annotations: { summary: `replica ${i}: upstream embeddings timing out` },
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        fingerprint: `fp-${i}`,
      })),
    };
    const statuses = await pool(20, 4, async () => (await post(server, `/api/v1/integrations/alertmanager?key=${key}`, batch)).status);
    expect(statuses.every((s) => s === 202)).toBe(true);
    const incidents = await server.api('GET', '/api/v1/incidents?service=rag-api&limit=500');
    expect(incidents.body.items).toHaveLength(1);
    const summary = (await server.api('GET', `/api/v1/incidents/${incidents.body.items[0].id}/alerts?limit=1`)).body.summary;
    expect(summary).toMatchObject({ alerts: 500, open: 500, occurrences: 10_000 });
  });

  it('concurrent first alerts of one failure open exactly one incident', async () => {
    await createService(server, 'reranker');
    const { routing_key: key } = await createIntegration(server, 'reranker', { per_second: 100_000, burst: 100_000 });
    const statuses = await pool(400, 32, async (i) => (await post(server, '/v2/enqueue', trigger(key, `reranker ${i % 100} failing`, { dedup_key: `rr-${i % 100}` }))).status);
    expect(statuses.every((s) => s === 202)).toBe(true);
    const incidents = await server.api('GET', '/api/v1/incidents?service=reranker&limit=500');
    expect(incidents.body.items).toHaveLength(1);
    const summary = (await server.api('GET', `/api/v1/incidents/${incidents.body.items[0].id}/alerts?limit=1`)).body.summary;
    expect(summary).toMatchObject({ alerts: 100, occurrences: 400 });
    const opened = await server.api('GET', '/api/v1/alerts?service=reranker&decision=opened_incident');
    expect(opened.body.items).toHaveLength(1);
  });

  it('groups by service within the window, by grouping labels across services, and not into a resolved incident', async () => {
    const current = (await server.api('GET', '/api/v1/routing-rules')).body;
    expect((await server.api('PUT', '/api/v1/routing-rules', { yaml: 'defaults:\n  group_by: [cluster, failure]\n  group_window_minutes: 30\n', version: current.version })).status).toBe(200);
    const embeddings = await createIntegration(server, 'embeddings');
    const gateway = await createIntegration(server, 'gateway');

    const first = await post(server, '/api/v1/alerts', { summary: 'embeddings OOM', source: 'k8s', severity: 'critical', labels: { cluster: 'eu-1', failure: 'oom' } }, { authorization: `Bearer ${embeddings.routing_key}` });
    expect(first.body.decision).toBe('opened_incident');
    const sameService = await post(server, '/api/v1/alerts', { summary: 'embeddings p99 high', source: 'k8s', severity: 'error' }, { authorization: `Bearer ${embeddings.routing_key}` });
    expect(sameService.body).toMatchObject({ decision: 'grouped', incident_id: first.body.incident_id });
    const sameLabels = await post(server, '/api/v1/alerts', { summary: 'gateway OOM', source: 'k8s', severity: 'critical', labels: { cluster: 'eu-1', failure: 'oom' } }, { authorization: `Bearer ${gateway.routing_key}` });
    expect(sameLabels.body).toMatchObject({ decision: 'grouped', incident_id: first.body.incident_id });
    const otherLabels = await post(server, '/api/v1/alerts', { summary: 'gateway 5xx', source: 'k8s', severity: 'critical', labels: { cluster: 'us-1', failure: '5xx' } }, { authorization: `Bearer ${gateway.routing_key}` });
    expect(otherLabels.body.decision).toBe('opened_incident');
    expect(otherLabels.body.incident_id).not.toBe(first.body.incident_id);

    // A responder resolves the incident: its alerts resolve with it, and the next trigger opens a new incident.
    const resolved = await server.api('POST', `/api/v1/incidents/${first.body.incident_id}/resolve`, { resolution: 'restarted embeddings with more memory' });
    expect(resolved.status).toBe(200);
    const open = await eventually(
      async () => (await server.api('GET', `/api/v1/incidents/${first.body.incident_id}/alerts`)).body.summary.open as number,
      (n) => n === 0,
    );
    expect(open).toBe(0);
    const after = await post(server, '/api/v1/alerts', { summary: 'embeddings OOM', source: 'k8s', severity: 'critical', labels: { cluster: 'eu-1', failure: 'oom' } }, { authorization: `Bearer ${embeddings.routing_key}` });
    expect(after.body.decision).toBe('opened_incident');
    expect(after.body.incident_id).not.toBe(first.body.incident_id);
    const timeline = (await server.api('GET', `/api/v1/incidents/${first.body.incident_id}/timeline?kind=alert_resolved`)).body;
    expect(timeline[0].summary).toContain('resolved with the incident');
  });

  it('a more severe alert grouped into an incident raises its severity, a milder one never lowers it', async () => {
    await createService(server, 'moderation');
    const { routing_key: key } = await createIntegration(server, 'moderation');
    const first = await post(server, '/v2/enqueue', trigger(key, 'moderation latency high', { dedup_key: 'mod-latency' }, { severity: 'error' }));
    const alert = async (dedupKey: string) => (await server.api('GET', `/api/v1/alerts?service=moderation&limit=50`)).body.items.find((a: { dedup_key: string }) => a.dedup_key === dedupKey);
    const incidentId = (await alert(first.body.dedup_key)).incident_id;
    expect((await server.api('GET', `/api/v1/incidents/${incidentId}`)).body.severity).toBe('high');

    await post(server, '/v2/enqueue', trigger(key, 'moderation down', { dedup_key: 'mod-down' }, { severity: 'critical' }));
    expect((await alert('mod-down')).incident_id).toBe(incidentId);
    expect((await server.api('GET', `/api/v1/incidents/${incidentId}`)).body.severity).toBe('critical');
    const timeline = (await server.api('GET', `/api/v1/incidents/${incidentId}/timeline`)).body;
    expect(timeline.filter((e: { kind: string; data: { field?: string } }) => e.kind === 'field_updated' && e.data.field === 'severity').map((e: { data: unknown }) => e.data)).toEqual([
      { field: 'severity', old: 'high', new: 'critical' },
    ]);

    await post(server, '/v2/enqueue', trigger(key, 'moderation queue growing', { dedup_key: 'mod-queue' }, { severity: 'warning' }));
    expect((await alert('mod-queue')).incident_id).toBe(incidentId);
    expect((await server.api('GET', `/api/v1/incidents/${incidentId}`)).body.severity).toBe('critical');
  });

  it('with a zero window every new alert opens its own incident', async () => {
    const current = (await server.api('GET', '/api/v1/routing-rules')).body;
    await server.api('PUT', '/api/v1/routing-rules', { yaml: 'defaults:\n  group_window_minutes: 0\n', version: current.version });
    const gateway = (await server.api('GET', '/api/v1/integrations?service=gateway')).body[0];
    expect(gateway).toBeTruthy();
    const key = (await createIntegration(server, 'gateway')).routing_key;
    const a = await post(server, '/v2/enqueue', trigger(key, 'a', { dedup_key: 'zero-a' }));
    const b = await post(server, '/v2/enqueue', trigger(key, 'b', { dedup_key: 'zero-b' }));
    const alerts = (await server.api('GET', '/api/v1/alerts?service=gateway&limit=500')).body.items;
    const ids = alerts.filter((x: { dedup_key: string }) => x.dedup_key === a.body.dedup_key || x.dedup_key === b.body.dedup_key).map((x: { incident_id: string }) => x.incident_id);
    expect(new Set(ids).size).toBe(2);
  });
});
