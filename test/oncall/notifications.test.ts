import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type ReceivedRequest, type SmtpReceiver } from './receivers.ts';

const SIGNING_SECRET = 'receiver-shared-secret-0123456789';

/** What a receiver does, written from the README's description rather than with Firebreak's own helper. */
function verify(request: ReceivedRequest, secret: string): boolean {
  const timestamp = String(request.headers['x-firebreak-timestamp']);
  const signature = String(request.headers['x-firebreak-signature']);
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`);
  return expected.length === Buffer.byteLength(signature) && timingSafeEqual(expected, Buffer.from(signature));
}

type TimelineEntry = { kind: string; summary: string; data: Record<string, unknown> };

describeEachDatabase('notifications', (kind) => {
  let server: TestServer;
  let receiver: HttpReceiver;
  let smtp: SmtpReceiver;
  let now = new Date('2026-05-04T12:00:00Z');
  const run = () => server.firebreak.ctx.services.oncall.runDueWork();
  const timeline = async (id: string) => (await server.api('GET', `/api/v1/incidents/${id}/timeline`)).body as TimelineEntry[];

  beforeAll(async () => {
    // Fails the first two requests on /flaky, always fails on /broken.
    receiver = await startHttpReceiver((request, index) => (request.path === '/broken' ? 500 : request.path === '/flaky' && index < 2 ? 503 : 200));
    smtp = await startSmtpReceiver((address) => address.startsWith('nobody@'));
    server = await startTestServer(kind, { clock: () => now, config: { publicUrl: 'https://firebreak.example.com' } });
    await server.api('POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: 'alice' }, { user: 'bob' }] });
    await server.api('POST', '/api/v1/teams', { id: 'edge', name: 'Edge', members: [{ user: 'erin' }] });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', owner_team: 'core' });
    await server.api('POST', '/api/v1/services', { id: 'cdn', owner_team: 'edge' });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await smtp?.close();
  });

  it('signs generic webhooks so the receiver can verify them, keeps secrets sealed, and shows delivery on the timeline', async () => {
    const created = await server.api('POST', '/api/v1/notification-channels', {
      id: 'core-hook',
      kind: 'webhook',
      team: 'core',
      url: `${receiver.url}/core`,
      signing_secret: SIGNING_SECRET,
    });
    expect(created.status).toBe(201);
    expect(created.body.signing_secret).toBeUndefined();
    expect(created.body.secrets_stored).toEqual(['url', 'signing_secret']);
    expect(JSON.stringify(created.body)).not.toContain(SIGNING_SECRET);
    const generated = await server.api('POST', '/api/v1/notification-channels', { id: 'gen-hook', kind: 'webhook', team: 'edge', url: `${receiver.url}/gen` });
    expect(generated.body.signing_secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(JSON.stringify((await server.api('GET', '/api/v1/notification-channels/gen-hook')).body)).not.toContain(generated.body.signing_secret);
    const stored = await server.firebreak.ctx.database.db
      .withTables<{ notify_channels: { id: string; sealed_secrets: string } }>()
      .selectFrom('notify_channels')
      .select('sealed_secrets')
      .where('id', '=', 'core-hook')
      .executeTakeFirstOrThrow();
    expect(stored.sealed_secrets).toMatch(/^v1\./);
    expect(stored.sealed_secrets).not.toContain(SIGNING_SECRET);

    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'chat-api 500s', severity: 'high', services: ['chat-api'], description: 'internal' })).body;
    await run();
    const delivered = receiver.on('/core');
    expect(delivered).toHaveLength(1);
    expect(verify(delivered[0]!, SIGNING_SECRET)).toBe(true);
    expect(verify(delivered[0]!, 'some other secret of the same size')).toBe(false);
    expect(delivered[0]!.headers['x-firebreak-event']).toBe('incident.created');
    expect(delivered[0]!.json).toMatchObject({
      event: 'incident.created',
      incident_id: incident.id,
      severity: 'high',
      status: 'detected',
      team: 'core',
      title: `[high] ${incident.id} opened: chat-api 500s`,
      url: `https://firebreak.example.com/api/v1/incidents/${incident.id}`,
    });
    // The edge team's channel hears nothing about a core incident.
    expect(receiver.on('/gen')).toHaveLength(0);
    const entries = await timeline(incident.id);
    expect(entries.find((e) => e.kind === 'notification_delivered')?.summary).toContain('incident.created notification delivered to core-hook on attempt 1');

    await server.api('POST', `/api/v1/incidents/${incident.id}/acknowledge`, {});
    await server.api('POST', `/api/v1/incidents/${incident.id}/resolve`, { resolution: 'rolled back' });
    await run();
    // Deliveries run in parallel, so receipt order is not decision order: receivers sort by delivery id.
    const byDecision = [...receiver.on('/core')].sort((a, b) => Number(a.json.delivery_id) - Number(b.json.delivery_id));
    expect(byDecision.map((r) => r.json.event)).toEqual(['incident.created', 'incident.acknowledged', 'incident.status_changed', 'incident.resolved']);
    expect(byDecision.every((r) => verify(r, SIGNING_SECRET))).toBe(true);
    expect(byDecision[3]!.json.text).toContain('Resolution: rolled back');
    await server.api('DELETE', '/api/v1/notification-channels/core-hook');
    await server.api('DELETE', '/api/v1/notification-channels/gen-hook');
  });

  it('retries a receiver that fails twice with backoff, recording every attempt, and never lets a failing channel hold up others', async () => {
    for (const [id, path] of [['flaky', '/flaky'], ['broken', '/broken'], ['healthy', '/healthy']] as const) {
      expect((await server.api('POST', '/api/v1/notification-channels', { id, kind: 'webhook', team: 'edge', url: `${receiver.url}${path}` })).status).toBe(201);
    }
    expect((await server.api('POST', '/api/v1/notification-channels', { id: 'nowhere', kind: 'webhook', team: 'edge', url: 'http://127.0.0.1:1/unreachable' })).status).toBe(201);
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'cdn purge stuck', severity: 'medium', services: ['cdn'] })).body;
    await run();
    expect(receiver.on('/healthy')).toHaveLength(1);
    expect(receiver.on('/flaky')).toHaveLength(1);

    const list = async (channel: string) => (await server.api('GET', `/api/v1/notifications?incident_id=${incident.id}&channel_id=${channel}`)).body as { id: number; status: string; attempts: number; next_attempt_at: string; last_error: string | null }[];
    const [flaky] = await list('flaky');
    expect(flaky).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: new Date(now.getTime() + 10_000).toISOString() });
    expect(flaky!.last_error).toContain('HTTP 503');
    const [nowhere] = await list('nowhere');
    expect(nowhere!.status).toBe('pending');
    expect(nowhere!.last_error).toContain('unreachable');

    now = new Date(now.getTime() + 10_000);
    await run();
    expect(receiver.on('/flaky')).toHaveLength(2);
    now = new Date(now.getTime() + 19_000);
    await run();
    expect(receiver.on('/flaky')).toHaveLength(2); // second backoff is 20 s
    now = new Date(now.getTime() + 1_000);
    await run();
    expect(receiver.on('/flaky')).toHaveLength(3);

    const detail = (await server.api('GET', `/api/v1/notifications/${flaky!.id}`)).body;
    expect(detail).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(detail.attempt_log.map((a: { outcome: string }) => a.outcome)).toEqual(['failed', 'failed', 'delivered']);
    expect(detail.attempt_log[0].detail).toContain('HTTP 503');
    // Every retry of one notification carries the same delivery id, so receivers can drop duplicates.
    expect(new Set(receiver.on('/flaky').map((r) => r.headers['x-firebreak-delivery'])).size).toBe(1);

    // The broken receiver goes dead after its attempt limit.
    for (let i = 0; i < 10; i++) {
      now = new Date(now.getTime() + 15 * 60_000);
      await run();
    }
    const [broken] = await list('broken');
    expect(broken).toMatchObject({ status: 'dead', attempts: 8 });
    const kinds = (await timeline(incident.id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'notification_failed').length).toBeGreaterThanOrEqual(2 + 7);
    expect(kinds.filter((k) => k === 'notification_dead')).toHaveLength(2); // broken and nowhere
    expect(kinds.filter((k) => k === 'notification_delivered')).toHaveLength(2); // healthy and flaky
    for (const id of ['flaky', 'broken', 'healthy', 'nowhere']) await server.api('DELETE', `/api/v1/notification-channels/${id}`);
  });

  it('posts Slack blocks and a Teams MessageCard with severity, status and links', async () => {
    await server.api('POST', '/api/v1/notification-channels', { id: 'slack', kind: 'slack', team: 'edge', url: `${receiver.url}/slack/T000/B000/XXXX` });
    await server.api('POST', '/api/v1/notification-channels', { id: 'teams', kind: 'teams', team: 'edge', url: `${receiver.url}/teams/hook`, events: ['incident.created'] });
    const slack = await server.api('GET', '/api/v1/notification-channels/slack');
    expect(JSON.stringify(slack.body)).not.toContain('XXXX');
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'cdn <b>down</b> & out', severity: 'critical', services: ['cdn'] })).body;
    await run();
    const [slackMessage] = receiver.on('/slack/T000/B000/XXXX');
    const blocks = slackMessage!.json.blocks as { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { url: string }[] }[];
    expect(blocks[0]).toMatchObject({ type: 'header', text: { text: `[critical] ${incident.id} opened: cdn <b>down</b> & out` } });
    expect(blocks[1]!.fields!.map((f) => f.text)).toEqual(['*Severity*\ncritical', '*Status*\ndetected', '*Team*\nedge', `*Incident*\n${incident.id}`]);
    expect(blocks.find((b) => b.type === 'actions')!.elements![0]!.url).toBe(`https://firebreak.example.com/api/v1/incidents/${incident.id}`);
    const [card] = receiver.on('/teams/hook');
    expect(card!.json).toMatchObject({ '@type': 'MessageCard', themeColor: 'B71C1C', title: `[critical] ${incident.id} opened: cdn <b>down</b> & out` });
    expect((card!.json.sections as { facts: { name: string; value: string }[] }[])[0]!.facts).toContainEqual({ name: 'Severity', value: 'critical' });

    // Teams is subscribed to `incident.created` only.
    await server.api('POST', `/api/v1/incidents/${incident.id}/acknowledge`, {});
    await run();
    expect(receiver.on('/teams/hook')).toHaveLength(1);
    expect(receiver.on('/slack/T000/B000/XXXX').length).toBeGreaterThan(1);

    const test = await server.api('POST', '/api/v1/notification-channels/slack/test');
    expect(test.body).toMatchObject({ channel_id: 'slack', ok: true, detail: 'HTTP 200' });
    await server.api('DELETE', '/api/v1/notification-channels/slack');
    await server.api('DELETE', '/api/v1/notification-channels/teams');
  });

  it('e-mails people over real SMTP by severity rule, and records SMTP rejections as failed attempts', async () => {
    const channel = await server.api('POST', '/api/v1/notification-channels', {
      id: 'mail',
      kind: 'email',
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'firebreak@example.com',
      events: [],
    });
    expect(channel.status).toBe(201);
    const alice = (await server.api('POST', '/api/v1/oncall/users/alice/contact-methods', { channel_id: 'mail', address: 'alice@example.com' })).body;
    await server.api('POST', '/api/v1/oncall/users/alice/notification-rules', { contact_method_id: alice.id, min_severity: 'high' });
    await server.api('POST', '/api/v1/oncall/users/bob/contact-methods', { channel_id: 'mail', address: 'nobody@example.com' });
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'Quota exhausted at provider', severity: 'critical', services: ['chat-api'] })).body;
    const sent = await server.api('POST', '/api/v1/notifications', { event: 'incident.escalated', incident_id: incident.id, users: ['alice', 'bob'], context: { escalation: { level: 1, levels: 1, targets: 'alice, bob' } } });
    expect(sent.status).toBe(202);
    expect(sent.body.notification_ids).toHaveLength(2);
    await run();
    const mail = smtp.messages.find((m) => m.to.includes('alice@example.com'))!;
    expect(mail.from).toBe('firebreak@example.com');
    const headers = mail.raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    expect(headers).toContain(`Subject: [critical] ${incident.id} needs a responder: Quota exhausted at provider`);
    expect(mail.raw).toContain('Content-Type: text/plain');
    expect(mail.raw).toContain('Content-Type: text/html');
    const [, bobId] = sent.body.notification_ids as number[];
    const bob = (await server.api('GET', `/api/v1/notifications/${bobId}`)).body;
    expect(bob).toMatchObject({ status: 'dead', attempts: 1 }); // 550 is permanent: no pointless retries
    expect(bob.attempt_log[0].detail).toContain('550');

    // Alice's rule says high and above: a low incident does not e-mail her.
    const low = (await server.api('POST', '/api/v1/incidents', { title: 'minor', severity: 'low', services: ['chat-api'] })).body;
    const none = await server.api('POST', '/api/v1/notifications', { event: 'incident.escalated', incident_id: low.id, users: ['alice'] });
    expect(none.body.notification_ids).toHaveLength(0);
  });

  it('renders editable templates per event with the shared engine and rejects unknown values', async () => {
    await server.api('POST', '/api/v1/notification-channels', { id: 'tpl', kind: 'webhook', url: `${receiver.url}/tpl`, events: ['postmortem.published', 'message'] });
    const bad = await server.api('PUT', '/api/v1/notification-templates/postmortem.published', { title: '{{process.env.SECRET}}', text: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('title');
    const unparsable = await server.api('PUT', '/api/v1/notification-templates/postmortem.published', { title: 'ok', text: '{{#incident}}unclosed' });
    expect(unparsable.status).toBe(400);
    expect(unparsable.body.field).toBe('text');
    const put = await server.api('PUT', '/api/v1/notification-templates/postmortem.published', {
      version: 0,
      title: 'Learn from {{incident.id}}: {{postmortem.title}}',
      text: 'Read it at {{postmortem.url}} ({{actor}})',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ customized: true, version: 1 });
    const stale = await server.api('PUT', '/api/v1/notification-templates/postmortem.published', { version: 0, title: 'x', text: 'y' });
    expect(stale.status).toBe(409);

    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'templated', severity: 'medium', services: ['chat-api'] })).body;
    // The public service other capabilities (postmortems, recovery, plans) call.
    const outcome = await server.firebreak.ctx.services.notifications.notify({
      event: 'postmortem.published',
      incidentId: incident.id,
      channelIds: ['tpl'],
      context: { postmortem: { title: 'Quota <limits>', url: 'https://wiki.example.com/pm/1' } },
      actor: 'postmortems',
    });
    expect(outcome.ids).toHaveLength(1);
    await run();
    expect(receiver.on('/tpl')[0]!.json).toMatchObject({
      title: `Learn from ${incident.id}: Quota <limits>`,
      text: 'Read it at https://wiki.example.com/pm/1 (postmortems)',
    });
    const reset = await server.api('DELETE', '/api/v1/notification-templates/postmortem.published');
    expect(reset.body).toMatchObject({ customized: false, version: 0 });
    const unknownChannel = await server.api('POST', '/api/v1/notifications', { event: 'message', channel_ids: ['tpl', 'ghost'], context: { message: { title: 't', text: 'x' } } });
    expect(unknownChannel.status).toBe(422);
    expect(unknownChannel.body.field).toBe('channel_ids[1]');
  });

  it('keeps decided notifications across a restart: a server that stops before sending loses nothing', async () => {
    const database = await createTestDatabase(kind);
    try {
      // No workers: the first server only decides (writes outbox rows), like a process killed before sending.
      const first = await startTestServer(kind, { database, config: { workers: false } });
      await first.api('POST', '/api/v1/notification-channels', { id: 'durable', kind: 'webhook', url: `${receiver.url}/durable`, events: [] });
      const sent = await first.api('POST', '/api/v1/notifications', { event: 'message', channel_ids: ['durable'], context: { message: { title: 'still here', text: 'after a restart' } } });
      expect(sent.status).toBe(202);
      await first.close();
      expect(receiver.on('/durable')).toHaveLength(0);

      const second = await startTestServer(kind, { database });
      try {
        await second.firebreak.ctx.services.oncall.runDueWork();
        expect(receiver.on('/durable').map((r) => r.json.title)).toEqual(['still here']);
        expect((await second.api('GET', `/api/v1/notifications/${sent.body.notification_ids[0]}`)).body.status).toBe('delivered');
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('notifies from the timeline entries recovery and postmortems write (RTO breach, overdue action item, published postmortem)', async () => {
    await server.api('POST', '/api/v1/notification-channels', { id: 'recovery-hook', kind: 'webhook', team: 'core', url: `${receiver.url}/recovery`, events: ['recovery.rto_breached', 'action_item.overdue', 'postmortem.published'] });
    now = new Date('2026-05-05T08:00:00Z');
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'embeddings down', severity: 'high', services: ['chat-api'] })).body;
    now = new Date('2026-05-05T08:45:00Z');
    // The same entries, kinds and data the recovery capability appends in its own transactions.
    const incidents = server.firebreak.ctx.services.incidents;
    await incidents.appendTimeline(incident.id, [{ kind: 'recovery_rto_breached', summary: 'RTO breached: not recovered within 30 min of detection', data: { rto_minutes: 30, source_service: 'chat-api', due_at: '2026-05-05T08:30:00.000Z' } }], 'firebreak');
    await incidents.appendTimeline(incident.id, [{ kind: 'action_item_overdue', summary: 'action item #7 is overdue (due 2026-05-04, owner alice): add quota alerts', data: { action_item_id: 7, owner: 'alice', due_date: '2026-05-04' } }], 'firebreak');
    await incidents.appendTimeline(incident.id, [{ kind: 'postmortem_status_changed', summary: 'postmortem moved from draft to in_review', data: { from: 'draft', to: 'in_review' } }], 'alice');
    await incidents.appendTimeline(incident.id, [{ kind: 'postmortem_status_changed', summary: 'postmortem moved from in_review to published', data: { from: 'in_review', to: 'published' } }], 'alice');
    await run();
    const got = [...receiver.on('/recovery')].sort((a, b) => Number(a.json.delivery_id) - Number(b.json.delivery_id)).map((r) => [r.json.event, r.json.title]);
    expect(got).toEqual([
      ['recovery.rto_breached', `${incident.id}: not recovered within its RTO of 30 minutes (chat-api)`],
      ['action_item.overdue', 'Action item #7 overdue (owner alice, due 2026-05-04)'],
      ['postmortem.published', `Postmortem published for ${incident.id}: embeddings down`],
    ]);
    expect(receiver.on('/recovery').find((r) => r.json.event === 'recovery.rto_breached')!.json.text).toContain('45 minutes since detection');
    await server.api('DELETE', '/api/v1/notification-channels/recovery-hook');
  });
});
