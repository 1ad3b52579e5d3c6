import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, SERVER_START_LIMIT_MS, spawnServer, type ServerProcess } from '../support/server.ts';
import { TestTarget, eventually } from './target.ts';

interface Execution {
  id: string;
  status: string;
  steps: { step_id: string; status: string; attempt: number }[];
  waiting_for: { step_id: string; kind: string }[];
}

const SECRET = 'durable-secret-value-7788';

async function api<T = unknown>(server: ServerProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, server.url), {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * A lease is how long a stalled server may go without renewing before its work is taken for a crashed one's. Servers
 * that are never killed get a lease no stall on a loaded machine comes near, so only a real crash hands work over.
 * The server that is killed gets a lease short enough that the restart test need not wait long for it to expire,
 * yet several times its renewal period (a third of it), so that a stall before the kill is not taken for a crash.
 * The shared-work test uses the default poll: each server is poked for its own work, and two servers polling every
 * 50 ms spent a busy machine's CPU on empty claims.
 */
const CRASHING_LEASE_MS = 10_000;
const SURVIVING_LEASE_MS = 300_000;

function serverEnv(database: TestDatabase, leaseMs: number, pollMs = 50): Record<string, string> {
  return {
    FIREBREAK_DATABASE_URL: database.url,
    FIREBREAK_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
    FIREBREAK_SECRET_KEY: 'durability-test-secret-key',
    FIREBREAK_WORKERS: 'true',
    FIREBREAK_PLAN_LEASE_MS: String(leaseMs),
    FIREBREAK_WORKER_POLL_MS: String(pollMs),
  };
}

describeEachDatabase('plan durability across processes', (kind) => {
  let database: TestDatabase;
  let target: TestTarget;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    target = await new TestTarget().start();
  });
  afterAll(async () => {
    // A process already killed by a signal has exitCode null; waiting for its exit again would hang.
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) await server.stop('SIGKILL');
    await target?.close();
    await database?.drop();
  });

  async function start(leaseMs: number, pollMs?: number): Promise<ServerProcess> {
    const server = await spawnServer(serverEnv(database, leaseMs, pollMs));
    servers.push(server);
    return server;
  }

  it('resumes after the server is killed mid-step: completed steps never rerun, idempotent steps retry, others wait for a decision', async () => {
    const first = await start(CRASHING_LEASE_MS);
    expect((await api(first, 'PUT', '/api/v1/secrets/durable_token', { value: SECRET })).status).toBe(201);
    const slowPlan = (id: string, idempotent: boolean) => ({
      id,
      name: id,
      steps: [
        { id: 'before', type: 'http', with: { method: 'POST', url: `${target.url}/${id}/before`, headers: { Authorization: 'Bearer {{secrets.durable_token}}' } } },
        // The first attempt is held unanswered, so it is in flight when the server dies however long that takes; the retry is answered.
        { id: 'slow', type: 'http', needs: ['before'], idempotent, timeout: '10m', with: { method: 'PUT', url: `${target.url}/${id}/slow?hold_first=1` } },
        { id: 'after', type: 'http', needs: ['slow'], with: { method: 'POST', url: `${target.url}/${id}/after` } },
      ],
    });
    for (const [id, idempotent] of [['restart-idem', true], ['restart-once', false]] as const) {
      expect((await api(first, 'POST', '/api/v1/plans', slowPlan(id, idempotent))).status).toBe(201);
    }
    const incident = (await api<{ id: string }>(first, 'POST', '/api/v1/incidents', { title: 'restart', severity: 'high' })).body.id;
    const idem = (await api<Execution>(first, 'POST', '/api/v1/plans/restart-idem/run', { incident_id: incident })).body;
    const once = (await api<Execution>(first, 'POST', '/api/v1/plans/restart-once/run', { incident_id: incident })).body;
    await eventually(async () => (target.countFor('/restart-idem/slow') && target.countFor('/restart-once/slow') ? true : undefined), 60_000, 'slow steps in flight');
    await first.stop('SIGKILL');

    // It takes over once the killed server's leases expire (CRASHING_LEASE_MS after its last renewal).
    const second = await start(SURVIVING_LEASE_MS);
    const get = async (id: string) => (await api<Execution>(second, 'GET', `/api/v1/executions/${id}`)).body;
    const idemDone = await eventually(async () => {
      const e = await get(idem.id);
      return e.status === 'succeeded' ? e : undefined;
    }, 60_000, 'the idempotent plan to finish');
    expect(target.countFor('/restart-idem/before')).toBe(1);
    expect(target.countFor('/restart-idem/slow')).toBe(2); // interrupted attempt + retry
    expect(target.countFor('/restart-idem/after')).toBe(1);
    expect(idemDone.steps.find((s) => s.step_id === 'slow')!.attempt).toBe(2);

    const waiting = await eventually(async () => {
      const e = await get(once.id);
      return e.waiting_for.length ? e : undefined;
    }, 60_000, 'the non-idempotent step to need a decision');
    expect(waiting.waiting_for).toEqual([expect.objectContaining({ step_id: 'slow', kind: 'decision' })]);
    expect(target.countFor('/restart-once/slow')).toBe(1);
    const decided = await api<Execution>(second, 'POST', `/api/v1/executions/${once.id}/steps/slow/decide`, { action: 'skip', comment: 'the gateway shows it took effect' });
    expect(decided.status).toBe(200);
    const onceDone = await eventually(async () => {
      const e = await get(once.id);
      return e.status === 'succeeded' ? e : undefined;
    }, 60_000, 'the decided plan to finish');
    expect(onceDone.steps.map((s) => s.status)).toEqual(['succeeded', 'skipped', 'succeeded']);
    expect(target.countFor('/restart-once/before')).toBe(1);
    expect(target.countFor('/restart-once/slow')).toBe(1);
    expect(target.countFor('/restart-once/after')).toBe(1);

    const timeline = (await api<{ kind: string }[]>(second, 'GET', `/api/v1/incidents/${incident}/timeline`)).body.map((t) => t.kind);
    expect(timeline).toContain('plan_step_interrupted');
    expect(timeline).toContain('plan_step_needs_decision');
    expect(target.byPath('/restart-idem/before')[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    for (const server of [first, second]) expect(server.output()).not.toContain(SECRET);
    await second.stop();
    // Two servers start one after the other, and each of four conditions is waited for up to a minute.
  }, 2 * SERVER_START_LIMIT_MS + 4 * 60_000 + 60_000);

  if (kind === 'postgres') {
    it('shares 20 executions between two servers on one database without running any step twice', async () => {
      // One after the other: the first one migrates the fresh database.
      const a = await start(SURVIVING_LEASE_MS, 200);
      const b = await start(SURVIVING_LEASE_MS, 200);
      const plan = {
        id: 'shared-work',
        name: 'shared work',
        steps: ['one', 'two', 'three'].map((id) => ({ id, type: 'http', with: { method: 'POST', url: `${target.url}/shared/{{execution.id}}/${id}` } })),
      };
      plan.steps.push({ id: 'four', type: 'http', needs: ['one', 'two', 'three'], with: { method: 'POST', url: `${target.url}/shared/{{execution.id}}/four` } } as never);
      expect((await api(a, 'POST', '/api/v1/plans', plan)).status).toBe(201);
      const ids: string[] = [];
      const incidents: string[] = [];
      // Two batches of ten started at once, half on each server: enough for both to claim work, and for a step run twice to show.
      for (let batch = 0; batch < 2; batch++) {
        await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const server = j % 2 ? a : b;
            const incident = (await api<{ id: string }>(server, 'POST', '/api/v1/incidents', { title: `shared ${batch}-${j}`, severity: 'medium' })).body.id;
            incidents.push(incident);
            ids.push((await api<Execution>(server, 'POST', '/api/v1/plans/shared-work/run', { incident_id: incident })).body.id);
          }),
        );
      }
      await eventually(async () => (target.byPath('/shared/').length >= 80 ? true : undefined), 120_000, '80 step requests').catch(async (error: unknown) => {
        const statuses = new Map<string, number>();
        for (const id of ids) {
          const e = (await api<Execution>(a, 'GET', `/api/v1/executions/${id}`)).body;
          for (const s of e.steps) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
        }
        throw new Error(`${String(error)}; step statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
      });
      const executions = await eventually(async () => {
        const all: Execution[] = [];
        for (const incident of incidents) all.push(...(await api<Execution[]>(a, 'GET', `/api/v1/incidents/${incident}/executions`)).body);
        return all.every((e) => e.status === 'succeeded') ? all : undefined;
      }, 120_000, 'every execution to succeed');
      expect(executions).toHaveLength(20);
      expect(executions.flatMap((e) => e.steps.map((s) => s.attempt)).every((n) => n === 1)).toBe(true);
      // Both servers did part of the work.
      const workers = new Set<string>();
      for (const incident of incidents) {
        const entries = (await api<{ kind: string; data: { worker?: string } }[]>(a, 'GET', `/api/v1/incidents/${incident}/timeline?kind=plan_step_started`)).body;
        for (const entry of entries) if (entry.data.worker) workers.add(entry.data.worker);
      }
      expect(workers.size).toBe(2);
      // Stopped gracefully, the servers finish what they hold: no duplicate can still be on its way when the requests are counted.
      await a.stop();
      await b.stop();
      const counts = new Map<string, number>();
      for (const r of target.byPath('/shared/')) counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
      expect(counts.size).toBe(80);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      // Two servers start one after the other, and each of two conditions is waited for up to two minutes.
    }, 2 * SERVER_START_LIMIT_MS + 2 * 120_000 + 60_000);
  }
});
