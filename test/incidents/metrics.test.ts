import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeIncidentMetrics } from '../../src/incidents/index.ts';
import { percentile } from '../../src/shared/stats.ts';
import { ManualClock } from '../support/clock.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('percentile', () => {
  it('interpolates between closest ranks', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)).toBeCloseTo(91);
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.9)).toBe(7);
  });
});

describe('computeIncidentMetrics', () => {
  it('groups an incident under each affected service and (none) when it has no team', () => {
    const metrics = computeIncidentMetrics(
      [
        { id: 'a', severity: 'high', status: 'resolved', team: null, services: ['x', 'y'], detected_at: '2026-01-01T00:00:00Z', acknowledged_at: null, resolved_at: '2026-01-01T01:00:00Z' },
      ],
      '2026-01-01T00:00:00Z',
      '2026-01-02T00:00:00Z',
    );
    expect(Object.keys(metrics.by_service)).toEqual(['x', 'y']);
    expect(metrics.by_team['(none)']!.mttr.mean_seconds).toBe(3600);
    expect(metrics.overall.mtta.count).toBe(0);
  });
});

describeEachDatabase('incident metrics from stored timestamps', (kind) => {
  const clock = new ManualClock('2026-03-01T00:00:00.000Z');
  let server: TestServer;

  // [severity, service, minutes to acknowledge, minutes to resolve] — every figure below follows from these.
  const plan: [string, string, number | null, number | null][] = [
    ['critical', 'chat-api', 2, 30],
    ['critical', 'chat-api', 4, 90],
    ['high', 'embeddings', 10, 60],
    ['high', 'chat-api', 6, null],
    ['low', 'embeddings', null, null],
  ];

  beforeAll(async () => {
    server = await startTestServer(kind, { clock: clock.now });
    await server.api('POST', '/api/v1/teams', { id: 'llm', name: 'LLM' });
    await server.api('POST', '/api/v1/teams', { id: 'search', name: 'Search' });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', owner_team: 'llm' });
    await server.api('POST', '/api/v1/services', { id: 'embeddings', owner_team: 'search' });
    let start = Date.parse('2026-03-02T00:00:00.000Z');
    for (const [severity, service, ack, resolve] of plan) {
      clock.set(new Date(start));
      const { body } = await server.api('POST', '/api/v1/incidents', { title: `${severity} ${service}`, severity, services: [service] });
      if (ack !== null) {
        clock.set(new Date(start + ack * 60_000));
        await server.api('POST', `/api/v1/incidents/${body.id}/acknowledge`, {});
      }
      if (resolve !== null) {
        clock.set(new Date(start + resolve * 60_000));
        await server.api('POST', `/api/v1/incidents/${body.id}/resolve`, { resolution: 'fixed' });
      }
      start += 3 * 3600_000;
    }
    // Outside the range asked for below: must not count.
    clock.set('2026-04-01T00:00:00.000Z');
    await server.api('POST', '/api/v1/incidents', { title: 'later', severity: 'critical' });
  });
  afterAll(async () => server.close());

  it('computes totals, resolution rate, MTTA and MTTR overall and by severity, team and service', async () => {
    const { status, body } = await server.api('GET', '/api/v1/metrics/incidents?from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z');
    expect(status).toBe(200);
    expect(body.overall.total).toBe(5);
    expect(body.overall.resolved).toBe(3);
    expect(body.overall.resolution_rate).toBeCloseTo(0.6);
    expect(body.counts_by_severity).toEqual({ low: 1, medium: 0, high: 2, critical: 2 });
    // MTTA over 2, 4, 6, 10 minutes: p90 rank 2.7 lies 0.7 of the way from 6 to 10 minutes.
    expect(body.overall.mtta).toEqual({ count: 4, mean_seconds: 330, median_seconds: 300, p90_seconds: 528 });
    // MTTR over 30, 90, 60 minutes.
    expect(body.overall.mttr).toEqual({ count: 3, mean_seconds: 3600, median_seconds: 3600, p90_seconds: 5040 });
    expect(body.by_severity.critical.mttr).toEqual({ count: 2, mean_seconds: 3600, median_seconds: 3600, p90_seconds: 5040 });
    expect(body.by_team.llm.total).toBe(3);
    expect(body.by_team.search.mtta.mean_seconds).toBe(600);
    expect(body.by_service['chat-api'].mtta.median_seconds).toBe(240);
    expect(body.by_service.embeddings.resolution_rate).toBe(0.5);
  });

  it('rejects a range whose end is not after its start', async () => {
    const response = await server.api('GET', '/api/v1/metrics/incidents?from=2026-03-31T00:00:00Z&to=2026-03-01T00:00:00Z');
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('to');
    expect((await server.api('GET', '/api/v1/metrics/incidents?from=soon&to=2026-03-01T00:00:00Z')).body.field).toBe('from');
  });
});
