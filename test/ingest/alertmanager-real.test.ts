import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startAlertmanager, type RealAlertmanager } from '../support/alertmanager.ts';
import { createIntegration, createService, eventually } from './helpers.ts';

type AlertItem = { id: string; format: string; service: string; incident_id: string | null; labels: Record<string, string>; reason: string };
type TimelineItem = { kind: string; summary: string; data: Record<string, unknown> };

/**
 * A real Prometheus Alertmanager (Debian's) sends to a real Firebreak as users connect it: a webhook
 * receiver with the routing key as its bearer credentials, one with `?key=` and `max_alerts`, and a
 * `pagerduty_configs` receiver whose `url` points at Firebreak's Events API.
 */
describeEachDatabase('a real Alertmanager sending to Firebreak', (kind) => {
  let server: TestServer;
  let alertmanager: RealAlertmanager;

  beforeAll(async () => {
    server = await startTestServer(kind);
    await createService(server, 'storage');
    const { routing_key: key } = await createIntegration(server, 'storage');
    alertmanager = await startAlertmanager(`
route:
  receiver: firebreak-webhook
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['via="pagerduty"']
      receiver: firebreak-pagerduty
    - matchers: ['via="truncated"']
      receiver: firebreak-truncated
receivers:
  - name: firebreak-webhook
    webhook_configs:
      - url: ${server.url}/api/v1/integrations/alertmanager
        http_config:
          authorization:
            credentials: ${key}
  - name: firebreak-truncated
    webhook_configs:
      - url: ${server.url}/api/v1/integrations/alertmanager?key=${key}
        max_alerts: 10
  - name: firebreak-pagerduty
    pagerduty_configs:
      - routing_key: ${key}
        url: ${server.url}/v2/enqueue
`);
  });
  afterAll(async () => {
    await alertmanager?.stop();
    await server?.close();
  });

  const alertsOf = async (query: string): Promise<AlertItem[]> => (await server.api('GET', `/api/v1/alerts?limit=500&${query}`)).body.items;

  it('delivers a whole group of 2,000 alerts: one incident, every alert, summarised on the timeline', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    await alertmanager.post(
      Array.from({ length: 2000 }, (_, i) => ({
        labels: { alertname: 'DiskFull', instance: `node-${i}`, severity: 'critical', service: i % 2 === 0 ? 'storage' : 'not-in-catalogue' },
        annotations: { summary: `disk full on node-${i}` },
        startsAt,
      })),
    );
    const [first] = await eventually(() => alertsOf('source=node-0'), (items) => items.length === 1, 60_000);
    expect(first?.incident_id).toBeTruthy();
    const incidentId = first!.incident_id!;
    const summary = await eventually(
      async () => (await server.api('GET', `/api/v1/incidents/${incidentId}/alerts?limit=1`)).body.summary as { alerts: number },
      (s) => s.alerts === 2000,
      60_000,
    );
    expect(summary.alerts).toBe(2000);
    // An alert naming a service the catalogue lacks goes to the integration's service, and says so.
    const [odd] = await alertsOf('source=node-1');
    expect(odd!.service).toBe('storage');
    expect(odd!.reason).toContain('not-in-catalogue');
    // One timeline entry per delivery, not one per alert.
    const timeline = (await server.api('GET', `/api/v1/incidents/${incidentId}/timeline`)).body as TimelineItem[];
    const attached = timeline.filter((entry) => entry.kind === 'alert_attached');
    expect(attached.length).toBeLessThanOrEqual(3);
    expect(attached.reduce((n, entry) => n + Number(entry.data.alerts), 0)).toBe(2000);
    const incidents = (await server.api('GET', '/api/v1/incidents?service=storage')).body as { items?: unknown[] } | unknown[];
    expect(Array.isArray(incidents) ? incidents.length : incidents.items?.length).toBe(1);
  });

  it('records the alerts Alertmanager left out of a group (truncatedAlerts) on the incident', async () => {
    await alertmanager.post(
      Array.from({ length: 30 }, (_, i) => ({ labels: { alertname: 'QueueStuck', via: 'truncated', queue: `q-${i}`, severity: 'critical' }, annotations: { summary: `queue q-${i} stuck` } })),
    );
    const items = await eventually(() => alertsOf('service=storage&status=firing'), (list) => list.some((a) => a.labels.alertname === 'QueueStuck'));
    const incidentId = items.find((a) => a.labels.alertname === 'QueueStuck')!.incident_id!;
    const timeline = (await server.api('GET', `/api/v1/incidents/${incidentId}/timeline`)).body as TimelineItem[];
    const noted = timeline.find((entry) => entry.data.truncated_alerts !== undefined);
    expect(noted?.data.truncated_alerts).toBe(20);
    expect(noted?.summary).toContain('left out 20 alerts');
    expect((await alertsOf('service=storage')).filter((a) => a.labels.alertname === 'QueueStuck')).toHaveLength(10);
  });

  it('takes Alertmanager’s pagerduty_configs through the Events API', async () => {
    await alertmanager.post([{ labels: { alertname: 'PagerTest', via: 'pagerduty', severity: 'critical' }, annotations: { summary: 'paged through the Events API' } }]);
    const items = await eventually(() => alertsOf('service=storage'), (list) => list.some((a) => a.format === 'events_v2'));
    expect(items.find((a) => a.format === 'events_v2')).toBeDefined();
  });
});
