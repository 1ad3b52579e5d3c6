import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually } from '../plans/target.ts';
import { startHttpReceiver, type HttpReceiver } from './receivers.ts';

describeEachDatabase('response plans speak through notification channels', (kind) => {
  let server: TestServer;
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await startHttpReceiver();
    server = await startTestServer(kind);
    await server.api('POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: 'alice' }] });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', owner_team: 'core' });
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  it('delivers a communicate step to the team channel that subscribes to messages, through the outbox', async () => {
    const channel = await server.api('POST', '/api/v1/notification-channels', {
      id: 'core-updates',
      kind: 'webhook',
      team: 'core',
      url: `${receiver.url}/updates`,
      events: ['message'],
    });
    expect(channel.status, JSON.stringify(channel.body)).toBe(201);
    const plan = await server.api('POST', '/api/v1/plans', {
      id: 'tell-core',
      name: 'Tell the team',
      steps: [{ id: 'tell', type: 'communicate', with: { subject: 'Failing over', message: 'moving {{incident.id}} traffic to the secondary provider', channels: ['notifications'] } }],
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'provider outage', severity: 'critical', services: ['chat-api'] })).body;
    const started = await server.api('POST', '/api/v1/plans/tell-core/run', { incident_id: incident.id });
    expect(started.status).toBe(201);
    const delivered = await eventually(async () => {
      await server.firebreak.ctx.services.oncall.runDueWork();
      return receiver.on('/updates').find((r) => r.body.includes(`moving ${incident.id} traffic to the secondary provider`));
    });
    expect(delivered.body).toContain('Failing over');
    const execution = await eventually(async () => {
      const list = await server.api('GET', `/api/v1/incidents/${incident.id}/executions`);
      return list.body[0]?.status === 'succeeded' ? list.body[0] : undefined;
    });
    expect(JSON.stringify(execution.steps[0])).toContain('queued 1 notification');
  });
});
