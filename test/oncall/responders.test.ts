import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startHttpReceiver, type HttpReceiver } from './receivers.ts';

const MINUTE = 60_000;

describeEachDatabase('incident responders: on call, escalate now, page someone, roles', (kind) => {
  let receiver: HttpReceiver;
  let server: TestServer;
  let now: Date;
  const clock = () => now;
  const run = () => server.firebreak.ctx.services.oncall.runDueWork();

  beforeAll(async () => {
    receiver = await startHttpReceiver();
    now = new Date('2026-03-27T10:00:00Z');
    server = await startTestServer(kind, { clock });
    const ok = (status: number) => expect([200, 201]).toContain(status);
    ok((await server.api('POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: 'alice' }, { user: 'bob' }, { user: 'carol' }] })).status);
    ok((await server.api('POST', '/api/v1/teams', { id: 'edge', name: 'Edge', members: [{ user: 'dave' }] })).status);
    ok((await server.api('POST', '/api/v1/services', { id: 'chat-api', owner_team: 'core' })).status);
    ok((await server.api('POST', '/api/v1/services', { id: 'gateway', owner_team: 'edge' })).status);
    for (const user of ['alice', 'bob', 'dave']) {
      ok((await server.api('POST', '/api/v1/notification-channels', { id: `${user}-hook`, kind: 'webhook', url: `${receiver.url}/${user}`, events: [] })).status);
      ok((await server.api('POST', `/api/v1/oncall/users/${user}/contact-methods`, { channel_id: `${user}-hook` })).status);
    }
    const layer = { name: 'primary', rotation: 'weekly', handoff_time: '09:00', start: '2026-01-05' };
    ok((await server.api('POST', '/api/v1/schedules', { id: 'core-primary', team: 'core', time_zone: 'UTC', layers: [{ ...layer, users: ['alice'] }] })).status);
    ok((await server.api('POST', '/api/v1/schedules', { id: 'edge-primary', team: 'edge', time_zone: 'UTC', layers: [{ ...layer, users: ['dave'] }] })).status);
    ok(
      (
        await server.api('POST', '/api/v1/escalation-policies', {
          id: 'core-policy',
          team: 'core',
          levels: [
            { timeout_minutes: 5, targets: [{ schedule: 'core-primary' }] },
            { timeout_minutes: 10, targets: [{ user: 'bob' }] },
          ],
        })
      ).status,
    );
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  it('shows who is on call for the incident and its services, the escalation level and next time, and who was notified how', async () => {
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'chat-api 500s', severity: 'high', services: ['chat-api', 'gateway'] })).body;
    await run();
    const answer = await server.api('GET', `/api/v1/incidents/${incident.id}/responders`);
    expect(answer.status).toBe(200);
    expect(answer.body.teams.sort()).toEqual(['core', 'edge']);
    expect(answer.body.on_call.map((s: { schedule: string; on_call: { user: string } }) => `${s.schedule}:${s.on_call.user}`).sort()).toEqual(['core-primary:alice', 'edge-primary:dave']);
    expect(answer.body.escalation).toMatchObject({ policy_id: 'core-policy', status: 'active', next_level: 1, due_at: new Date(now.getTime() + 5 * MINUTE).toISOString() });
    expect(answer.body.notifications.find((n: { recipient: string }) => n.recipient === 'alice')).toMatchObject({ event: 'incident.escalated', channel_id: 'alice-hook' });
    // The server's own worker may hold the delivery's lease when the test runs due work, so wait for it to land.
    await expect
      .poll(async () => {
        await run();
        const notifications = (await server.api('GET', `/api/v1/incidents/${incident.id}/responders`)).body.notifications as { recipient: string; status: string }[];
        return notifications.find((n) => n.recipient === 'alice')?.status;
      })
      .toBe('delivered');
  });

  it('answers with a null escalation, not a 404, when no policy covers the incident', async () => {
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'no team', severity: 'low' })).body;
    const answer = await server.api('GET', `/api/v1/incidents/${incident.id}/responders`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ escalation: null, roles: [], on_call: [], teams: [] });
    const escalate = await server.api('POST', `/api/v1/incidents/${incident.id}/escalation/escalate`, {});
    expect(escalate.status).toBe(409);
    expect(escalate.headers.get('content-type')).toContain('application/problem+json');
    expect(escalate.body.detail).toContain('page someone instead');
    const missing = await server.api('GET', '/api/v1/incidents/INC-19990101-0001/responders');
    expect(missing.status).toBe(404);
  });

  it('escalates now: the next level is paged without waiting for its timer', async () => {
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'tokens stuck', severity: 'critical', team: 'core' })).body;
    await run();
    receiver.requests.length = 0;
    const escalated = await server.api('POST', `/api/v1/incidents/${incident.id}/escalation/escalate`, {});
    expect(escalated.status).toBe(200);
    expect(escalated.body).toMatchObject({ status: 'active', next_level: 2 });
    await run();
    expect(receiver.on('/bob').filter((r) => r.json.event === 'incident.escalated')).toHaveLength(1);
    const timeline = (await server.api('GET', `/api/v1/incidents/${incident.id}/timeline`)).body as { kind: string; actor: string }[];
    expect(timeline.find((e) => e.kind === 'escalation_requested')?.actor).toBe('bootstrap-admin');
    expect(timeline.filter((e) => e.kind === 'escalated')).toHaveLength(2);
    await server.api('POST', `/api/v1/incidents/${incident.id}/acknowledge`, {});
    await run();
    const stopped = await server.api('POST', `/api/v1/incidents/${incident.id}/escalation/escalate`, {});
    expect(stopped.status).toBe(409);
    expect(stopped.body.detail).toContain('stopped');
  });

  it('pages someone through their contact methods and adds them as a responder; says who could not be reached', async () => {
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'gateway drops', severity: 'medium', team: 'edge' })).body;
    receiver.requests.length = 0;
    const paged = await server.api('POST', `/api/v1/incidents/${incident.id}/page`, { users: ['dave', 'carol'], message: 'need the gateway owner' });
    expect(paged.status).toBe(200);
    expect(paged.body.paged).toEqual(['dave']);
    expect(paged.body.unreachable[0]).toContain('carol has no contact method');
    await run();
    const message = receiver.on('/dave').find((r) => r.json.event === 'message');
    expect(String(message?.json.title)).toContain(`${incident.id} needs you`);
    expect(String(message?.json.text)).toContain('need the gateway owner');
    const answer = await server.api('GET', `/api/v1/incidents/${incident.id}/responders`);
    expect(answer.body.roles.map((r: { role: string; user: string }) => `${r.role}:${r.user}`).sort()).toEqual(['responder:carol', 'responder:dave']);
    const timeline = (await server.api('GET', `/api/v1/incidents/${incident.id}/timeline`)).body as { kind: string; summary: string }[];
    expect(timeline.find((e) => e.kind === 'paged')?.summary).toContain('paged dave; carol has no contact method');

    const stranger = await server.api('POST', `/api/v1/incidents/${incident.id}/page`, { users: ['mallory'] });
    expect(stranger.status).toBe(422);
    expect(stranger.body.field).toBe('users[0]');
    const empty = await server.api('POST', `/api/v1/incidents/${incident.id}/page`, { users: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('users');
  });

  it('assigns incident roles: a named role changes hands, responders accumulate, and both are recorded on the timeline', async () => {
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'roles', severity: 'high', team: 'core' })).body;
    const path = `/api/v1/incidents/${incident.id}/roles`;
    expect((await server.api('PUT', `${path}/commander`, { user: 'alice' })).status).toBe(200);
    const handed = await server.api('PUT', `${path}/commander`, { user: 'bob' });
    expect(handed.body.filter((r: { role: string }) => r.role === 'commander').map((r: { user: string }) => r.user)).toEqual(['bob']);
    await server.api('PUT', `${path}/comms_lead`, { user: 'carol' });
    await server.api('PUT', `${path}/responder`, { user: 'alice' });
    const roles = await server.api('PUT', `${path}/responder`, { user: 'dave' });
    expect(roles.body.map((r: { role: string; user: string }) => `${r.role}:${r.user}`).sort()).toEqual(['commander:bob', 'comms_lead:carol', 'responder:alice', 'responder:dave']);
    const removed = await server.api('DELETE', `${path}/responder?user=alice`);
    expect(removed.body.map((r: { user: string; role: string }) => `${r.role}:${r.user}`).sort()).toEqual(['commander:bob', 'comms_lead:carol', 'responder:dave']);
    const timeline = (await server.api('GET', `/api/v1/incidents/${incident.id}/timeline`)).body as { kind: string; summary: string }[];
    expect(timeline.filter((e) => e.kind === 'role_assigned').map((e) => e.summary)).toContain('bob is the incident commander (was alice)');
    expect(timeline.some((e) => e.kind === 'role_unassigned' && e.summary.includes('alice'))).toBe(true);

    const badRole = await server.api('PUT', `${path}/captain`, { user: 'bob' });
    expect(badRole.status).toBe(400);
    expect(badRole.body.field).toBe('role');
    const nobody = await server.api('PUT', `${path}/scribe`, { user: 'mallory' });
    expect(nobody.status).toBe(422);
    expect(nobody.body.field).toBe('user');
    const notHeld = await server.api('DELETE', `${path}/scribe`);
    expect(notHeld.status).toBe(404);
    const viewer = await server.tokenFor('viewer');
    expect((await server.api('PUT', `${path}/scribe`, { user: 'bob' }, { token: viewer })).status).toBe(403);
  });
});
