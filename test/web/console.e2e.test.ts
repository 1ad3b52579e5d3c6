import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { ALLOWED_TRANSITIONS } from '../../src/incidents/index.ts';
import { buildConsoleOnce, launchChromium, openTokenSignIn, screenshot, signIn as signInWith, SCREENSHOT_DIR, consumeExpectedErrors, watchConsole, type LaunchedBrowser } from './support.ts';

// The browser flow needs only one database; the HTTP behaviour is covered on both in console-server.test.ts.
describe('web console in headless Chromium [sqlite]', () => {
  let database: TestDatabase;
  let server: TestServer;
  let chromium: LaunchedBrowser;
  let desktop: BrowserContext;
  let page: Page;
  let incidentId: string;
  let consoleWatch: ReturnType<typeof watchConsole>;

  const shot = (name: string, target: Page = page) => screenshot(target, name);
  const signIn = (target: Page, token: string) => signInWith(target, server.url, token);

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    database = await createTestDatabase('sqlite');
    server = await startTestServer('sqlite', { database });
    await server.api('POST', '/api/v1/teams', { id: 'llm-platform', name: 'LLM platform', members: [{ user: 'alice', role: 'lead' }] });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', name: 'Chat API', owner_team: 'llm-platform', tier: 1, rto_minutes: 30 });
    chromium = await launchChromium();
    desktop = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
    consoleWatch = watchConsole(desktop);
    page = await desktop.newPage();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await database?.drop();
  });

  it('signs in with a token, rejecting a wrong one next to the field, and shows the role', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: /Firebreak/ }).waitFor();
    await shot('sign-in-1280');
    await openTokenSignIn(page);
    await page.getByLabel('API token').fill('short');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await expect(page.locator('#token-error').textContent()).resolves.toContain('whole API token');
    await page.getByLabel('API token').fill('fbk_this_token_does_not_exist_000');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await expect(page.locator('#token-error').textContent()).resolves.toContain('invalid or revoked token');
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await expect(page.getByTestId('role').textContent()).resolves.toBe('admin');
    await page.waitForURL(`${server.url}/incidents`);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    await expect(page.evaluate('sessionStorage.getItem("firebreak.token")')).resolves.toBe(ADMIN_TOKEN);
    // The unknown token was refused with a 401 from /api/v1/me (shown next to the field above), which the browser
    // logs; the console watch already allows 401s of that session probe, so only other errors count.
    consumeExpectedErrors(consoleWatch, /status of 401/);
  });

  it('shows an incident opened by an alert on the real ingest endpoint live, without reloading', async () => {
    await page.getByRole('heading', { name: 'Incidents' }).waitFor();
    await page.evaluate('window.__sameDocument = true');
    const integration = await server.api('POST', '/api/v1/integrations', { name: 'chat-api prometheus', service: 'chat-api' });
    expect(integration.status).toBe(201);
    // The stream has to be open before the alert arrives for the push to be the proof.
    await page.locator('header[data-stream="open"]').waitFor();
    const enqueued = await fetch(`${server.url}/v2/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        routing_key: integration.body.routing_key,
        event_action: 'trigger',
        payload: { summary: '429 storm on chat-api', source: 'prometheus', severity: 'critical', custom_details: { rate_limited_share: 0.31 } },
      }),
    });
    expect(enqueued.status).toBe(202);
    let opened: string | null = null;
    await expect.poll(async () => (opened = (await server.api('GET', '/api/v1/alerts?service=chat-api')).body.items[0]?.incident_id ?? null)).not.toBe(null);
    incidentId = opened!;
    const row = page.locator(`[data-incident-id="${incidentId}"]`);
    await row.waitFor({ timeout: 60_000 });
    await expect(row.locator('.severity').textContent()).resolves.toContain('critical');
    await expect(row.textContent()).resolves.toContain('not acknowledged');
    await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);
    await server.api('POST', '/api/v1/incidents', { title: 'Slow embeddings', severity: 'low' });
    await server.api('POST', '/api/v1/incidents', { title: 'Token cost spike', severity: 'medium', team: 'llm-platform' });
    await page.locator('.incident-row').nth(2).waitFor();
    await shot('incident-list-1280');
  });

  it('filters the list by severity, team and search', async () => {
    await page.getByLabel('Severity').selectOption('critical');
    await page.waitForURL(/severity=critical/);
    await expect.poll(() => page.locator('.incident-row').count()).toBe(1);
    await page.getByLabel('Severity').selectOption('');
    await page.getByLabel('Team').selectOption('llm-platform');
    await expect.poll(() => page.locator('.incident-row').count()).toBe(2);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Search').fill('embeddings');
    await expect.poll(() => page.locator('.incident-row').count()).toBe(1);
    await expect(page.locator('.incident-row').textContent()).resolves.toContain('Slow embeddings');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page.locator('.incident-row').count()).toBe(3);
  });

  it('moves through the list with j/k, shows help with ?, and acknowledges with one click', async () => {
    await page.locator('body').click({ position: { x: 5, y: 400 } });
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await shot('shortcuts-1280');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: `Acknowledge ${incidentId}` }).click();
    const row = page.locator(`[data-incident-id="${incidentId}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('investigating');
    await expect(row.textContent()).resolves.toContain('ack by bootstrap-admin');
    const stored = await server.api('GET', `/api/v1/incidents/${incidentId}`);
    expect(stored.body.acknowledged_by).toBe('bootstrap-admin');
  });

  it('opens the incident page and moves the incident through its lifecycle, offering only allowed moves', async () => {
    await page.locator(`[data-incident-id="${incidentId}"] a.incident-link`).click();
    await page.waitForURL(`**/incidents/${incidentId}`);
    await page.getByRole('heading', { name: /429 storm on chat-api/ }).waitFor();
    await expect(page.getByTestId('owner-team').textContent()).resolves.toBe('llm-platform');
    const offered = async () => page.locator('[data-transition]').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-transition')));
    await expect(offered()).resolves.toEqual([...ALLOWED_TRANSITIONS.investigating]);

    for (const [to, note] of [
      ['identified', 'provider quota exhausted'],
      ['containing', ''],
      ['recovering', ''],
    ] as const) {
      if (note) await page.getByLabel('Note for the move (optional)').fill(note);
      await page.locator(`[data-transition="${to}"]`).click();
      await expect.poll(() => page.locator('.incident-page .status').textContent()).toBe(to);
      await expect(offered()).resolves.toEqual([...ALLOWED_TRANSITIONS[to]]);
    }
    await shot('incident-page-1280');

    await page.locator('[data-transition="resolved"]').click();
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await expect(page.locator('#resolution-error').textContent()).resolves.toContain('how it was resolved');
    await page.getByLabel('Resolution').fill('raised the provider quota');
    await page.getByLabel('Root cause (optional)').fill('quota not raised for the launch');
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await expect.poll(() => page.locator('.incident-page .status').textContent()).toBe('resolved');
    await page.locator('[data-transition="post_incident"]').click();
    await expect.poll(() => page.locator('.incident-page .status').textContent()).toBe('post incident');
    await expect(offered()).resolves.toEqual([]);
    const stored = await server.api('GET', `/api/v1/incidents/${incidentId}`);
    expect(stored.body).toMatchObject({ status: 'post_incident', resolution: 'raised the provider quota', root_cause: 'quota not raised for the launch' });
  });

  it('adds notes, shows other people\'s timeline entries live, and filters and orders the timeline', async () => {
    await page.getByLabel('Note', { exact: true }).fill('customers notified on the status page');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('.timeline-entry.kind-note', { hasText: 'customers notified' }).waitFor();
    await server.api('POST', `/api/v1/incidents/${incidentId}/notes`, { text: 'written by someone else over the API' });
    await page.locator('.timeline-entry.kind-note', { hasText: 'someone else' }).waitFor({ timeout: 60_000 });
    const firstKind = () => page.locator('.timeline-entry').first().getAttribute('data-kind');
    await expect(firstKind()).resolves.toBe('note');
    await page.getByRole('button', { name: 'Newest first' }).click();
    await expect(firstKind()).resolves.toBe('created');
    const groups = await page.locator('.timeline-filters input[data-group]').evaluateAll((inputs) => inputs.map((i) => i.getAttribute('data-group')));
    for (const group of groups) if (group !== 'status') await page.locator(`.timeline-filters input[data-group="${group}"]`).uncheck();
    const kinds = await page.locator('.timeline-entry').evaluateAll((entries) => entries.map((e) => e.getAttribute('data-kind')));
    expect(kinds.every((k) => ['created', 'acknowledged', 'status_changed', 'resolved', 'assigned', 'field_updated'].includes(k!))).toBe(true);
    expect(kinds).not.toContain('note');
    expect(kinds.filter((k) => k === 'status_changed').length).toBeGreaterThanOrEqual(5);
    for (const group of groups) await page.locator(`.timeline-filters input[data-group="${group}"]`).check();
    // Absolute times carry their zone, under a heading per day.
    await expect(page.locator('.timeline-day-heading').first().textContent()).resolves.toMatch(/\d{4}/);
    await expect(page.locator('.timeline-entry time').first().textContent()).resolves.toMatch(/\d{2}:\d{2}:\d{2}\s\S+/);
  });

  it('shows the server\'s problem next to the field it names', async () => {
    await page.getByLabel('Owner team').fill('no-such-team');
    await page.getByRole('button', { name: 'Save details' }).click();
    await expect(page.locator('#detail-team-error').textContent()).resolves.toContain('team no-such-team does not exist');
    await page.getByLabel('Owner team').fill('Not A Slug');
    await page.getByRole('button', { name: 'Save details' }).click();
    await expect(page.locator('#detail-team-error').textContent()).resolves.toContain('lower-case');
    await page.getByLabel('Owner team').fill('llm-platform');
  });

  it('hides the panel slots of capabilities that are not installed', async () => {
    // The field errors above were the server's 400/422 answers, logged by the browser on purpose.
    expect(consumeExpectedErrors(consoleWatch, /status of 4(00|22)/)).toBeGreaterThan(0);
    await expect(page.locator('.capability-slot').count()).resolves.toBe(0);
  });

  it('charts MTTA, MTTR and incident counts on the dashboard', async () => {
    await page.getByRole('link', { name: 'Dashboards' }).click();
    await page.getByTestId('metric-tiles').waitFor();
    await expect.poll(() => page.evaluate('[...document.querySelectorAll(".chart-box canvas")].filter(c => c.width > 0).length')).toBe(2);
    const tiles = await page.getByTestId('metric-tiles').textContent();
    expect(tiles).toContain('Incidents3');
    expect(tiles).toContain('Resolved1');
    await shot('dashboards-1280');
  });

  it('manages services, teams and tokens in settings, showing a new token once', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('services-table').getByRole('rowheader', { name: 'chat-api' }).waitFor();
    await page.getByLabel('Id').fill('Bad Id');
    await page.getByRole('button', { name: 'Create service' }).click();
    await page.locator('#service-id-error').waitFor();
    await page.getByLabel('Id').fill('chat-api');
    await page.getByRole('button', { name: 'Create service' }).click();
    // The field's earlier message ("Bad Id") stays until the server's 409 replaces it, so wait for the new one.
    await expect.poll(() => page.locator('.problem, #service-id-error').first().textContent()).toMatch(/chat-api/);
    await page.getByLabel('Id').fill('embeddings');
    await page.getByLabel('Owner team').selectOption('llm-platform');
    await page.getByRole('button', { name: 'Create service' }).click();
    await page.getByTestId('services-table').getByRole('rowheader', { name: 'embeddings' }).waitFor();
    await shot('settings-services-1280');
    expect(consumeExpectedErrors(consoleWatch, /status of 409/)).toBe(1);

    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('Name').fill('ci-bot');
    await page.getByLabel('Role').selectOption('responder');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.getByTestId('new-token').locator('code').textContent();
    expect(secret).toMatch(/^fbk_/);
    expect((await server.api('GET', '/api/v1/me', undefined, { token: secret })).body.role).toBe('responder');
    await shot('settings-tokens-1280');
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    await expect(page.getByText(secret!).count()).resolves.toBe(0);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke token ci-bot' }).click();
    await page.getByTestId('tokens-table').getByText(/revoked/).waitFor();
    expect((await server.api('GET', '/api/v1/me', undefined, { token: secret })).status).toBe(401);
  });

  it('works at phone width (375 px)', async () => {
    const phone = await chromium.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    const phoneWatch = watchConsole(phone);
    await signIn(small, ADMIN_TOKEN);
    await small.locator('.view-tabs [data-view="all"]').click();
    await small.locator('.incident-row').nth(2).waitFor();
    const overflow = await small.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('incident-list-375', small);
    await small.locator(`[data-incident-id="${incidentId}"] a.incident-link`).click();
    await small.getByRole('heading', { name: 'Timeline' }).waitFor();
    await expect(small.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).resolves.toBeLessThanOrEqual(0);
    await shot('incident-page-375', small);
    await small.getByRole('link', { name: 'Dashboards' }).click();
    await small.getByTestId('metric-tiles').waitFor();
    await expect.poll(() => small.evaluate('[...document.querySelectorAll(".chart-box canvas")].filter(c => c.width > 0).length')).toBe(2);
    await shot('dashboards-375', small);
    await phone.close();
    expect(phoneWatch.errors).toEqual([]);
  });

  it('acknowledges with `a` and moves between incidents with j/k on the incident page', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Incidents' }).click();
    await page.locator('.view-tabs [data-view="all"]').click();
    await page.locator('.incident-row').nth(2).waitFor();
    const ids = await page.locator('.incident-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-incident-id')));
    await page.locator(`[data-incident-id="${ids[0]}"] a.incident-link`).click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    await page.locator('body').press('a');
    await expect.poll(() => page.locator('.incident-page .status').textContent()).toBe('investigating');
    expect((await server.api('GET', `/api/v1/incidents/${ids[0]}`)).body.acknowledged_by).toBe('bootstrap-admin');
    await page.locator('body').press('j');
    await page.waitForURL(`**/incidents/${ids[1]}`);
    await page.locator('body').press('k');
    await page.waitForURL(`**/incidents/${ids[0]}`);
    await page.locator('body').press('g');
    await page.locator('body').press('d');
    await page.waitForURL('**/dashboards');
    await page.locator('body').press('g');
    await page.locator('body').press('i');
    await page.waitForURL('**/incidents');
    await page.locator('.incident-row').nth(1).waitFor();
    // The open view is in urgency order: the unacknowledged incident comes before the one just acknowledged.
    const open = await page.locator('.incident-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-incident-id')));
    expect(open).toEqual([ids[1], ids[0]]);
    await page.locator('body').press('Enter');
    await page.waitForURL(`**/incidents/${ids[1]}`);
  });

  it('returns to sign-in when the token is revoked', async () => {
    const context = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
    const otherWatch = watchConsole(context);
    const other = await context.newPage();
    const token = await server.tokenFor('viewer');
    await signIn(other, token);
    await expect(other.getByTestId('role').textContent()).resolves.toBe('viewer');
    // A viewer reads everything but is offered no changes.
    await other.locator('.view-tabs [data-view="all"]').click();
    await other.locator(`[data-incident-id="${incidentId}"] a.incident-link`).click();
    await other.getByRole('heading', { name: 'Timeline' }).waitFor();
    await expect(other.locator('.lifecycle, .ack, form').count()).resolves.toBe(0);
    const me = await server.api('GET', '/api/v1/me', undefined, { token });
    await server.api('DELETE', `/api/v1/tokens/${me.body.token_id}`);
    // Whichever request meets the 401 first (the stream reconnecting, a panel refetching, or this click)
    // returns the page to sign-in, so the link may already be gone: the click ends when the sign-in shows.
    const signInShown = other.getByText('Use an API token instead').waitFor();
    await Promise.race([other.getByRole('link', { name: 'Dashboards' }).click().catch(() => signInShown), signInShown]);
    await signInShown;
    await expect(other.locator('.notice').textContent()).resolves.toContain('invalid or revoked token');
    await expect(other.evaluate('sessionStorage.getItem("firebreak.token")')).resolves.toBe(null);
    await context.close();
    // Only the refusals of the revoked token (401) were logged.
    consumeExpectedErrors(otherWatch, /status of 401/);
    expect(otherWatch.errors).toEqual([]);
  });

  it('kept the browser console free of errors through every screen and action above', () => {
    expect(consoleWatch.errors).toEqual([]);
  });

  it('shows a banner when the connection is lost and catches up after reconnecting', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Incidents' }).click();
    await page.locator('.incident-row').nth(1).waitFor();
    const port = Number(new URL(server.url).port);
    await server.close();
    await page.getByTestId('connection-banner').waitFor({ timeout: 60_000 });
    await shot('connection-lost-1280');
    server = await startTestServer('sqlite', { database, config: { port } });
    // Created while the browser is still disconnected: it must appear once the stream resyncs.
    const missed = await server.api('POST', '/api/v1/incidents', { title: 'created during the outage', severity: 'high' });
    await page.getByTestId('connection-banner').waitFor({ state: 'detached' });
    await page.locator(`[data-incident-id="${missed.body.id}"]`).waitFor({ timeout: 60_000 });
  });
});
