import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { startHttpReceiver, type HttpReceiver } from '../oncall/receivers.ts';
import { buildConsoleOnce, consumeExpectedErrors, launchChromium, screenshot, signIn as signInWith, SCREENSHOT_DIR, watchConsole, type LaunchedBrowser } from './support.ts';

const MINUTE = 60_000;

/**
 * Running an incident from the console alone: the urgent list and bulk actions, on-call and escalation,
 * paging, roles, the timeline, the status page, resolution and the postmortem, on a desktop and a phone.
 */
describe('web console: a responder runs an incident in headless Chromium [sqlite]', () => {
  let database: TestDatabase;
  let server: TestServer;
  let receiver: HttpReceiver;
  let chromium: LaunchedBrowser;
  let desktop: BrowserContext;
  let page: Page;
  let watch: ReturnType<typeof watchConsole>;
  let now = new Date();
  const clock = () => now;
  const ids: Record<string, string> = {};
  const run = () => server.firebreak.ctx.services.oncall.runDueWork();
  const shot = (name: string, target: Page = page) => screenshot(target, name);

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    // bob's webhook fails its first delivery, so one notification has two attempts to fold.
    receiver = await startHttpReceiver((request, index) => (request.path === '/bob' && index === 0 ? 500 : 200));
    database = await createTestDatabase('sqlite');
    server = await startTestServer('sqlite', { database, clock });
    const ok = (status: number) => expect([200, 201]).toContain(status);
    ok((await server.api('POST', '/api/v1/teams', { id: 'llm-platform', name: 'LLM platform', members: [{ user: 'alice' }, { user: 'bob' }, { user: 'carol' }] })).status);
    ok((await server.api('POST', '/api/v1/services', { id: 'chat-api', name: 'Chat API', owner_team: 'llm-platform', tier: 1, rto_minutes: 30 })).status);
    for (const user of ['alice', 'bob']) {
      ok((await server.api('POST', '/api/v1/notification-channels', { id: `${user}-hook`, kind: 'webhook', url: `${receiver.url}/${user}`, events: [] })).status);
      ok((await server.api('POST', `/api/v1/oncall/users/${user}/contact-methods`, { channel_id: `${user}-hook` })).status);
    }
    ok(
      (
        await server.api('POST', '/api/v1/schedules', {
          id: 'primary',
          team: 'llm-platform',
          time_zone: 'UTC',
          layers: [{ name: 'primary', rotation: 'weekly', handoff_time: '09:00', start: '2026-01-05', users: ['alice'] }],
        })
      ).status,
    );
    ok(
      (
        await server.api('POST', '/api/v1/escalation-policies', {
          id: 'platform-policy',
          team: 'llm-platform',
          levels: [
            { timeout_minutes: 5, targets: [{ schedule: 'primary' }] },
            { timeout_minutes: 10, targets: [{ user: 'bob' }] },
          ],
        })
      ).status,
    );
    ok((await server.api('POST', '/api/v1/status-pages', { id: 'public', title: 'Acme AI status', services: ['chat-api'] })).status);
    // Created oldest first; the list must still put the unacknowledged critical on top.
    for (const [key, title, severity] of [
      ['lowAcked', 'Slow embeddings', 'low'],
      ['mediumOpen', 'Token cost spike', 'medium'],
      ['critical', 'chat-api answers 500', 'critical'],
      ['lowOpen', 'Flaky probe', 'low'],
    ] as const) {
      const created = await server.api('POST', '/api/v1/incidents', { title, severity, ...(key === 'critical' ? { services: ['chat-api'] } : {}) });
      ids[key] = created.body.id;
      now = new Date(now.getTime() + 1000);
    }
    await server.api('POST', `/api/v1/incidents/${ids.lowAcked}/acknowledge`, {});
    await run();
    chromium = await launchChromium();
    desktop = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
    watch = watchConsole(desktop);
    page = await desktop.newPage();
    await signInWith(page, server.url, ADMIN_TOKEN);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await receiver?.close();
    await database?.drop();
  });

  it('lists open incidents most urgent first, with views and their true counts', async () => {
    await page.locator('.incident-row').nth(3).waitFor();
    const order = await page.locator('.incident-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-incident-id')));
    expect(order).toEqual([ids.critical, ids.mediumOpen, ids.lowOpen, ids.lowAcked]);
    await expect.poll(() => page.getByTestId('count-triggered').textContent()).toBe('3');
    await expect(page.getByTestId('count-acknowledged').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('count-open').textContent()).resolves.toBe('4');
    await expect(page.getByTestId('count-all').textContent()).resolves.toBe('4');
    await expect(page.getByTestId('list-count').textContent()).resolves.toBe('4 of 4');
    await shot('responder-list-urgency-1280');
    await page.locator('.view-tabs [data-view="acknowledged"]').click();
    await page.waitForURL(/view=acknowledged/);
    await expect.poll(() => page.locator('.incident-row').count()).toBe(1);
    await page.locator('.view-tabs [data-view="triggered"]').click();
    await expect.poll(() => page.locator('.incident-row').count()).toBe(3);
  });

  it('acknowledges and resolves in bulk, and keeps the counts true', async () => {
    await page.getByLabel(`Select ${ids.mediumOpen}`).check();
    await page.getByLabel(`Select ${ids.lowOpen}`).check();
    await page.getByRole('button', { name: 'Acknowledge selected' }).click();
    await expect.poll(() => page.locator('.bulk-note').textContent()).toContain('Acknowledged 2 of 2');
    // Acknowledged incidents leave the triggered view.
    await expect.poll(() => page.locator('.incident-row').count()).toBe(1);
    await expect.poll(() => page.getByTestId('count-triggered').textContent()).toBe('1');
    await page.locator('.view-tabs [data-view="acknowledged"]').click();
    await expect.poll(() => page.locator('.incident-row').count()).toBe(3);
    await page.getByLabel(`Select ${ids.lowOpen}`).check();
    await page.getByLabel(`Select ${ids.lowAcked}`).check();
    await page.getByRole('button', { name: 'Resolve selected…' }).click();
    await page.getByLabel(/Resolution for all 2/).fill('probe fixed');
    await shot('responder-list-bulk-resolve-1280');
    await page.getByRole('button', { name: 'Resolve 2' }).click();
    await expect.poll(() => page.locator('.bulk-note').textContent()).toContain('Resolved 2 of 2');
    await expect.poll(() => page.locator('.incident-row').count()).toBe(1);
    expect((await server.api('GET', `/api/v1/incidents/${ids.lowOpen}`)).body).toMatchObject({ status: 'resolved', resolution: 'probe fixed' });
    await expect.poll(() => page.getByTestId('count-all').textContent()).toBe('4');
    await expect(page.getByTestId('count-open').textContent()).resolves.toBe('2');
  });

  it('shows on call now, the escalation level and its next time, and who was notified how; escalates now', async () => {
    // The browser reads the server's clock, so "next in" is counted from the same instant however long the run took.
    await page.clock.setFixedTime(now);
    await page.goto(`${server.url}/incidents/${ids.critical}`);
    const panel = page.locator('[data-panel="responders"]');
    await panel.getByTestId('on-call-now').waitFor();
    await expect(panel.getByTestId('on-call-now').textContent()).resolves.toContain('alice');
    await expect(panel.getByTestId('escalation').textContent()).resolves.toContain('level 1 of 2');
    await expect(panel.getByTestId('next-escalation').textContent()).resolves.toMatch(/Next: level 2 in 4m|Next: level 2 in 5m/);
    await expect(panel.getByTestId('notified').textContent()).resolves.toMatch(/alice via alice-hook: 1 delivered/);
    await expect(page.title()).resolves.toContain(ids.critical);
    await shot('responder-incident-oncall-1280');
    await panel.getByRole('button', { name: 'Escalate now' }).click();
    await page.getByText('Escalated: the next level is being paged.').waitFor();
    await run();
    // bob's first delivery fails; the retry after the back-off succeeds.
    now = new Date(now.getTime() + 2 * MINUTE);
    await page.clock.setFixedTime(now);
    await run();
    await expect.poll(() => panel.getByTestId('notified').textContent(), { timeout: 60_000 }).toMatch(/bob via bob-hook: 1 delivered/);
    await expect(panel.getByTestId('escalation').textContent()).resolves.toContain('level 2 of 2');
    const timeline = (await server.api('GET', `/api/v1/incidents/${ids.critical}/timeline`)).body as { kind: string }[];
    expect(timeline.some((e) => e.kind === 'escalation_requested')).toBe(true);
  });

  it('folds delivery attempts into one line per notification, filters by kind, and takes notes at the top', async () => {
    const folded = page.locator('.timeline-entry[data-attempts="2"]');
    await folded.waitFor({ timeout: 60_000 });
    await expect(folded.textContent()).resolves.toContain('(2 attempts)');
    await folded.locator('summary').click();
    await expect(folded.locator('.attempts li').count()).resolves.toBe(2);
    // The composer sits above the entries.
    const composerY = (await page.locator('.note-composer').boundingBox())!.y;
    const firstEntryY = (await page.locator('.timeline-entry').first().boundingBox())!.y;
    expect(composerY).toBeLessThan(firstEntryY);
    await page.getByLabel('Note', { exact: true }).fill('rolled back the 14:00 deploy');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('.timeline-entry.kind-note', { hasText: 'rolled back' }).waitFor();
    await page.locator('.timeline-filters input[data-group="people"]').uncheck();
    await expect(page.locator('.timeline-entry[data-kind^="notification_"]').count()).resolves.toBe(0);
    await expect(page.locator('.timeline-entry.kind-note').count()).resolves.toBe(1);
    await page.locator('.timeline-filters input[data-group="people"]').check();
    await expect(page.locator('.timeline-day-heading').first().textContent()).resolves.toMatch(/\d{4}/);
    await shot('responder-timeline-1280');
  });

  it('pages someone, reassigns from the people list, and assigns incident roles', async () => {
    const panel = page.locator('[data-panel="responders"]');
    await panel.getByLabel('Person to page').selectOption('carol');
    await panel.getByLabel('Why (optional)').fill('need the model owner');
    await panel.getByRole('button', { name: 'Page and add as responder' }).click();
    await expect.poll(() => panel.getByTestId('page-outcome').textContent()).toContain('carol has no contact method');
    await panel.getByLabel('Person to page').selectOption('bob');
    await panel.getByRole('button', { name: 'Page and add as responder' }).click();
    await expect.poll(() => panel.getByTestId('page-outcome').textContent()).toContain('Paged bob');
    await expect.poll(() => panel.getByTestId('roles').textContent()).toMatch(/Responders.*(bob.*carol|carol.*bob)/);

    await panel.getByLabel('Role', { exact: true }).selectOption('commander');
    await panel.getByLabel('Person', { exact: true }).selectOption('alice');
    await panel.getByRole('button', { name: 'Assign', exact: true }).click();
    await expect.poll(() => panel.getByTestId('roles').textContent()).toContain('Incident commanderalice');
    await panel.getByLabel('Role', { exact: true }).selectOption('comms_lead');
    await panel.getByLabel('Person', { exact: true }).selectOption('bob');
    await panel.getByRole('button', { name: 'Assign', exact: true }).click();
    await expect.poll(() => panel.getByTestId('roles').textContent()).toContain('Communications leadbob');
    // The person is checked with the server's own schema before anything is sent.
    await panel.getByRole('button', { name: 'Assign', exact: true }).click();
    await panel.locator('#role-user-error').waitFor();

    await panel.getByLabel(/Assignee/).selectOption('alice');
    await panel.getByRole('button', { name: 'Reassign' }).click();
    await expect.poll(async () => (await server.api('GET', `/api/v1/incidents/${ids.critical}`)).body.assignee).toBe('alice');
    await shot('responder-roles-1280');
    const roles = (await server.api('GET', `/api/v1/incidents/${ids.critical}/responders`)).body.roles as { role: string; user: string }[];
    expect(roles.map((r) => `${r.role}:${r.user}`).sort()).toEqual(['commander:alice', 'comms_lead:bob', 'responder:bob', 'responder:carol']);
  });

  it('writes a status page update with a preview, and shows the public update history', async () => {
    const panel = page.locator('[data-panel="status-updates"]');
    await panel.getByRole('button', { name: 'Post update' }).click();
    await panel.locator('#public-message-error').waitFor();
    await panel.getByLabel(/Public title/).fill('Chat errors');
    await panel.getByLabel('Message for the public').fill('Some chat requests fail; we are rolling back.');
    await panel.getByTestId('status-preview').waitFor();
    await expect(panel.getByTestId('status-preview').textContent()).resolves.toContain('Chat API operational → major outage');
    await shot('responder-status-composer-1280');
    await panel.getByRole('button', { name: 'Post update' }).click();
    await expect.poll(() => panel.getByTestId('public-history').textContent()).toContain('Some chat requests fail');
    await panel.getByLabel('Status', { exact: true }).selectOption('monitoring');
    await panel.getByLabel('Message for the public').fill('A fix is out; we are watching.');
    await panel.getByRole('button', { name: 'Post update' }).click();
    await expect.poll(() => panel.locator('[data-testid="public-history"] li').count()).toBe(2);
    await expect(panel.locator('[data-testid="public-history"] li').first().textContent()).resolves.toContain('monitoring');
    const status = (await server.api('GET', '/status/public.json', undefined, { token: null })).body;
    expect(status.active_incidents[0].updates[0].message).toBe('A fix is out; we are watching.');
    expect(status.services[0].status).toBe('major_outage');

    // The component's status is the responder's choice, shown in the preview before it is posted.
    await panel.getByLabel(/^Chat API \(now major outage\)/).selectOption('degraded_performance');
    await expect(panel.getByTestId('status-preview').textContent()).resolves.toContain('Chat API major outage → degraded performance');
    await panel.getByLabel('Message for the public').fill('Most requests succeed again.');
    await shot('responder-status-components-1280');
    await panel.getByRole('button', { name: 'Post update' }).click();
    await expect.poll(() => panel.locator('[data-testid="public-history"] li').count()).toBe(3);
    await expect(panel.locator('[data-testid="public-history"] li').first().textContent()).resolves.toContain('chat-api: degraded performance');
    const chosen = (await server.api('GET', '/status/public.json', undefined, { token: null })).body;
    expect(chosen.services[0].status).toBe('degraded_performance');
  });

  it('resolves: the header shows resolution, root cause, duration, TTA and TTR, and no recovery plan is offered', async () => {
    await expect(page.locator('[data-panel="recovery"] button', { hasText: 'Create recovery plan' }).count()).resolves.toBe(1);
    now = new Date(now.getTime() + 30 * MINUTE);
    await page.clock.setFixedTime(now);
    await page.locator('[data-transition="resolved"]').click();
    await page.getByLabel('Resolution').fill('rolled back the deploy');
    await page.getByLabel('Root cause (optional)').fill('a tokenizer change broke long prompts');
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.getByTestId('resolution-facts').waitFor();
    const facts = await page.getByTestId('resolution-facts').textContent();
    expect(facts).toContain('rolled back the deploy');
    expect(facts).toContain('a tokenizer change broke long prompts');
    await expect(page.getByTestId('ttr').textContent()).resolves.toMatch(/^3\dm$/);
    await expect(page.getByTestId('tta').textContent()).resolves.toMatch(/^3\dm$/);
    await expect(page.locator('[data-panel="recovery"]').count()).resolves.toBe(0);
    await shot('responder-resolved-header-1280');
  });

  it('edits every postmortem section full width, with action items inline', async () => {
    const panel = page.locator('[data-panel="postmortem"]');
    await panel.getByRole('button', { name: 'Start postmortem' }).click();
    await panel.getByLabel('Summary').waitFor();
    const width = (await panel.boundingBox())!.width;
    expect(width).toBeGreaterThan(1000);
    await expect(panel.getByLabel('Root cause').inputValue()).resolves.toBe('a tokenizer change broke long prompts');
    await panel.getByLabel('Summary').fill('Chat answered 500 for 30 minutes after a deploy.');
    await panel.getByLabel('Impact').fill('12% of chat requests failed');
    await panel.getByLabel('What went well').fill('paging reached bob on retry');
    await panel.getByLabel('What went badly').fill('no canary');
    await panel.getByLabel('Lessons learned').fill('canary tokenizer changes');
    await panel.getByRole('button', { name: 'Save postmortem' }).click();
    await panel.getByText('Saved.').waitFor();
    const pm = (await server.api('GET', `/api/v1/incidents/${ids.critical}/postmortem`)).body;
    expect(pm).toMatchObject({ summary: 'Chat answered 500 for 30 minutes after a deploy.', what_went_well: 'paging reached bob on retry', what_went_badly: 'no canary' });
    const incident = (await server.api('GET', `/api/v1/incidents/${ids.critical}`)).body;
    expect(incident).toMatchObject({ lessons_learned: 'canary tokenizer changes', impact: { description: '12% of chat requests failed' } });

    await panel.getByRole('button', { name: 'Add action item' }).click();
    await panel.locator('#ai-title-error').waitFor();
    await panel.getByLabel('New action item').fill('Add a canary for tokenizer changes');
    await panel.getByLabel('Owner').fill('alice');
    await panel.getByLabel('Due date').fill('2026-12-31');
    await panel.getByRole('button', { name: 'Add action item' }).click();
    const row = panel.getByTestId('action-items-table').locator('tr', { hasText: 'Add a canary' });
    await row.waitFor();
    await row.getByLabel(/Status of/).selectOption('in_progress');
    await expect.poll(async () => (await server.api('GET', `/api/v1/action-items?incident=${ids.critical}`)).body[0].status).toBe('in_progress');
    await shot('responder-postmortem-1280');
  });

  it('shows every on-call setting on screen: escalation policies, rota with overrides, contact methods, routing rules with the tester, status pages, secrets', async () => {
    await page.goto(`${server.url}/settings/escalation`);
    await page.getByTestId('policies-table').getByText('on call in primary — escalate after 5 min').waitFor();
    await page.getByLabel('Id').fill('backup-policy');
    await page.getByLabel('Team').selectOption('llm-platform');
    await page.getByLabel('Levels, one per line').fill('soon: user bob');
    await page.getByRole('button', { name: 'Create policy' }).click();
    await page.locator('#policy-levels-error').waitFor();
    await page.getByLabel('Levels, one per line').fill('3: user bob\n10: schedule primary');
    await page.getByRole('button', { name: 'Create policy' }).click();
    // One policy per team: the server's 409 is shown next to the field it names (or above the form).
    await expect.poll(() => page.locator('.card-form .problem, .card-form .field-error').first().textContent()).toContain('llm-platform');
    consumeExpectedErrors(watch, /status of 409/);

    await page.goto(`${server.url}/settings/rota`);
    const rota = page.getByTestId('rota-primary');
    await rota.locator('[data-user="alice"]').first().waitFor();
    const tomorrow = new Date(Date.now() + 86_400_000);
    const local = (d: Date, hour: number) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00`;
    await page.getByLabel('Who covers').selectOption('bob');
    await page.getByLabel('From').fill(local(tomorrow, 10));
    await page.getByLabel('Until').fill(local(tomorrow, 14));
    await page.getByRole('button', { name: 'Add override' }).click();
    await page.getByTestId('overrides').getByText('bob').waitFor();
    await rota.locator('.rota-shift.override[data-user="bob"]').waitFor();
    await expect(rota.locator('.rota-shift.override[data-user="bob"]').textContent()).resolves.toContain('10:00–14:00');
    await shot('settings-rota-1280');

    await page.goto(`${server.url}/settings/contact-methods`);
    const carol = page.getByTestId('contact-methods-table').locator('tr', { hasText: 'carol' });
    await expect(carol.textContent()).resolves.toContain('cannot be paged');
    await page.getByLabel('Person', { exact: true }).selectOption('carol');
    await page.getByLabel('Channel', { exact: true }).selectOption('alice-hook');
    await page.getByRole('button', { name: 'Add contact method' }).click();
    await expect.poll(() => carol.textContent()).toContain('alice-hook');

    await page.goto(`${server.url}/settings/routing`);
    await page.getByTestId('routing-yaml').waitFor();
    await page.getByLabel('Service').fill('chat-api');
    await page.getByRole('button', { name: 'Test' }).click();
    await page.getByTestId('rule-decision').waitFor();
    const decision = (await server.api('POST', '/api/v1/routing-rules/test', { service: 'chat-api', severity: 'critical', labels: {} })).body;
    await expect(page.getByTestId('rule-decision').textContent()).resolves.toContain(decision.rule);
    await shot('settings-routing-tester-1280');

    await page.goto(`${server.url}/settings/status-pages`);
    await page.getByTestId('status-pages-table').getByText('Acme AI status').waitFor();
    await page.goto(`${server.url}/settings/secrets`);
    await page.getByTestId('secrets-table').waitFor();
  });

  it("edits a service in place, with the server's rules at each field", async () => {
    await page.goto(`${server.url}/settings/services`);
    const row = page.getByTestId('services-table').locator('tr', { hasText: 'chat-api' });
    await row.getByRole('button', { name: 'Edit service chat-api' }).click();
    const form = page.getByRole('form', { name: 'Edit chat-api' });
    await form.getByLabel('RTO in minutes (optional)').fill('soon');
    await form.getByLabel('Tier').selectOption('2');
    await form.getByRole('button', { name: 'Save service' }).click();
    await expect(form.locator('#edit-service-rto-minutes-error').textContent()).resolves.toContain('A whole number');
    await form.getByLabel('RTO in minutes (optional)').fill('45');
    await form.getByLabel('Description (optional)').fill('The chat completion API');
    await shot('settings-service-edit-1280');
    await form.getByRole('button', { name: 'Save service' }).click();
    await expect.poll(() => row.textContent()).toContain('45 min');
    const service = (await server.api('GET', '/api/v1/services/chat-api')).body;
    expect(service).toMatchObject({ tier: 2, rto_minutes: 45, description: 'The chat completion API', version: 2 });
  });

  it("shows each integration's last event, event counts and the URLs senders post to", async () => {
    const created = (await server.api('POST', '/api/v1/integrations', { name: 'Alertmanager prod', service: 'chat-api' })).body;
    const silent = (await server.api('POST', '/api/v1/integrations', { name: 'Grafana', service: 'chat-api' })).body;
    for (let i = 0; i < 3; i++) {
      const sent = await fetch(new URL('/v2/enqueue', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ routing_key: created.routing_key, event_action: 'trigger', dedup_key: 'disk-1', payload: { summary: 'disk almost full', source: 'node-7', severity: 'warning' } }),
      });
      expect(sent.status).toBe(202);
    }
    await page.goto(`${server.url}/settings/integrations`);
    const row = page.getByTestId('integrations-table').locator('tr', { hasText: 'Alertmanager prod' });
    await expect.poll(() => row.getByTestId('event-counts').textContent()).toBe('3 events, 1 alerts (1 open)');
    await expect(row.getByTestId('last-event').getAttribute('datetime')).resolves.toBeTruthy();
    const quiet = page.getByTestId('integrations-table').locator('tr', { hasText: 'Grafana' });
    await expect(quiet.textContent()).resolves.toContain('never');
    await expect(page.getByTestId('integration-endpoints').textContent()).resolves.toContain(`${server.url}/v2/enqueue`);
    await expect(page.getByTestId('integration-endpoints').textContent()).resolves.toContain(`${server.url}/api/v1/integrations/alertmanager`);
    await shot('settings-integrations-activity-1280');
    expect(silent.id).toBeTruthy();
  });

  it('a browser nobody signed in to asks for a session without a failed request', async () => {
    const fresh = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
    const freshWatch = watchConsole(fresh);
    const visitor = await fresh.newPage();
    const probes: number[] = [];
    visitor.on('response', (response) => {
      if (response.url().includes('/api/v1/sessions/current')) probes.push(response.status());
    });
    await visitor.goto(server.url);
    await visitor.getByLabel('E-mail').waitFor();
    expect(probes).toEqual([200]);
    await fresh.close();
    expect(freshWatch.errors).toEqual([]);
  });

  it('on a phone, puts the panels a responder reaches for before the whole timeline', async () => {
    const phone = await chromium.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const phoneWatch = watchConsole(phone);
    const small = await phone.newPage();
    await signInWith(small, server.url, ADMIN_TOKEN);
    await small.goto(`${server.url}/incidents/${ids.mediumOpen}`);
    await small.locator('[data-panel="responders"]').waitFor();
    await small.getByRole('heading', { name: 'Timeline' }).waitFor();
    const respondersY = (await small.locator('[data-panel="responders"]').boundingBox())!.y;
    const timelineY = (await small.locator('.panel.timeline').boundingBox())!.y;
    expect(respondersY).toBeLessThan(timelineY);
    await expect(small.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).resolves.toBeLessThanOrEqual(0);
    await shot('responder-incident-375', small);
    await phone.close();
    expect(phoneWatch.errors).toEqual([]);
  });

  it('kept the browser console free of errors throughout', () => {
    // The only errors allowed are the 400 of the schema-checked forms' server round trips, if any were made.
    consumeExpectedErrors(watch, /status of 400/);
    expect(watch.errors).toEqual([]);
  });
});
