import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startHealthTarget, type HealthTarget } from '../support/health-target.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const SOAK_END_JOB = 'recovery.soak_end';
const RTO_BREACH_JOB = 'recovery.rto_breach';
const ITEM_OVERDUE_JOB = 'recovery.item_overdue';

/**
 * Recovery deadlines are storage jobs: scheduled with the state that makes them due, cancelled when it
 * goes away, adopted at start from a database written before they were jobs, and fired once however
 * many servers share the database.
 */
describeEachDatabase('recovery: deadlines as jobs', (kind) => {
  let server: TestServer;
  let target: HealthTarget;
  let now = Date.parse('2026-06-01T08:00:00.000Z');
  const clock = () => new Date(now);

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    target = await startHealthTarget();
    await server.api('POST', '/api/v1/services', { id: 'ledger', tier: 3 });
    await server.api('POST', '/api/v1/services', { id: 'billing', tier: 2, rto_minutes: 30 });
    await server.api('POST', '/api/v1/teams', { id: 'money', name: 'Money', members: [{ user: 'dana' }] });
  });
  afterAll(async () => {
    await server?.close();
    await target?.close();
  });

  const soakingPlan = async (soakMinutes: number) => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'ledger lag', severity: 'low', services: ['ledger'] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const path = `/api/v1/incidents/${id}/recovery`;
    expect((await server.api('POST', path, { criteria: [{ id: 'ok', check: { kind: 'http', url: target.url } }], soak_minutes: soakMinutes })).status).toBe(201);
    target.healthy = true;
    expect((await server.api('POST', `${path}/verify`, {})).body.outcome).toBe('soak_started');
    return { id, path };
  };
  const soakJob = (id: string) => server.firebreak.ctx.jobs.get(SOAK_END_JOB, id);

  it('schedules the soak end with the soak and drops it when the soak breaks or is verified by hand', async () => {
    const broken = await soakingPlan(10);
    const plan = (await server.api('GET', broken.path)).body;
    expect(await soakJob(broken.id)).toMatchObject({ status: 'scheduled', run_at: plan.verification.soak_due_at });
    target.healthy = false;
    expect((await server.api('POST', `${broken.path}/verify`, {})).body.outcome).toBe('soak_broken');
    expect(await soakJob(broken.id)).toBeUndefined();

    const byHand = await soakingPlan(10);
    now += 11 * 60_000;
    // Verified by a person first: the job goes with the soak, and the worker has nothing left to record.
    expect((await server.api('POST', `${byHand.path}/verify`, {})).body.outcome).toBe('verified');
    expect(await soakJob(byHand.id)).toBeUndefined();
    await server.firebreak.ctx.worker.runDue();
    const evaluations = (await server.api('GET', `${byHand.path}/verifications`)).body as { outcome: string }[];
    expect(evaluations.map((e) => e.outcome)).toEqual(['soak_started', 'verified']);

    const rolledBack = await soakingPlan(10);
    expect((await server.api('POST', `${rolledBack.path}/rollback`, { reason: 'wrong fix' })).status).toBe(200);
    expect(await soakJob(rolledBack.id)).toBeUndefined();
  });

  it('records a soak end once when two servers share the database', async () => {
    const { id, path } = await soakingPlan(5);
    const other = await startTestServer(kind, { clock, database: server.database });
    try {
      now += 6 * 60_000;
      await Promise.all([server.firebreak.ctx.worker.runDue(), other.firebreak.ctx.worker.runDue()]);
      await Promise.all([server.firebreak.ctx.worker.runDue(), other.firebreak.ctx.worker.runDue()]);
    } finally {
      await other.close();
    }
    const plan = (await server.api('GET', path)).body;
    expect(plan.status).toBe('verified');
    expect(plan.verification.last_evaluation).toMatchObject({ phase: 'soak_end', outcome: 'verified', actor: 'firebreak' });
    const evaluations = (await server.api('GET', `${path}/verifications`)).body as { outcome: string }[];
    expect(evaluations.map((e) => e.outcome)).toEqual(['soak_started', 'verified']);
    const verified = (await server.api('GET', `/api/v1/incidents/${id}/timeline?kind=recovery_verified`)).body as unknown[];
    expect(verified).toHaveLength(1);
    expect(await soakJob(id)).toBeUndefined();
  });

  it('adopts a soak stored without a job (a database from before) at start, and ends it once', async () => {
    const { id, path } = await soakingPlan(5);
    // What earlier code left behind: a soaking plan and no job.
    await server.firebreak.ctx.jobs.cancel(server.firebreak.ctx.jobs.db, SOAK_END_JOB, id);
    now += 6 * 60_000;
    await server.firebreak.ctx.worker.runDue();
    expect((await server.api('GET', path)).body.status).toBe('soaking');

    const restarted = await startTestServer(kind, { clock, database: server.database });
    try {
      expect(await restarted.firebreak.ctx.jobs.get(SOAK_END_JOB, id)).toMatchObject({ status: 'scheduled' });
      await restarted.firebreak.ctx.worker.runDue();
      await restarted.firebreak.ctx.worker.runDue();
    } finally {
      await restarted.close();
    }
    const evaluations = (await server.api('GET', `${path}/verifications`)).body as { outcome: string; phase: string }[];
    expect(evaluations.map((e) => `${e.phase}:${e.outcome}`)).toEqual(['verification:soak_started', 'soak_end:verified']);
  });

  it('records an RTO breach once across two servers, cancels it when recovery is verified in time, and restores it on a rollback', async () => {
    const jobs = server.firebreak.ctx.jobs;
    const inTime = (await server.api('POST', '/api/v1/incidents', { title: 'billing slow', severity: 'low', services: ['billing'] })).body.id as string;
    const inTimePath = `/api/v1/incidents/${inTime}/recovery`;
    expect((await server.api('POST', inTimePath, { criteria: [{ id: 'ok', check: { kind: 'http', url: target.url } }] })).status).toBe(201);
    const dueAt = (await server.api('GET', inTimePath)).body.rto.due_at as string;
    expect(await jobs.get(RTO_BREACH_JOB, inTime)).toMatchObject({ status: 'scheduled', run_at: dueAt });
    target.healthy = true;
    expect((await server.api('POST', `${inTimePath}/verify`, {})).body.outcome).toBe('verified');
    expect(await jobs.get(RTO_BREACH_JOB, inTime)).toBeUndefined();
    // Rolled back after a verification in time: the RTO clock runs on.
    expect((await server.api('POST', `${inTimePath}/rollback`, { reason: 'it came back' })).status).toBe(200);
    expect(await jobs.get(RTO_BREACH_JOB, inTime)).toMatchObject({ status: 'scheduled', run_at: dueAt });

    const late = (await server.api('POST', '/api/v1/incidents', { title: 'billing down', severity: 'low', services: ['billing'] })).body.id as string;
    expect((await server.api('POST', `/api/v1/incidents/${late}/recovery`, { criteria: [{ id: 'ok', check: { kind: 'http', url: target.url } }] })).status).toBe(201);
    // What earlier code left behind for one of them: an open deadline and no job, adopted by the second server's start.
    await jobs.cancel(jobs.db, RTO_BREACH_JOB, late);
    const other = await startTestServer(kind, { clock, database: server.database });
    const breaches: { incident_id: string }[] = [];
    server.firebreak.ctx.events.on('recovery.rto_breached', (e) => breaches.push(e));
    other.firebreak.ctx.events.on('recovery.rto_breached', (e) => breaches.push(e));
    try {
      expect(await other.firebreak.ctx.jobs.get(RTO_BREACH_JOB, late)).toMatchObject({ status: 'scheduled' });
      now += 31 * 60_000;
      await Promise.all([server.firebreak.ctx.worker.runDue(), other.firebreak.ctx.worker.runDue()]);
      await Promise.all([server.firebreak.ctx.worker.runDue(), other.firebreak.ctx.worker.runDue()]);
    } finally {
      await other.close();
    }
    expect(breaches.map((b) => b.incident_id).sort()).toEqual([inTime, late].sort());
    for (const id of [inTime, late]) {
      expect((await server.api('GET', `/api/v1/incidents/${id}/timeline?kind=recovery_rto_breached`)).body).toHaveLength(1);
      expect(await jobs.get(RTO_BREACH_JOB, id)).toBeUndefined();
    }
  });

  it('notices an overdue action item once, from the day after its due date, following changes to the date and status', async () => {
    const jobs = server.firebreak.ctx.jobs;
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'ledger drift', severity: 'low', services: ['ledger'] })).body.id as string;
    const today = new Date(now).toISOString().slice(0, 10);
    const create = async (title: string) => {
      const created = await server.api('POST', `/api/v1/incidents/${incident}/action-items`, { title, owner: 'dana', priority: 'p3', due_date: today });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body as { id: number; version: number };
    };
    const moved = await create('Reconcile nightly');
    const done = await create('Add a drift alert');
    const lapsed = await create('Write the runbook');
    const nextDay = new Date(Date.parse(`${today}T00:00:00.000Z`) + 86_400_000).toISOString();
    expect(await jobs.get(ITEM_OVERDUE_JOB, String(lapsed.id))).toMatchObject({ status: 'scheduled', run_at: nextDay });

    const later = new Date(Date.parse(`${today}T00:00:00.000Z`) + 7 * 86_400_000).toISOString().slice(0, 10);
    expect((await server.api('PATCH', `/api/v1/action-items/${moved.id}`, { version: moved.version, due_date: later })).status).toBe(200);
    expect(await jobs.get(ITEM_OVERDUE_JOB, String(moved.id))).toMatchObject({ run_at: `${new Date(Date.parse(`${later}T00:00:00.000Z`) + 86_400_000).toISOString()}` });
    expect((await server.api('PATCH', `/api/v1/action-items/${done.id}`, { version: done.version, status: 'done' })).status).toBe(200);
    expect(await jobs.get(ITEM_OVERDUE_JOB, String(done.id))).toBeUndefined();

    const overdue: { item: { id: number } }[] = [];
    server.firebreak.ctx.events.on('action_item.overdue', (e) => overdue.push(e));
    now = Date.parse(nextDay) - 1000;
    await server.firebreak.ctx.worker.runDue();
    expect(overdue).toEqual([]);
    now = Date.parse(nextDay) + 1000;
    await server.firebreak.ctx.worker.runDue();
    await server.firebreak.ctx.worker.runDue();
    expect(overdue.map((e) => e.item.id)).toEqual([lapsed.id]);
    const notes = (await server.api('GET', `/api/v1/incidents/${incident}/timeline?kind=action_item_overdue`)).body as { data: { action_item_id: number } }[];
    expect(notes.map((n) => n.data.action_item_id)).toEqual([lapsed.id]);
  });
});
