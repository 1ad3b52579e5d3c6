import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startHealthTarget, type HealthTarget } from '../support/health-target.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describeEachDatabase('recovery: templates, objectives and bad input', (kind) => {
  let server: TestServer;
  let target: HealthTarget;
  let now = Date.parse('2026-05-01T08:00:00.000Z');
  const clock = () => new Date(now);

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    target = await startHealthTarget();
    await server.api('POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: 'carol' }] });
    await server.api('POST', '/api/v1/services', { id: 'batch', tier: 3, owner_team: 'core' });
  });
  afterAll(async () => {
    await server?.close();
    await target?.close();
  });

  const open = async (services: string[]) => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'slow batch', severity: 'low', services });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  it('seeds a step list per tier that admins edit, rejecting cycles and unknown steps by name', async () => {
    const { api } = server;
    const templates = await api('GET', '/api/v1/recovery/templates');
    expect(templates.body.map((t: { tier: number }) => t.tier)).toEqual([1, 2, 3, 4]);

    const cycle = await api('PUT', '/api/v1/recovery/templates/3', {
      version: 1,
      steps: [
        { id: 'a', title: 'A', depends_on: ['c'], owner_role: 'x', estimate_minutes: 1 },
        { id: 'b', title: 'B', depends_on: ['a'], owner_role: 'x', estimate_minutes: 1 },
        { id: 'c', title: 'C', depends_on: ['b'], owner_role: 'x', estimate_minutes: 1 },
      ],
    });
    expect(cycle.status).toBe(422);
    expect(cycle.body.detail).toContain('cycle: a → c → b → a');
    expect(cycle.body.field).toBe('steps[0].depends_on');

    const unknown = await api('PUT', '/api/v1/recovery/templates/3', {
      version: 1,
      steps: [
        { id: 'a', title: 'A', owner_role: 'x', estimate_minutes: 1 },
        { id: 'b', title: 'B', depends_on: ['nope'], owner_role: 'x', estimate_minutes: 1 },
      ],
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.field).toBe('steps[1].depends_on[0]');
    expect(unknown.body.detail).toContain('step b depends on unknown step nope');

    const steps = [
      { id: 'drain', title: 'Drain the queue', owner_role: 'service_owner', estimate_minutes: 20 },
      { id: 'replay', title: 'Replay failed jobs', depends_on: ['drain'], owner_role: 'service_owner', estimate_minutes: 40 },
    ];
    const responder = await server.tokenFor('responder');
    expect((await api('PUT', '/api/v1/recovery/templates/3', { version: 1, steps }, { token: responder })).status).toBe(403);
    expect((await api('PUT', '/api/v1/recovery/templates/3', { steps })).status).toBe(428);
    const edited = await api('PUT', '/api/v1/recovery/templates/3', { version: 1, steps });
    expect(edited.status).toBe(200);
    expect(edited.body.version).toBe(2);

    // A plan for a tier-3 service starts from the edited list; the service declares no RTO, and the plan says so.
    const id = await open(['batch']);
    const plan = await api('POST', `/api/v1/incidents/${id}/recovery`, { criteria: [{ id: 'ok', check: { kind: 'http', url: target.url } }] });
    expect(plan.status).toBe(201);
    expect(plan.body.steps.map((s: { id: string }) => s.id)).toEqual(['drain', 'replay']);
    expect(plan.body.rto).toMatchObject({ tracked: false, due_at: null, remaining_seconds: null, breached: false });
    expect(plan.body.rto.note).toContain('no affected service (batch) declares a RTO (minutes)');
    expect(plan.body.objectives.rpo_minutes.value).toBeNull();
    expect(plan.body.projected_completion_at).toBe('2026-05-01T09:00:00.000Z');
    expect(plan.body.projected_rto_breach).toBeNull();

    // No RTO: the report does not invent one, and the RPO is "not tracked" even with a measurement.
    await api('POST', `/api/v1/incidents/${id}/recovery/data-loss`, { data_loss_minutes: 12, source: 'queue depth' });
    const report = await api('GET', `/api/v1/incidents/${id}/recovery/report`);
    expect(report.body.rto).toMatchObject({ tracked: false, met: null, margin_seconds: null });
    expect(report.body.rpo).toMatchObject({ tracked: false, met: null, data_loss: { window_minutes: 12, basis: 'measured', source: 'queue depth' } });
  });

  it('rejects bad plans: cycles, unknown owners, no steps to start from, duplicate criteria', async () => {
    const { api } = server;
    const id = await open(['batch']);
    const path = `/api/v1/incidents/${id}/recovery`;
    const criteria = [{ id: 'ok', check: { kind: 'http', url: target.url } }];
    const loop = await api('POST', path, {
      criteria,
      steps: [
        { id: 'x', title: 'X', depends_on: ['x'], estimate_minutes: 1 },
      ],
    });
    expect(loop.status).toBe(422);
    expect(loop.body.detail).toContain('step x depends on itself');
    const owner = await api('POST', path, { criteria, steps: [{ id: 'x', title: 'X', owner: 'ghost', estimate_minutes: 1 }] });
    expect(owner.status).toBe(422);
    expect(owner.body.field).toBe('steps[0].owner');
    const signer = await api('POST', path, { criteria: [{ id: 's', sign_off: { by: 'ghost', question: 'ok?' } }] });
    expect(signer.body.field).toBe('criteria[0].sign_off.by');
    const twice = await api('POST', path, { criteria: [...criteria, ...criteria] });
    expect(twice.status).toBe(400);
    expect(twice.body.field).toBe('criteria[1].id');
    const badCheck = await api('POST', path, { criteria: [{ id: 'p', check: { kind: 'http', url: 'ftp://x' } }] });
    expect(badCheck.status).toBe(400);

    const bare = await open([]);
    const noTier = await api('POST', `/api/v1/incidents/${bare}/recovery`, { criteria });
    expect(noTier.status).toBe(422);
    expect(noTier.body.field).toBe('steps');
    expect((await api('GET', `/api/v1/incidents/${bare}/recovery`)).status).toBe(404);
  });

  it('breaks a soak when a check fails again, and rolls back on an explicit decision without moving a non-recovering incident', async () => {
    const { api } = server;
    const id = await open(['batch']);
    const path = `/api/v1/incidents/${id}/recovery`;
    expect((await api('POST', path, { criteria: [{ id: 'ok', check: { kind: 'http', url: target.url } }], soak_minutes: 5 })).status).toBe(201);
    target.healthy = true;
    expect((await api('POST', `${path}/verify`, {})).body.outcome).toBe('soak_started');
    now += 60_000;
    target.healthy = false;
    const broken = await api('POST', `${path}/verify`, {});
    expect(broken.body).toMatchObject({ passed: false, outcome: 'soak_broken' });
    expect(broken.body.results[0].observed.status).toBe(500);
    const plan = await api('GET', path);
    expect(plan.body).toMatchObject({ status: 'in_progress', verification: { soak_due_at: null, consecutive_failures: 1 } });
    // No automatic rollback was configured: failing verifications only count.
    expect((await api('GET', `${path}/rollbacks`)).body).toEqual([]);

    await api('POST', `${path}/steps/drain/start`, {});
    const decided = await api('POST', `${path}/rollback`, { reason: 'the replay corrupts rows' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ trigger: 'decision', incident_status_before: 'detected', incident_moved_to: null });
    expect(decided.body.reverted_steps.map((s: { id: string }) => s.id)).toEqual(['drain']);
    const timeline = await api('GET', `/api/v1/incidents/${id}/timeline?kind=recovery_rolled_back`);
    expect(timeline.body[0].summary).toContain('the replay corrupts rows');
    target.healthy = true;
  });

  it('publishes without a root cause or action items only with a reason, and only once resolved', async () => {
    const { api } = server;
    const id = await open(['batch']);
    await api('POST', `/api/v1/incidents/${id}/postmortem`, {});
    await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'in_review' });
    expect((await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'published', reason: 'false alarm' })).status).toBe(409);
    await api('POST', `/api/v1/incidents/${id}/resolve`, { resolution: 'false alarm' });
    const refused = await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'published' });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toContain('a root cause');
    expect(refused.body.detail).toContain('at least one action item');
    const published = await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'published', reason: 'false alarm: nothing to fix' });
    expect(published.status).toBe(200);
    expect(published.body.publish_reason).toBe('false alarm: nothing to fix');
    const md = await api('GET', `/api/v1/incidents/${id}/postmortem/export?format=md`);
    expect(md.body).toContain('No root cause was recorded.');
    expect(md.body).toContain('No action items. Reason: false alarm: nothing to fix');
    expect(md.body).toContain('No recovery plan was made for this incident.');
    expect((await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'draft' })).status).toBe(409);
  });

  it('uses correlation links and plan executions', async () => {
    const { api } = server;
    now = Date.parse('2026-07-01T00:00:00.000Z');
    const a = await open(['batch']);
    const b = await open(['batch']);
    expect((await api('POST', `/api/v1/incidents/${a}/links`, { to: b, kind: 'related', note: 'same deploy' })).status).toBe(201);
    expect((await api('POST', '/api/v1/plans', { id: 'restart-batch', name: 'Restart batch', steps: [{ id: 'check', type: 'verify', with: { checks: [{ kind: 'http', url: target.url }] } }] })).status).toBe(201);
    expect((await api('POST', '/api/v1/plans/restart-batch/run', { incident_id: a })).status).toBe(201);
    // Polled with a generous limit: the verify step runs on the server's worker.
    for (const deadline = Date.now() + 120_000; ; ) {
      const executions = await api('GET', `/api/v1/incidents/${a}/executions`);
      if (executions.body[0]?.finished_at) break;
      if (Date.now() > deadline) throw new Error('the plan execution did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }
    const metrics = await api('GET', '/api/v1/metrics/reliability?from=2026-07-01T00:00:00Z&to=2026-07-02T00:00:00Z');
    expect(metrics.body.recurrence).toEqual({ links_available: true, clusters: [{ reason: 'linked', root_cause: null, incidents: [a, b].sort() }] });
    await api('POST', `/api/v1/incidents/${a}/postmortem`, {});
    const pm = await api('GET', `/api/v1/incidents/${a}/postmortem`);
    expect(pm.body.document.response.plan_executions).toMatchObject({
      available: true,
      items: [{ plan_id: 'restart-batch', plan_version: '1.0', status: 'succeeded', trigger: 'manual', steps: [{ step_id: 'check', phase: 'main', status: 'succeeded', error: null }] }],
    });
    const md = await api('GET', `/api/v1/incidents/${a}/postmortem/export?format=md`);
    expect(md.body).toContain('Plan restart-batch 1.0 (manual) succeeded');
    expect(md.body).toContain('check succeeded');
  });

  it('lets a Prometheus query measure the data-loss window and compares it with the RPO', async () => {
    const { api } = server;
    let lagSeconds = 420;
    const queries: string[] = [];
    const prometheus = http.createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      queries.push(query);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { replica: 'a' }, value: [0, String(lagSeconds)] }, { metric: { replica: 'b' }, value: [0, '60'] }] },
        }),
      );
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
      await api('POST', '/api/v1/services', { id: 'ledger', tier: 2, rpo_minutes: 5 });
      const id = await open(['ledger']);
      const path = `/api/v1/incidents/${id}/recovery`;
      await api('POST', path, { criteria: [{ id: 'ok', check: { kind: 'http', url: target.url } }] });
      const query = 'time() - ledger_last_replicated_write_timestamp_seconds';
      const both = await api('POST', `${path}/data-loss`, { data_loss_minutes: 1, measure_with_prometheus: { query, unit: 'seconds', url } });
      expect(both.body.field).toBe('measure_with_prometheus');
      const measured = await api('POST', `${path}/data-loss`, { measure_with_prometheus: { query, unit: 'seconds', url } });
      expect(measured.status).toBe(200);
      expect(queries).toEqual([query]);
      // The worst replica decides: 420 s = 7 min against an RPO of 5.
      expect(measured.body.data_loss).toMatchObject({ window_minutes: 7, basis: 'prometheus', source: `prometheus: ${query}` });
      expect(measured.body.data_loss.evidence.samples).toHaveLength(2);
      const report = await api('GET', `${path}/report`);
      expect(report.body.rpo).toMatchObject({ tracked: true, objective_minutes: 5, source_service: 'ledger', met: false, margin_minutes: -2 });
      lagSeconds = 180;
      await api('POST', `${path}/data-loss`, { measure_with_prometheus: { query, unit: 'seconds', url } });
      expect((await api('GET', `${path}/report`)).body.rpo).toMatchObject({ met: true, margin_minutes: 2 });
      const unreachable = await api('POST', `${path}/data-loss`, { measure_with_prometheus: { query, unit: 'seconds', url: 'http://127.0.0.1:1' } });
      expect(unreachable.status).toBe(502);
    } finally {
      await new Promise((resolve) => prometheus.close(resolve));
    }
  });

  it('validates action items and metric ranges', async () => {
    const { api } = server;
    const id = await open(['batch']);
    const item = await api('POST', `/api/v1/incidents/${id}/action-items`, { title: 'Add a DLQ alert', owner: 'carol', priority: 'p3', due_date: '2026-06-01' });
    expect(item.status).toBe(201);
    expect((await api('PATCH', `/api/v1/action-items/${item.body.id}`, { status: 'done' })).status).toBe(428);
    expect((await api('PATCH', `/api/v1/action-items/${item.body.id}`, { version: 1, owner: 'ghost' })).body.field).toBe('owner');
    expect((await api('PATCH', `/api/v1/action-items/${item.body.id}`, { version: 1, status: 'finished' })).body.field).toBe('status');
    expect((await api('GET', '/api/v1/action-items/99999')).status).toBe(404);
    expect((await api('POST', '/api/v1/incidents/INC-20990101-0001/action-items', { title: 'x', owner: 'carol', priority: 'p1', due_date: '2026-06-01' })).status).toBe(404);
    const inverted = await api('GET', '/api/v1/metrics/reliability?from=2026-06-01T00:00:00Z&to=2026-05-01T00:00:00Z');
    expect(inverted.status).toBe(400);
    expect(inverted.body.field).toBe('to');
    expect((await api('GET', '/api/v1/metrics/reliability?from=last-week&to=2026-05-01T00:00:00Z')).body.field).toBe('from');
    const empty = await api('GET', '/api/v1/metrics/reliability?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z');
    expect(empty.body.overall).toMatchObject({ incidents: 0, mttd: { count: 0, median_seconds: null }, rto_attainment: { rate: null } });
  });
});
