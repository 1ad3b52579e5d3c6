import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createService } from './helpers.ts';
import type { DomainEventMap } from '../../src/shared/events.ts';

describeEachDatabase('alert sink for Firebreak detectors, and the no_firing_alerts check', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await createService(server, 'summariser');
  });
  afterAll(async () => server.close());

  it('raised alerts go through dedup and grouping; resolving clears the check', async () => {
    const { alertSink, checks } = server.firebreak.ctx.services;
    const received: DomainEventMap['alert.received'][] = [];
    const resolved: DomainEventMap['alert.resolved'][] = [];
    const stopReceived = server.firebreak.ctx.events.on('alert.received', (e) => received.push(e));
    const stopResolved = server.firebreak.ctx.events.on('alert.resolved', (e) => resolved.push(e));

    const before = await checks.evaluate({ kind: 'no_firing_alerts', service: 'summariser' });
    expect(before).toMatchObject({ passed: true, observed: { open_alerts: 0 } });

    const at = new Date(Date.now() - 120_000).toISOString();
    const alert = {
      dedupKey: 'detector:summariser:error_rate',
      service: 'summariser',
      severity: 'critical' as const,
      summary: 'summariser error rate 14% (baseline 0.8%)',
      source: 'firebreak.detector',
      labels: { signal: 'error_rate', provider: 'anthropic' },
      details: { window: [0.01, 0.12, 0.14], baseline: 0.008, threshold: 0.05 },
      at,
    };
    const first = await alertSink.raise(alert);
    expect(first.incidentId).toBeTruthy();
    const second = await alertSink.raise({ ...alert, at: new Date().toISOString() });
    expect(second).toEqual(first);
    const other = await alertSink.raise({ ...alert, dedupKey: 'detector:summariser:latency', summary: 'summariser p95 latency 9s' });
    expect(other.incidentId).toBe(first.incidentId);

    const incident = (await server.api('GET', `/api/v1/incidents/${first.incidentId}`)).body;
    expect(incident).toMatchObject({ detected_at: at, services: ['summariser'], severity: 'critical', created_by: 'firebreak.detector' });
    const stored = (await server.api('GET', `/api/v1/alerts/${first.alertId}`)).body;
    expect(stored).toMatchObject({ format: 'internal', source: 'firebreak.detector', occurrences: 2, integration_id: null, labels: { signal: 'error_rate' } });
    expect(stored.details.baseline).toBe(0.008);
    const byIncident = await server.firebreak.ctx.services.alerts.listByIncident(first.incidentId!);
    expect(byIncident.map((a) => a.id).sort()).toEqual([first.alertId, other.alertId].sort());

    const firing = await checks.evaluate({ kind: 'no_firing_alerts', service: 'summariser' });
    expect(firing.passed).toBe(false);
    expect(firing.observed.open_alerts).toBe(2);
    expect(firing.detail).toContain('2 alerts are still firing');

    await alertSink.resolve('detector:summariser:error_rate', new Date().toISOString(), { value: 0.004 });
    await alertSink.resolve('detector:summariser:latency', new Date().toISOString());
    const after = await checks.evaluate({ kind: 'no_firing_alerts', service: 'summariser' });
    expect(after).toMatchObject({ passed: true, observed: { open_alerts: 0 } });
    const timeline = (await server.api('GET', `/api/v1/incidents/${first.incidentId}/timeline?kind=alerts_all_resolved`)).body;
    expect(timeline).toHaveLength(1);
    expect(received.map((e) => e.alert.id).sort()).toEqual([first.alertId, other.alertId].sort());
    expect(resolved).toHaveLength(2);
    stopReceived();
    stopResolved();
  });

  it('an internal alert for a service not in the catalogue is refused', async () => {
    await expect(
      server.firebreak.ctx.services.alertSink.raise({
        dedupKey: 'x', service: 'ghost', severity: 'error', summary: 'x', source: 'firebreak.detector', labels: {}, details: {}, at: new Date().toISOString(),
      }),
    ).rejects.toMatchObject({ code: 'unprocessable' });
  });
});
