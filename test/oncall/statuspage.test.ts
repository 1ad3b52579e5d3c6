import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/** Strings that exist only in internal fields; none may ever reach the public page. */
const INTERNAL = {
  title: 'INTERNAL-TITLE quota for provider acct 4711',
  description: 'INTERNAL-DESCRIPTION customer BigCo lost data',
  label: 'INTERNAL-LABEL-bigco',
  note: 'INTERNAL-NOTE db password rotated',
  resolution: 'INTERNAL-RESOLUTION patched the rate limiter',
  hidden: 'INTERNAL-UNPUBLISHED incident',
};

describeEachDatabase('status page', (kind) => {
  let server: TestServer;
  let now = new Date('2026-06-10T12:00:00Z');

  beforeAll(async () => {
    server = await startTestServer(kind, { clock: () => now });
    await server.api('POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: 'alice' }] });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', name: 'Chat API', owner_team: 'core' });
    await server.api('POST', '/api/v1/services', { id: 'embeddings', name: 'Embeddings', owner_team: 'core' });
    await server.api('POST', '/api/v1/services', { id: 'billing', name: 'Billing (internal)', owner_team: 'core' });
    const page = await server.api('POST', '/api/v1/status-pages', { id: 'acme', title: 'Acme AI', description: 'Status of the Acme AI APIs', services: ['chat-api', 'embeddings'] });
    expect(page.status).toBe(201);
  });
  afterAll(async () => server?.close());

  const publicJson = async () => {
    const response = await server.api('GET', '/status/acme.json', undefined, { token: null });
    expect(response.status).toBe(200);
    return { body: response.body, text: JSON.stringify(response.body) };
  };
  const publicHtml = async () => {
    const response = await server.api<string>('GET', '/status/acme', undefined, { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    return response.body;
  };

  it('shows only what responders publish, escaped, without a token and without JavaScript', async () => {
    const empty = await publicJson();
    expect(empty.body.overall_status).toBe('operational');
    expect(empty.body.active_incidents).toEqual([]);
    expect(empty.body.services.map((s: { name: string }) => s.name)).toEqual(['Chat API', 'Embeddings']);

    const incident = (
      await server.api('POST', '/api/v1/incidents', {
        title: INTERNAL.title,
        description: INTERNAL.description,
        severity: 'high',
        services: ['chat-api', 'billing'],
        labels: { customer: INTERNAL.label },
      })
    ).body;
    await server.api('POST', `/api/v1/incidents/${incident.id}/notes`, { text: INTERNAL.note });
    const hidden = (await server.api('POST', '/api/v1/incidents', { title: INTERNAL.hidden, severity: 'critical', services: ['embeddings'] })).body;
    await server.firebreak.ctx.services.oncall.runDueWork();

    // Not published yet: nothing about either incident shows.
    expect((await publicJson()).body.overall_status).toBe('operational');

    const noTitle = await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'investigating', message: 'x' });
    expect(noTitle.status).toBe(400);
    expect(noTitle.body.field).toBe('title');
    const viewer = await server.tokenFor('viewer');
    expect((await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'investigating', message: 'x', title: 't' }, { token: viewer })).status).toBe(403);

    now = new Date('2026-06-10T12:05:00Z');
    const first = await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, {
      status: 'investigating',
      title: 'Slow chat responses',
      message: 'We are investigating <script>alert(1)</script> slow responses.',
    });
    expect(first.status).toBe(201);
    now = new Date('2026-06-10T12:20:00Z');
    await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'identified', message: 'We found the cause & are fixing it.' });

    const { body, text } = await publicJson();
    expect(body.overall_status).toBe('partial_outage');
    expect(body.services).toEqual([
      { id: 'chat-api', name: 'Chat API', status: 'partial_outage' },
      { id: 'embeddings', name: 'Embeddings', status: 'operational' },
    ]);
    expect(body.active_incidents).toHaveLength(1);
    expect(body.active_incidents[0]).toMatchObject({
      title: 'Slow chat responses',
      status: 'identified',
      impact: 'partial_outage',
      affected_services: ['Chat API'],
      started_at: '2026-06-10T12:05:00.000Z',
    });
    expect(body.active_incidents[0].updates.map((u: { message: string }) => u.message)).toEqual([
      'We found the cause & are fixing it.',
      'We are investigating <script>alert(1)</script> slow responses.',
    ]);
    for (const secret of [...Object.values(INTERNAL), incident.id, hidden.id, 'Billing', 'alice', 'bootstrap-admin']) expect(text).not.toContain(secret);

    const html = await publicHtml();
    expect(html).toContain('Slow chat responses');
    expect(html).toContain('We are investigating &lt;script&gt;alert(1)&lt;&#x2F;script&gt; slow responses.');
    expect(html).toContain('We found the cause &amp; are fixing it.');
    expect(html).not.toContain('<script');
    for (const secret of [...Object.values(INTERNAL), incident.id, hidden.id, 'Billing']) expect(html).not.toContain(secret);

    // The internal record still knows who wrote what.
    const updates = await server.api('GET', `/api/v1/incidents/${incident.id}/public-updates`);
    expect(updates.body).toHaveLength(2);
    expect(updates.body[0].author).toBe('bootstrap-admin');
    expect(updates.body[0].components).toEqual({});

    // Responders may set a component's status themselves; it holds until a later update changes it.
    const notAffected = await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'monitoring', message: 'x', components: { embeddings: 'major_outage' } });
    expect(notAffected.status).toBe(422);
    expect(notAffected.body.field).toBe('components.embeddings');
    const badStatus = await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'monitoring', message: 'x', components: { 'chat-api': 'on_fire' } });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.field).toContain('components');
    const chosen = await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'monitoring', message: 'A fix is rolling out.', components: { 'chat-api': 'degraded_performance' } });
    expect(chosen.status).toBe(201);
    expect(chosen.body.components).toEqual({ 'chat-api': 'degraded_performance' });
    await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'monitoring', message: 'Still watching.' });
    const after = (await publicJson()).body;
    expect(after.services[0]).toEqual({ id: 'chat-api', name: 'Chat API', status: 'degraded_performance' });
    expect(after.overall_status).toBe('degraded_performance');
    expect(after.active_incidents[0].impact).toBe('degraded_performance');
    now = new Date('2026-06-10T12:40:00Z');
    await server.api('POST', `/api/v1/incidents/${incident.id}/public-updates`, { status: 'identified', message: 'The fix did not hold.', components: { 'chat-api': 'partial_outage' } });
    expect((await publicJson()).body.services[0].status).toBe('partial_outage');
  });

  it('keeps 90 days of per-day worst status and clears active incidents when resolved', async () => {
    const incidents = (await server.api('GET', '/api/v1/incidents?active=true')).body.items as { id: string; title: string }[];
    const published = incidents.find((i) => i.title === INTERNAL.title)!;
    now = new Date('2026-06-11T09:00:00Z');
    await server.api('POST', `/api/v1/incidents/${published.id}/resolve`, { resolution: INTERNAL.resolution });
    await server.api('POST', `/api/v1/incidents/${published.id}/public-updates`, { status: 'resolved', message: 'Fixed.' });

    // An older, published, critical incident on Embeddings, 30 days back.
    now = new Date('2026-05-12T08:00:00Z');
    const old = (await server.api('POST', '/api/v1/incidents', { title: 'old internal', severity: 'critical', services: ['embeddings'] })).body;
    await server.api('POST', `/api/v1/incidents/${old.id}/public-updates`, { status: 'investigating', title: 'Embeddings unavailable', message: 'Down.' });
    now = new Date('2026-05-12T10:00:00Z');
    await server.api('POST', `/api/v1/incidents/${old.id}/resolve`, { resolution: 'restarted' });

    now = new Date('2026-06-12T12:00:00Z');
    const { body, text } = await publicJson();
    expect(body.active_incidents).toEqual([]);
    expect(body.overall_status).toBe('operational');
    const chat = body.history.find((h: { service: string }) => h.service === 'chat-api');
    const embeddings = body.history.find((h: { service: string }) => h.service === 'embeddings');
    expect(chat.days).toHaveLength(90);
    expect(chat.days[89]).toEqual({ date: '2026-06-12', status: 'operational' });
    expect(chat.days[88]).toEqual({ date: '2026-06-11', status: 'partial_outage' });
    expect(chat.days[87]).toEqual({ date: '2026-06-10', status: 'partial_outage' });
    expect(chat.days[86]).toEqual({ date: '2026-06-09', status: 'operational' });
    expect(embeddings.days.find((d: { date: string }) => d.date === '2026-05-12').status).toBe('major_outage');
    // The unpublished critical incident on Embeddings never coloured its history.
    expect(embeddings.days.filter((d: { status: string }) => d.status !== 'operational')).toHaveLength(1);
    expect(text).not.toContain('old internal');
    expect(await publicHtml()).toContain('title="2026-05-12: Major outage"');

    const missing = await server.api('GET', '/status/nope', undefined, { token: null });
    expect(missing.status).toBe(404);
  });
});
