import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { TestTarget, closedPort, eventually, httpStep, type RecordedRequest } from './target.ts';

process.env.FIREBREAK_PLAN_POLL_MS = '25';

interface StepRun {
  step_id: string;
  status: string;
  attempt: number;
  output: Record<string, unknown> | null;
  error: string | null;
  decision: Record<string, unknown> | null;
}
interface Execution {
  id: string;
  status: string;
  plan_version: string;
  steps: StepRun[];
  waiting_for: { step_id: string; kind: string }[];
}

describeEachDatabase('plan execution', (kind) => {
  let server: TestServer;
  let target: TestTarget;
  let seq = 0;

  beforeAll(async () => {
    target = await new TestTarget().start();
    server = await startTestServer(kind);
  });
  afterAll(async () => {
    await server?.close();
    await target?.close();
  });

  async function incident(extra: Record<string, unknown> = {}): Promise<string> {
    const created = await server.api<{ id: string }>('POST', '/api/v1/incidents', { title: 'gateway 5xx', severity: 'high', ...extra });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function plan(steps: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
    const id = `p${++seq}-${kind}`;
    const created = await server.api('POST', '/api/v1/plans', { id, name: `plan ${id}`, steps, ...extra });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return id;
  }

  async function run(planId: string, incidentId: string): Promise<Execution> {
    const started = await server.api<Execution>('POST', `/api/v1/plans/${planId}/run`, { incident_id: incidentId });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    return started.body;
  }

  async function until(executionId: string, test: (e: Execution) => boolean, what: string): Promise<Execution> {
    return eventually(async () => {
      const e = (await server.api<Execution>('GET', `/api/v1/executions/${executionId}`)).body;
      return test(e) ? e : undefined;
    }, 120_000, what);
  }
  const finished = (id: string) => until(id, (e) => !['running', 'rolling_back'].includes(e.status), 'execution to finish');
  const step = (e: Execution, id: string) => e.steps.find((s) => s.step_id === id)!;

  it('runs independent steps in parallel and dependent steps after their needs, recording every step on the timeline', async () => {
    const p = `/par-${kind}`;
    const planId = await plan([
      // The target answers neither until both have arrived: run one after the other, a would time out.
      httpStep('a', `${target.url}${p}/a?together=par-${kind}:2`),
      httpStep('b', `${target.url}${p}/b?together=par-${kind}:2`),
      httpStep('c', `${target.url}${p}/c`, { needs: ['a', 'b'] }, { body: 'a said {{steps.a.output.response.body.path}}' }),
    ]);
    const incidentId = await incident();
    const execution = await finished((await run(planId, incidentId)).id);
    expect(execution.status).toBe('succeeded');
    expect(execution.plan_version).toBe('1.0');
    const [a, b, c] = ['a', 'b', 'c'].map((s) => target.byPath(`${p}/${s}`)[0]!) as [RecordedRequest, RecordedRequest, RecordedRequest];
    // a and b overlapped; c started only after both answered, and saw a's output.
    expect(Math.max(a.at, b.at)).toBeLessThanOrEqual(Math.min(a.finishedAt!, b.finishedAt!));
    expect(c.at).toBeGreaterThanOrEqual(Math.max(a.finishedAt!, b.finishedAt!));
    expect(c.body).toBe(`a said ${p}/a`);
    const timeline = (await server.api<{ kind: string; summary: string }[]>('GET', `/api/v1/incidents/${incidentId}/timeline`)).body;
    const kinds = timeline.map((t) => t.kind);
    expect(kinds.filter((k) => k === 'plan_step_started')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'plan_step_succeeded')).toHaveLength(3);
    expect(kinds).toContain('plan_started');
    expect(kinds).toContain('plan_finished');
    const listed = (await server.api<Execution[]>('GET', `/api/v1/incidents/${incidentId}/executions`)).body;
    expect(listed.map((e) => e.id)).toEqual([execution.id]);
  });

  it('retries a failing step with backoff until it succeeds', async () => {
    const path = `/retry-${kind}`;
    const planId = await plan([httpStep('flaky', `${target.url}${path}?fail_first=2`, { retries: 3, backoff: '50ms' })]);
    const execution = await finished((await run(planId, await incident())).id);
    expect(execution.status).toBe('succeeded');
    expect(step(execution, 'flaky').attempt).toBe(3);
    expect(target.countFor(path)).toBe(3);
  });

  it('rolls back on failure: compensations for succeeded steps run, later steps never do', async () => {
    const p = `/rb-${kind}`;
    const planId = await plan(
      [
        httpStep('switch', `${target.url}${p}/switch`),
        httpStep('flag', `${target.url}${p}/flag?status=503`, { needs: ['switch'], on_failure: 'rollback' }),
        httpStep('after', `${target.url}${p}/after`, { needs: ['flag'] }),
      ],
      {
        rollback: [
          { id: 'undo-switch', type: 'http', undoes: ['switch'], with: { method: 'POST', url: `${target.url}${p}/undo-switch`, body: 'flag failed: {{steps.flag.error}}' } },
          { id: 'undo-other', type: 'http', undoes: ['after'], with: { method: 'POST', url: `${target.url}${p}/undo-other` } },
        ],
      },
    );
    const execution = await finished((await run(planId, await incident())).id);
    expect(execution.status).toBe('rolled_back');
    expect(step(execution, 'flag').status).toBe('failed');
    expect(step(execution, 'after').status).toBe('cancelled');
    expect(step(execution, 'undo-switch').status).toBe('succeeded');
    expect(step(execution, 'undo-other').status).toBe('skipped');
    expect(target.countFor(`${p}/after`)).toBe(0);
    expect(target.byPath(`${p}/undo-switch`)[0]!.body).toContain('answered 503');
    expect(target.countFor(`${p}/undo-other`)).toBe(0);
  });

  it('fails cleanly on an unreachable URL, a timeout and an unexpected status; continue lets the rest run', async () => {
    const p = `/fail-${kind}`;
    const planId = await plan([
      httpStep('unreachable', `http://127.0.0.1:${await closedPort()}/nothing`, { on_failure: 'continue' }),
      httpStep('slow', `${target.url}${p}/slow?hold=1`, { timeout: '200ms', on_failure: 'continue' }),
      httpStep('teapot', `${target.url}${p}/teapot?status=418`, { on_failure: 'continue' }, { expect_status: [200] }),
      httpStep('last', `${target.url}${p}/last`, { needs: ['unreachable', 'slow', 'teapot'] }),
    ]);
    const execution = await finished((await run(planId, await incident())).id);
    expect(execution.status).toBe('succeeded');
    expect(step(execution, 'unreachable').error).toMatch(/ECONNREFUSED/);
    // The step's own limit applied (a default one would name 30000 ms); the held request could end no other way.
    expect(step(execution, 'slow').error).toMatch(/timed out after 200 ms/);
    expect(step(execution, 'teapot').error).toMatch(/answered 418.*expected 200/);
    expect(step(execution, 'last').status).toBe('succeeded');
  });

  it('waits for approval: granted by a responder, refused for a viewer', async () => {
    const p = `/appr-${kind}`;
    const planId = await plan([
      { id: 'ok', type: 'approval', with: { prompt: 'Fail over {{incident.id}}?' } },
      httpStep('act', `${target.url}${p}/act`, { needs: ['ok'] }),
    ]);
    const incidentId = await incident();
    const started = await run(planId, incidentId);
    const waiting = await until(started.id, (e) => e.waiting_for.length > 0, 'approval request');
    expect(waiting.waiting_for[0]).toMatchObject({ step_id: 'ok', kind: 'approval' });
    expect(step(waiting, 'ok').output).toMatchObject({ prompt: `Fail over ${incidentId}?`, role: 'responder' });
    expect(target.countFor(`${p}/act`)).toBe(0);
    const viewer = await server.tokenFor('viewer');
    expect((await server.api('POST', `/api/v1/executions/${started.id}/steps/ok/approve`, {}, { token: viewer })).status).toBe(403);
    const responder = await server.tokenFor('responder');
    const approved = await server.api<Execution>('POST', `/api/v1/executions/${started.id}/steps/ok/approve`, { comment: 'go' }, { token: responder });
    expect(approved.status).toBe(200);
    expect(step(approved.body, 'ok').decision).toMatchObject({ decision: 'approved', comment: 'go' });
    const done = await finished(started.id);
    expect(done.status).toBe('succeeded');
    expect(target.countFor(`${p}/act`)).toBe(1);
    expect((await server.api('POST', `/api/v1/executions/${started.id}/steps/ok/approve`, {})).status).toBe(409);
  });

  it('stops the plan when an approval is rejected, and requires the declared role', async () => {
    const p = `/rej-${kind}`;
    const planId = await plan([
      { id: 'ok', type: 'approval', with: { prompt: 'Roll back?', role: 'admin' } },
      httpStep('act', `${target.url}${p}/act`, { needs: ['ok'] }),
    ]);
    const started = await run(planId, await incident());
    await until(started.id, (e) => e.waiting_for.length > 0, 'approval request');
    const responder = await server.tokenFor('responder');
    const refused = await server.api<{ code: string }>('POST', `/api/v1/executions/${started.id}/steps/ok/reject`, {}, { token: responder });
    expect(refused.status).toBe(403);
    const rejected = await server.api<Execution>('POST', `/api/v1/executions/${started.id}/steps/ok/reject`, { comment: 'not now' });
    expect(rejected.body.status).toBe('failed');
    expect(step(rejected.body, 'act').status).toBe('cancelled');
    expect(target.countFor(`${p}/act`)).toBe(0);
  });

  it('applies the default outcome when an approval times out', async () => {
    const p = `/tmo-${kind}`;
    const planId = await plan([
      { id: 'yes', type: 'approval', with: { prompt: 'auto-approve?', timeout: '300ms', default: 'approve' } },
      { id: 'no', type: 'approval', needs: ['yes'], on_failure: 'continue', with: { prompt: 'auto-reject?', timeout: '300ms' } },
      httpStep('act', `${target.url}${p}/act`, { needs: ['yes'] }),
    ]);
    const execution = await finished((await run(planId, await incident())).id);
    expect(step(execution, 'yes')).toMatchObject({ status: 'succeeded', decision: { decision: 'approved', by: 'timeout' } });
    expect(step(execution, 'no')).toMatchObject({ status: 'failed', decision: { decision: 'rejected', by: 'timeout' } });
    expect(target.countFor(`${p}/act`)).toBe(1);
  });

  it('skips steps whose when conditions do not hold, moves the incident, verifies with real checks and communicates', async () => {
    const p = `/misc-${kind}`;
    const planId = await plan([
      { id: 'assess', type: 'assess' },
      httpStep('only-critical', `${target.url}${p}/critical`, { when: [{ field: 'incident.severity', severity_at_least: 'critical' }] }),
      { id: 'contain', type: 'set_status', needs: ['assess'], with: { status: 'containing', note: 'plan {{plan.id}} contains it' } },
      { id: 'check', type: 'verify', needs: ['contain'], with: { checks: [{ kind: 'http', url: `${target.url}${p}/health`, expect_status: [200] }] } },
      {
        id: 'tell',
        type: 'communicate',
        needs: ['check'],
        with: { subject: '{{incident.id}}', message: 'health answered {{steps.check.output.results.0.observed.status}}', webhook_url: `${target.url}${p}/hook` },
      },
    ]);
    const incidentId = await incident({ severity: 'high' });
    const execution = await finished((await run(planId, incidentId)).id);
    expect(execution.status).toBe('succeeded');
    expect(step(execution, 'only-critical').status).toBe('skipped');
    expect(target.countFor(`${p}/critical`)).toBe(0);
    expect(step(execution, 'assess').output).toMatchObject({ incident: { id: incidentId, severity: 'high' }, open_alerts: { available: true, data: { incident_alerts: [] } } });
    expect((await server.api<{ status: string }>('GET', `/api/v1/incidents/${incidentId}`)).body.status).toBe('containing');
    expect(step(execution, 'check').output).toMatchObject({ passed: true, results: [{ observed: { status: 200 } }] });
    const hook = JSON.parse(target.byPath(`${p}/hook`)[0]!.body) as Record<string, unknown>;
    expect(hook).toMatchObject({ incident_id: incidentId, subject: incidentId, text: 'health answered 200' });
    const timeline = (await server.api<{ kind: string; summary: string }[]>('GET', `/api/v1/incidents/${incidentId}/timeline`)).body;
    expect(timeline.find((t) => t.kind === 'plan_message')?.summary).toBe(`${incidentId}: health answered 200`);
    expect(timeline.find((t) => t.kind === 'status_changed')?.summary).toContain('plan p');
  });

  it('cancels an execution: nothing further runs', async () => {
    const p = `/cancel-${kind}`;
    const planId = await plan([{ id: 'pause', type: 'wait', with: { duration: '1h' } }, httpStep('act', `${target.url}${p}/act`, { needs: ['pause'] })]);
    const started = await run(planId, await incident());
    await until(started.id, (e) => step(e, 'pause').status === 'waiting', 'the wait');
    const cancelled = await server.api<Execution>('POST', `/api/v1/executions/${started.id}/cancel`, {});
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
    expect((await server.api('POST', `/api/v1/executions/${started.id}/cancel`, {})).status).toBe(409);
  });

  it('redacts secrets from step records, the timeline and execution responses', async () => {
    const value = 'sk-live-very-secret-4242';
    expect((await server.api('PUT', '/api/v1/secrets/gateway_token', { value })).status).toBe(201);
    const listed = await server.api<unknown[]>('GET', '/api/v1/secrets');
    expect(JSON.stringify(listed.body)).not.toContain(value);
    const p = `/secret-${kind}`;
    const planId = await plan([
      httpStep('call', `${target.url}${p}?echo=1&status=500`, {}, { headers: { Authorization: 'Bearer {{secrets.gateway_token}}' }, body: 'token={{secrets.gateway_token}}' }),
    ]);
    const incidentId = await incident();
    const execution = await finished((await run(planId, incidentId)).id);
    expect(target.byPath(p)[0]!.headers.authorization).toBe(`Bearer ${value}`); // really sent
    const stored = JSON.stringify(execution);
    expect(stored).not.toContain(value);
    expect(stored).toContain('Bearer [REDACTED]');
    const timeline = JSON.stringify((await server.api('GET', `/api/v1/incidents/${incidentId}/timeline`)).body);
    expect(timeline).not.toContain(value);
    // Secrets may only be referenced from http steps.
    const leak = await server.api<{ field: string }>('POST', '/api/v1/plans', {
      id: `leak-${kind}`,
      name: 'leak',
      steps: [{ id: 'tell', type: 'communicate', with: { message: 'token is {{secrets.gateway_token}}' } }],
    });
    expect(leak.status).toBe(422);
    expect(leak.body.field).toBe('steps[0].with.message');
  });

  it('starts a matching plan once per incident from triggers', async () => {
    const p = `/trig-${kind}`;
    const planId = await plan([httpStep('act', `${target.url}${p}/{{incident.id}}`)], {
      triggers: [{ on: ['created', 'updated'], severity_at_least: 'high', labels: { alertname: `TriggerTest${kind}` } }],
    });
    const low = await incident({ severity: 'low', labels: { alertname: `TriggerTest${kind}` } });
    const high = await incident({ severity: 'critical', labels: { alertname: `TriggerTest${kind}` } });
    const started = await eventually(async () => {
      const list = (await server.api<Execution[]>('GET', `/api/v1/incidents/${high}/executions`)).body;
      return list.length ? list : undefined;
    }, 10_000, 'triggered execution');
    await finished(started[0]!.id);
    // An update that still matches must not start it again.
    await server.api('PATCH', `/api/v1/incidents/${high}`, { title: 'still broken', version: 1 });
    await server.api('PATCH', `/api/v1/incidents/${low}`, { severity: 'high', version: 1 });
    const lowRun = await eventually(async () => {
      const list = (await server.api<Execution[]>('GET', `/api/v1/incidents/${low}/executions`)).body;
      return list.length ? list : undefined;
    }, 10_000, 'execution after the severity rose');
    await finished(lowRun[0]!.id);
    expect((await server.api<Execution[]>('GET', `/api/v1/incidents/${high}/executions`)).body).toHaveLength(1);
    expect(target.countFor(`${p}/${high}`)).toBe(1);
    expect(target.countFor(`${p}/${low}`)).toBe(1);
    expect((await server.api<Execution[]>('GET', `/api/v1/incidents/${low}/executions`)).body[0]).toMatchObject({ plan_id: planId, status: 'succeeded' });
  });
});
