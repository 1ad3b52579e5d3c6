import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startHttpReceiver, type HttpReceiver } from './receivers.ts';

const MINUTE = 60_000;

/** A team with two people paged through their own webhooks, a schedule for level 1 and bob by name for level 2. */
async function configure(server: TestServer, receiverUrl: string): Promise<void> {
  const ok = (status: number) => expect([200, 201]).toContain(status);
  ok((await server.api('POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: 'alice' }, { user: 'bob' }] })).status);
  ok((await server.api('POST', '/api/v1/services', { id: 'chat-api', owner_team: 'core' })).status);
  for (const user of ['alice', 'bob']) {
    ok((await server.api('POST', '/api/v1/notification-channels', { id: `${user}-hook`, kind: 'webhook', url: `${receiverUrl}/${user}`, events: [] })).status);
    ok((await server.api('POST', `/api/v1/oncall/users/${user}/contact-methods`, { channel_id: `${user}-hook` })).status);
  }
  ok(
    (
      await server.api('POST', '/api/v1/schedules', {
        id: 'core-primary',
        team: 'core',
        time_zone: 'Europe/Berlin',
        layers: [{ name: 'primary', rotation: 'weekly', handoff_time: '09:00', start: '2026-01-05', users: ['alice'] }],
      })
    ).status,
  );
  const policy = await server.api('POST', '/api/v1/escalation-policies', {
    id: 'core-policy',
    team: 'core',
    levels: [
      { timeout_minutes: 5, targets: [{ schedule: 'core-primary' }] },
      { timeout_minutes: 10, targets: [{ user: 'bob' }] },
    ],
  });
  expect(policy.status).toBe(201);
}

const pages = (receiver: HttpReceiver, user: string) => receiver.on(`/${user}`).filter((r) => r.json.event === 'incident.escalated');

describeEachDatabase('escalation', (kind) => {
  let receiver: HttpReceiver;
  let now: Date;
  const clock = () => now;
  const servers: TestServer[] = [];
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    receiver = await startHttpReceiver();
  });
  afterAll(async () => receiver.close());
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await database?.drop();
    database = undefined;
    receiver.requests.length = 0;
  });

  it('escalates level by level until someone acknowledges, then stops', async () => {
    now = new Date('2026-03-27T10:00:00Z');
    const server = await startTestServer(kind, { clock });
    servers.push(server);
    await configure(server, receiver.url);
    const run = () => server.firebreak.ctx.services.oncall.runDueWork();

    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'chat-api returns 500s', severity: 'high', services: ['chat-api'] })).body;
    await run();
    expect(pages(receiver, 'alice')).toHaveLength(1);
    expect(pages(receiver, 'alice')[0]!.json).toMatchObject({ incident_id: incident.id, severity: 'high' });
    expect(String(pages(receiver, 'alice')[0]!.json.text)).toContain('Escalation level 1 of 2');
    expect(pages(receiver, 'bob')).toHaveLength(0);

    now = new Date(now.getTime() + 4 * MINUTE);
    await run();
    expect(pages(receiver, 'bob')).toHaveLength(0);

    now = new Date(now.getTime() + MINUTE);
    await run();
    expect(pages(receiver, 'bob')).toHaveLength(1);
    expect(String(pages(receiver, 'bob')[0]!.json.text)).toContain('Escalation level 2 of 2');

    expect((await server.api('POST', `/api/v1/incidents/${incident.id}/acknowledge`, {})).status).toBe(200);
    await run();
    const state = await server.api('GET', `/api/v1/incidents/${incident.id}/escalation`);
    expect(state.body).toMatchObject({ status: 'stopped', due_at: null });
    expect(state.body.stopped_reason).toContain('acknowledged by');

    now = new Date(now.getTime() + 60 * MINUTE);
    await run();
    expect(pages(receiver, 'alice')).toHaveLength(1);
    expect(pages(receiver, 'bob')).toHaveLength(1);

    const timeline = (await server.api('GET', `/api/v1/incidents/${incident.id}/timeline`)).body as { kind: string; summary: string }[];
    const kinds = timeline.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'escalated')).toHaveLength(2);
    expect(kinds).toContain('escalation_stopped');
    expect(timeline.find((e) => e.kind === 'escalated')!.summary).toContain('paged alice');
    expect(kinds.filter((k) => k === 'notification_delivered').length).toBeGreaterThanOrEqual(2);
  });

  it('acknowledging after the first level means the second is never paged; unacknowledged escalations repeat then exhaust', async () => {
    now = new Date('2026-03-27T10:00:00Z');
    const server = await startTestServer(kind, { clock });
    servers.push(server);
    await configure(server, receiver.url);
    const run = () => server.firebreak.ctx.services.oncall.runDueWork();
    const policy = await server.api('GET', '/api/v1/escalation-policies/core-policy');
    expect((await server.api('PATCH', '/api/v1/escalation-policies/core-policy', { version: policy.body.version, repeat: 1 })).status).toBe(200);

    const acked = (await server.api('POST', '/api/v1/incidents', { title: 'acked early', severity: 'critical', services: ['chat-api'] })).body;
    await run();
    expect(pages(receiver, 'alice')).toHaveLength(1);
    await server.api('POST', `/api/v1/incidents/${acked.id}/acknowledge`, {});
    now = new Date(now.getTime() + 6 * MINUTE);
    await run();
    expect(pages(receiver, 'bob')).toHaveLength(0);

    const ignored = (await server.api('POST', '/api/v1/incidents', { title: 'nobody answers', severity: 'critical', services: ['chat-api'] })).body;
    for (let i = 0; i < 6; i++) {
      await run();
      now = new Date(now.getTime() + 10 * MINUTE);
    }
    const forIgnored = (user: string) => pages(receiver, user).filter((r) => r.json.incident_id === ignored.id);
    expect(forIgnored('alice')).toHaveLength(2); // level 1, then again on the repeat
    expect(forIgnored('bob')).toHaveLength(2);
    const state = await server.api('GET', `/api/v1/incidents/${ignored.id}/escalation`);
    expect(state.body).toMatchObject({ status: 'exhausted', cycle: 1 });
  });

  it('fires a pending timer exactly once after the server restarts on the same database', async () => {
    now = new Date('2026-03-27T10:00:00Z');
    database = await createTestDatabase(kind);
    const first = await startTestServer(kind, { clock, database });
    await configure(first, receiver.url);
    const incident = (await first.api('POST', '/api/v1/incidents', { title: 'restart me', severity: 'high', services: ['chat-api'] })).body;
    await first.firebreak.ctx.services.oncall.runDueWork();
    expect(pages(receiver, 'alice')).toHaveLength(1);
    const pending = await first.api('GET', `/api/v1/incidents/${incident.id}/escalation`);
    expect(pending.body).toMatchObject({ status: 'active', next_level: 1, due_at: '2026-03-27T10:05:00.000Z' });
    await first.close();

    now = new Date('2026-03-27T10:05:00Z');
    const second = await startTestServer(kind, { clock, database });
    servers.push(second);
    if (kind === 'postgres') {
      // Two processes on one database: both see the due timer; exactly one fires it. (On SQLite two
      // connections in one test process would block each other's synchronous lock waits, so the
      // concurrent case runs on PostgreSQL; the conditional update is the same code on both.)
      const third = await startTestServer(kind, { clock, database });
      servers.push(third);
      await Promise.all([second.firebreak.ctx.services.oncall.runDueWork(), third.firebreak.ctx.services.oncall.runDueWork()]);
      await third.firebreak.ctx.services.oncall.runDueWork();
    }
    await second.firebreak.ctx.services.oncall.runDueWork();
    expect(pages(receiver, 'bob')).toHaveLength(1);
    expect(pages(receiver, 'alice')).toHaveLength(1);
    const timeline = (await second.api('GET', `/api/v1/incidents/${incident.id}/timeline?kind=escalated`)).body as unknown[];
    expect(timeline).toHaveLength(2);
  });

  it('rejects policies naming unknown people or schedules, and a second policy for a team', async () => {
    now = new Date('2026-03-27T10:00:00Z');
    const server = await startTestServer(kind, { clock });
    servers.push(server);
    await configure(server, receiver.url);
    const base = { id: 'other', team: 'core', levels: [{ timeout_minutes: 5, targets: [{ user: 'alice' }] }] };
    const second = await server.api('POST', '/api/v1/escalation-policies', base);
    expect(second.status).toBe(409);
    expect(second.body.field).toBe('team');
    await server.api('POST', '/api/v1/teams', { id: 'edge', name: 'Edge', members: [{ user: 'carol' }] });
    const stranger = await server.api('POST', '/api/v1/escalation-policies', { ...base, team: 'edge', levels: [{ timeout_minutes: 5, targets: [{ user: 'carol' }, { user: 'mallory' }] }] });
    expect(stranger.status).toBe(422);
    expect(stranger.body.field).toBe('levels[0].targets[1].user');
    const schedule = await server.api('POST', '/api/v1/escalation-policies', { ...base, team: 'edge', levels: [{ timeout_minutes: 5, targets: [{ schedule: 'nope' }] }] });
    expect(schedule.status).toBe(422);
    expect(schedule.body.field).toBe('levels[0].targets[0].schedule');
    const zero = await server.api('POST', '/api/v1/escalation-policies', { ...base, team: 'edge', levels: [{ timeout_minutes: 0, targets: [{ user: 'carol' }] }] });
    expect(zero.status).toBe(400);
    expect(zero.body.field).toBe('levels[0].timeout_minutes');
    const inUse = await server.api('DELETE', '/api/v1/schedules/core-primary');
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toContain('core-policy');
  });

  /** A channel that hears of every new incident, whatever its team. */
  const addBroadcastChannel = async (server: TestServer) =>
    expect((await server.api('POST', '/api/v1/notification-channels', { id: 'all-hook', kind: 'webhook', url: `${receiver.url}/all`, events: ['incident.created'] })).status).toBe(201);
  const createdNotices = () => receiver.on('/all').filter((r) => r.json.event === 'incident.created').map((r) => String(r.json.incident_id));
  const createBurst = (servers: TestServer[], count: number) =>
    Promise.all(
      Array.from({ length: count }, async (_, i) => {
        // Even ones belong to core (through chat-api) and escalate; odd ones have no team, so nothing escalates.
        const body = { title: `burst ${i}`, severity: 'high', ...(i % 2 === 0 ? { services: ['chat-api'] } : {}) };
        const created = await servers[i % servers.length]!.api('POST', '/api/v1/incidents', body);
        expect(created.status).toBe(201);
        return { id: String(created.body.id), team: i % 2 === 0 };
      }),
    );

  it('dispatches a burst of entries together, skipping those another process marked, each exactly once', async () => {
    now = new Date('2026-03-27T10:00:00Z');
    // No background loop: the test decides when the dispatcher runs, so the burst is dispatched in one run.
    const server = await startTestServer(kind, { clock, config: { workers: false } });
    servers.push(server);
    await configure(server, receiver.url);
    await addBroadcastChannel(server);
    const burst = await createBurst([server], 6);
    // Two entries were dispatched by another server already (its mark and its effects committed together).
    const elsewhere = burst.slice(0, 2);
    const markedElsewhere: number[] = [];
    for (const incident of elsewhere) {
      const entries = (await server.api('GET', `/api/v1/incidents/${incident.id}/timeline?kind=created`)).body as { id: number }[];
      markedElsewhere.push(entries[0]!.id);
    }
    await server.firebreak.ctx.database.db
      .withTables<{ oncall_dispatched_entries: { entry_id: number; dispatched_at: string } }>()
      .insertInto('oncall_dispatched_entries')
      .values(markedElsewhere.map((id) => ({ entry_id: id, dispatched_at: now.toISOString() })))
      .execute();

    const run = () => server.firebreak.ctx.services.oncall.runDueWork();
    await run();
    await run();
    const mine = burst.slice(2);
    expect(createdNotices().sort()).toEqual(mine.map((i) => i.id).sort());
    for (const incident of mine) {
      const escalation = await server.api('GET', `/api/v1/incidents/${incident.id}/escalation`);
      expect(escalation.status).toBe(incident.team ? 200 : 404);
    }
    // Level 1 pages alice once for each core incident this server dispatched.
    expect(pages(receiver, 'alice').map((r) => String(r.json.incident_id)).sort()).toEqual(mine.filter((i) => i.team).map((i) => i.id).sort());
    for (const incident of elsewhere) expect((await server.api('GET', `/api/v1/incidents/${incident.id}/escalation`)).status).toBe(404);
  });

  it('dispatches a burst created on two servers exactly once', async () => {
    now = new Date('2026-03-27T10:00:00Z');
    database = await createTestDatabase(kind);
    const first = await startTestServer(kind, { clock, database });
    servers.push(first);
    await configure(first, receiver.url);
    await addBroadcastChannel(first);
    const all = [first];
    // On SQLite two connections in one test process block each other's synchronous lock waits (see above),
    // so the two dispatchers race on PostgreSQL; on SQLite one server's loop and runDue share the burst.
    if (kind === 'postgres') {
      const second = await startTestServer(kind, { clock, database });
      servers.push(second);
      all.push(second);
    }
    const burst = await createBurst(all, 24);
    await Promise.all(all.map((s) => s.firebreak.ctx.services.oncall.runDueWork()));
    for (const s of all) await s.firebreak.ctx.services.oncall.runDueWork();
    expect(createdNotices().sort()).toEqual(burst.map((i) => i.id).sort());
    expect(pages(receiver, 'alice').map((r) => String(r.json.incident_id)).sort()).toEqual(burst.filter((i) => i.team).map((i) => i.id).sort());
  });

  it('a full scan still finds an entry left undispatched below where this process scanned (a late commit)', async () => {
    now = new Date('2026-03-27T10:00:00Z');
    const server = await startTestServer(kind, { clock, config: { workers: false } });
    servers.push(server);
    await configure(server, receiver.url);
    const { escalations } = server.firebreak.ctx.services.oncall;
    const burst = await createBurst([server], 3);
    expect(await escalations.dispatchTimeline({ full: false })).toBe(3);
    // The first incident's entry loses its mark: as if it had committed late, below this process's scan position.
    const [entry] = (await server.api('GET', `/api/v1/incidents/${burst[0]!.id}/timeline?kind=created`)).body as { id: number }[];
    const marks = server.firebreak.ctx.database.db.withTables<{ oncall_dispatched_entries: { entry_id: number; dispatched_at: string } }>();
    await marks.deleteFrom('oncall_dispatched_entries').where('entry_id', '=', entry!.id).execute();
    // A poked scan starts where this process last found everything dispatched; the full scan re-checks from the cursor.
    expect(await escalations.dispatchTimeline({ full: false })).toBe(0);
    expect(await escalations.dispatchTimeline({ full: true })).toBe(1);
    expect(await escalations.dispatchTimeline({ full: true })).toBe(0);
  });
});
