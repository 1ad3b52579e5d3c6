import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_TRANSITIONS, INCIDENT_STATUSES, isTransitionAllowed, type IncidentStatus } from '../../src/incidents/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/** Shortest chain of allowed moves from `detected` to `target`, to put an incident into any state. */
function pathTo(target: IncidentStatus): IncidentStatus[] {
  const queue: IncidentStatus[][] = [['detected']];
  const seen = new Set<IncidentStatus>(['detected']);
  while (queue.length > 0) {
    const path = queue.shift()!;
    const last = path[path.length - 1]!;
    if (last === target) return path.slice(1);
    for (const next of ALLOWED_TRANSITIONS[last]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push([...path, next]);
      }
    }
  }
  throw new Error(`${target} is unreachable`);
}

describe('lifecycle table', () => {
  it('reaches every state from detected, and post_incident is final', () => {
    for (const status of INCIDENT_STATUSES) expect(() => pathTo(status)).not.toThrow();
    expect(ALLOWED_TRANSITIONS.post_incident).toEqual([]);
  });

  it('allows the sensible skips, the reopening and no self-transitions', () => {
    expect(isTransitionAllowed('investigating', 'resolved')).toBe(true);
    expect(isTransitionAllowed('resolved', 'investigating')).toBe(true);
    expect(isTransitionAllowed('detected', 'post_incident')).toBe(false);
    for (const status of INCIDENT_STATUSES) expect(isTransitionAllowed(status, status)).toBe(false);
  });
});

describeEachDatabase('lifecycle over HTTP', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server.close());

  const pairs = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('%s → %s is accepted exactly when the table allows it', async (from, to) => {
    const created = await server.api('POST', '/api/v1/incidents', { title: `${from} to ${to}`, severity: 'low' });
    const id = created.body.id as string;
    for (const step of pathTo(from)) {
      const moved = await server.api('POST', `/api/v1/incidents/${id}/transition`, { to: step });
      expect(moved.status).toBe(200);
    }
    const before = await server.api('GET', `/api/v1/incidents/${id}`);
    const attempt = await server.api('POST', `/api/v1/incidents/${id}/transition`, { to });
    if (isTransitionAllowed(from, to)) {
      expect(attempt.status).toBe(200);
      expect(attempt.body.status).toBe(to);
      expect(attempt.body.version).toBe(before.body.version + 1);
    } else {
      expect(attempt.status).toBe(409);
      expect(attempt.headers.get('content-type')).toContain('application/problem+json');
      expect(attempt.body.code).toBe('invalid_transition');
      expect(attempt.body.detail).toContain(`from ${from} to ${to}`);
      const after = await server.api('GET', `/api/v1/incidents/${id}`);
      expect(after.body).toEqual(before.body);
    }
  });

  it('acknowledging moves detected → investigating and records who and when', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'ack me', severity: 'high' });
    const acked = await server.api('POST', `/api/v1/incidents/${created.body.id}/acknowledge`, {});
    expect(acked.status).toBe(200);
    expect(acked.body.status).toBe('investigating');
    expect(acked.body.acknowledged_by).toBe('bootstrap-admin');
    expect(Date.parse(acked.body.acknowledged_at)).toBeGreaterThanOrEqual(Date.parse(created.body.created_at));
    const again = await server.api('POST', `/api/v1/incidents/${created.body.id}/acknowledge`, {});
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('already acknowledged by bootstrap-admin');
  });

  it('resolving sets resolution, root cause and resolved_at; reopening clears resolved_at', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'to resolve', severity: 'medium' });
    const id = created.body.id;
    await server.api('POST', `/api/v1/incidents/${id}/acknowledge`, {});
    const resolved = await server.api('POST', `/api/v1/incidents/${id}/resolve`, { resolution: 'raised quota', root_cause: 'quota' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'raised quota', root_cause: 'quota' });
    expect(resolved.body.resolved_at).not.toBeNull();
    const reopened = await server.api('POST', `/api/v1/incidents/${id}/transition`, { to: 'investigating', note: 'errors are back' });
    expect(reopened.body.resolved_at).toBeNull();
    const timeline = await server.api('GET', `/api/v1/incidents/${id}/timeline`);
    const kinds = timeline.body.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(['created', 'assigned', 'acknowledged', 'status_changed', 'status_changed', 'resolved', 'status_changed']);
    expect(timeline.body.at(-1).summary).toBe('reopened from resolved to investigating: errors are back');
  });

  it('moving out of detected without acknowledging counts as acknowledging', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'skip ack', severity: 'low' });
    const moved = await server.api('POST', `/api/v1/incidents/${created.body.id}/transition`, { to: 'identified' });
    expect(moved.body.acknowledged_by).toBe('bootstrap-admin');
  });
});
