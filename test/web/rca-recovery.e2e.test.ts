import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { buildConsoleOnce, launchChromium, screenshot, signIn as signInWith, SCREENSHOT_DIR, type LaunchedBrowser } from './support.ts';

interface PlanStep {
  id: string;
  title: string;
  depends_on: string[];
  status: string;
}

// Recovery, root-cause and fault-tree screens in a real browser; one database is enough for the UI.
describe('web console: recovery, root cause and fault trees in headless Chromium [sqlite]', () => {
  let database: TestDatabase;
  let server: TestServer;
  let chromium: LaunchedBrowser;
  let desktop: BrowserContext;
  let page: Page;
  let incidentId: string;
  let analysisUrl: string;

  const shot = (name: string, target: Page = page) => screenshot(target, name);
  const noOverflow = (target: Page) => target.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');

  const signIn = (target: Page) => signInWith(target, server.url, ADMIN_TOKEN);

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    database = await createTestDatabase('sqlite');
    server = await startTestServer('sqlite', { database });
    await server.api('POST', '/api/v1/teams', { id: 'llm-platform', name: 'LLM platform', members: [{ user: 'alice', role: 'lead' }] });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', name: 'Chat API', owner_team: 'llm-platform', tier: 1, rto_minutes: 30 });
    const created = await server.api('POST', '/api/v1/incidents', { title: 'GPU OOM on chat-api', severity: 'critical', services: ['chat-api'] });
    incidentId = created.body.id;
    const plan = await server.api('POST', `/api/v1/incidents/${incidentId}/recovery`, {
      criteria: [{ id: 'lead-ok', sign_off: { question: 'chat works end to end' } }],
    });
    expect(plan.status).toBe(201);
    chromium = await launchChromium();
    desktop = await chromium.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await desktop.newPage();
    await signIn(page);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await database?.drop();
  });

  it('shows the recovery plan with a ticking RTO clock and starts and completes a step', async () => {
    await page.goto(`${server.url}/incidents/${incidentId}`);
    const clock = page.getByTestId('rto-clock');
    await clock.waitFor();
    await expect(clock.textContent()).resolves.toMatch(/of 30 min RTO \(from chat-api\)/);
    const first = await clock.locator('strong').first().textContent();
    await expect.poll(() => clock.locator('strong').first().textContent(), { timeout: 60_000 }).not.toBe(first);

    const steps = (await server.api('GET', `/api/v1/incidents/${incidentId}/recovery`)).body.steps as PlanStep[];
    const ready = steps.find((s) => s.depends_on.length === 0)!;
    const item = page.locator(`[data-step="${ready.id}"]`);
    await page.getByRole('button', { name: `Start step ${ready.title}` }).click();
    await expect.poll(() => item.getAttribute('data-status')).toBe('in_progress');
    await page.getByRole('button', { name: `Complete step ${ready.title}` }).click();
    await expect.poll(() => item.getAttribute('data-status')).toBe('done');
    const stored = (await server.api('GET', `/api/v1/incidents/${incidentId}/recovery`)).body.steps as PlanStep[];
    expect(stored.find((s) => s.id === ready.id)!.status).toBe('done');

    // A step whose dependencies are open is refused by the server, and the refusal is shown.
    const open = new Set(stored.filter((s) => s.status !== 'done').map((s) => s.id));
    const blocked = stored.find((s) => s.depends_on.some((d) => open.has(d)));
    if (blocked) {
      await page.getByRole('button', { name: `Complete step ${blocked.title}` }).click();
      await page.locator('.recovery .problem').waitFor();
    }
    await page.getByRole('button', { name: 'Verify now' }).click();
    await expect(page.getByTestId('verification-results').textContent()).resolves.toContain('lead-ok: failed');
    await page.getByRole('button', { name: 'Sign off lead-ok' }).click();
    await page.getByRole('button', { name: 'Verify now' }).click();
    await expect.poll(() => page.getByTestId('verification-results').textContent()).toContain('lead-ok: passed');
    await shot('incident-recovery-1280');
  });

  it('creates a 5-whys analysis, adds a why with timeline evidence, and saves it at its version', async () => {
    await page.locator('.analyses summary', { hasText: 'Start an analysis' }).click();
    await page.getByLabel('Title (optional)').fill('Why the GPUs ran out of memory');
    await page.getByRole('button', { name: 'Create analysis' }).click();
    await page.waitForURL('**/analyses/**');
    analysisUrl = page.url();
    await page.getByRole('button', { name: 'Add a first why', exact: true }).click();
    await page.getByLabel('Why 1', { exact: true }).fill('Why did the model server run out of GPU memory?');
    await page.locator('#why-' + (await page.locator('.why').first().getAttribute('data-why')) + '-evidence').selectOption({ index: 1 });
    await page.getByRole('button', { name: 'Add evidence' }).click();
    await page.locator('.why .evidence li').first().waitFor();
    // Choosing a branch whose answer is empty is caught before sending.
    await page.getByLabel('Root cause branch').check();
    await page.getByRole('button', { name: /^Save/ }).click();
    await expect(page.locator('.why .field-error').textContent()).resolves.toContain('needs an answer');
    await page.getByLabel('Answer 1', { exact: true }).fill('the KV cache grew with 128k-token contexts');
    await page.getByRole('button', { name: 'Add recommendation' }).click();
    await page.getByLabel('Recommendation 1', { exact: true }).fill('cap context length per tenant');
    await page.getByRole('button', { name: /^Save/ }).click();
    await expect.poll(() => page.getByTestId('analysis-root-cause').textContent()).toContain('KV cache grew');
    const id = analysisUrl.split('/').pop()!;
    const stored = await server.api('GET', `/api/v1/analyses/${id}`);
    expect(stored.body.version).toBe(2);
    expect(stored.body.body.whys[0].evidence[0]).toMatchObject({ kind: 'timeline_entry' });
    expect(stored.body.body.recommendations[0].text).toBe('cap context length per tenant');

    // The recommendation becomes a tracked action item.
    await page.getByRole('button', { name: 'Make action item' }).click();
    await page.getByLabel('Owner').fill('alice');
    await page.getByLabel('Due date').fill('2020-01-01');
    await page.getByRole('button', { name: 'Create action item' }).click();
    await page.locator('.entry-list', { hasText: 'Action item' }).getByRole('link').waitFor();
    await shot('analysis-five-whys-1280');
  });

  it('draws a fishbone from the server, adds a cause and votes for it', async () => {
    const created = await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'fishbone', title: 'OOM fishbone' });
    await page.goto(`${server.url}/analyses/${created.body.id}`);
    await page.locator('[data-testid=fishbone-diagram] svg').waitFor();
    await page.getByLabel('New technology cause').fill('no KV-cache budget per request');
    await page.locator('.fishbone-category', { hasText: 'Technology' }).getByRole('button', { name: 'Add cause' }).click();
    await page.getByRole('button', { name: /^Save/ }).click();
    await page.getByRole('button', { name: 'Vote for no KV-cache budget per request' }).click();
    await page.locator('[data-cause]', { hasText: '1 votes' }).waitFor();
    await expect(page.locator('[data-testid=fishbone-diagram] svg').innerHTML()).resolves.toContain('KV-cache budget');
    await shot('analysis-fishbone-1280');
  });

  it('analyses an example fault tree, lists its cut sets and highlights the chosen one on the tree', async () => {
    await page.getByRole('link', { name: 'Fault trees' }).click();
    await page.getByRole('button', { name: 'Analyse' }).click();
    await expect(page.locator('#fta-source-error').textContent()).resolves.toContain('paste a fault tree');
    await page.getByLabel('Fault tree (MEF XML or JSON)').fill('{"not": "a tree"');
    await page.getByRole('button', { name: 'Analyse' }).click();
    await expect(page.locator('#fta-source-error').textContent()).resolves.toContain('not valid JSON');
    await page.getByLabel('Example').selectOption({ index: 1 });
    await page.getByRole('button', { name: 'Analyse' }).click();
    const cutSets = page.getByTestId('cut-sets').locator('li');
    await cutSets.first().waitFor();
    expect(await cutSets.count()).toBeGreaterThan(1);
    await page.locator('.fta-diagram svg').waitFor();
    await cutSets.nth(1).locator('button').click();
    const second = await cutSets.nth(1).locator('button').textContent();
    const firstEvent = /\{ ([^,} ]+)/.exec(second!)![1]!;
    await expect.poll(() => page.getByTestId('fta-diagram').getAttribute('data-highlight')).toContain(firstEvent);
    await expect.poll(() => page.evaluate('document.querySelector("[data-testid=importance-chart]").width > 0')).toBe(true);
    await shot('fault-trees-1280');
  });

  it('starts the postmortem, exports it as Markdown, and lists overdue action items', async () => {
    await page.goto(`${server.url}/incidents/${incidentId}`);
    await page.getByRole('button', { name: 'Start postmortem' }).click();
    await expect(page.getByTestId('postmortem-status').textContent()).resolves.toContain('draft');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Markdown' }).click()]);
    const text = fs.readFileSync((await download.path())!, 'utf8');
    expect(text).toContain('GPU OOM on chat-api');
    await shot('incident-postmortem-1280');
    await page.getByRole('link', { name: 'Action items' }).first().click();
    await page.getByLabel('Overdue only').check();
    await page.waitForURL(/overdue=true/);
    await page.getByTestId('action-items-table').getByText('cap context length per tenant').waitFor();
    await shot('action-items-1280');
  });

  it('charts LLM stats recorded over the real ingest endpoint on the dashboard', async () => {
    const now = Date.now();
    const requests = Array.from({ length: 40 }, (_, i) => ({
      service: 'chat-api',
      provider: 'openai',
      model: 'gpt-4o',
      started_at: new Date(now - (40 - i) * 60_000).toISOString(),
      latency_ms: 400 + i * 10,
      ttft_ms: 120 + i,
      status: i % 10 === 0 ? 'server_error' : 'ok',
      input_tokens: 500,
      output_tokens: 200,
      cost_usd: 0.01,
    }));
    const integration = await server.api('POST', '/api/v1/integrations', { name: 'chat-api telemetry', service: 'chat-api' });
    const sent = await server.api('POST', '/api/v1/llm/requests', { requests }, { token: integration.body.routing_key });
    expect(sent.body.accepted).toBe(40);
    await page.getByRole('link', { name: 'Dashboards' }).click();
    const stats = page.getByTestId('llm-stats');
    await stats.waitFor();
    await expect.poll(() => stats.evaluate((el) => [...el.querySelectorAll('canvas')].filter((c) => c.width > 0).length)).toBe(4);
    await expect(stats.textContent()).resolves.toContain('40 requests, cost $0.40');
    await shot('dashboards-llm-1280');
  });

  it('creates an integration showing its key once, shows the alert it sends, and approves a plan step', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('button', { name: 'Create integration' }).click();
    await expect(page.locator('#integration-name-error').textContent()).resolves.toContain('Required');
    await page.getByLabel('Name').fill('Alertmanager prod');
    await page.getByLabel('Service').selectOption('chat-api');
    await page.getByRole('button', { name: 'Create integration' }).click();
    const key = await page.getByTestId('new-routing-key').locator('code.secret').textContent();
    await shot('settings-integrations-1280');
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    await expect(page.getByText(key!).count()).resolves.toBe(0);

    const alert = { routing_key: key, event_action: 'trigger', dedup_key: 'gpu-oom-1', payload: { summary: 'GPU OOM on replica a', source: 'dcgm', severity: 'critical' } };
    expect((await fetch(`${server.url}/v2/enqueue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) })).status).toBe(202);
    await fetch(`${server.url}/v2/enqueue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
    let alertIncident: string | null = null;
    await expect.poll(async () => (alertIncident = (await server.api('GET', '/api/v1/alerts?source=dcgm')).body.items[0]?.incident_id ?? null)).not.toBe(null);

    const plan = await server.api('POST', '/api/v1/plans', {
      id: 'failover',
      name: 'Fail over',
      steps: [
        { id: 'ok', type: 'approval', with: { prompt: 'Fail over {{incident.id}}?' } },
        { id: 'assess', type: 'assess', needs: ['ok'] },
      ],
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    await page.goto(`${server.url}/incidents/${alertIncident}`);
    await expect.poll(() => page.getByTestId('alert-counts').textContent()).toMatch(/Alerts1.*Occurrences2/);
    await page.getByLabel('Run a plan').selectOption('failover');
    await page.getByRole('button', { name: 'Run plan' }).click();
    await page.getByRole('button', { name: 'Approve step ok' }).click({ timeout: 60_000 });
    await expect.poll(() => page.locator('[data-step="ok"]').getAttribute('data-status')).toBe('succeeded');
    await shot('incident-alerts-plans-1280');
  });

  it('shows a plan as YAML with a dry run, sends a real channel test, and says who is on call', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Plans' }).click();
    await page.getByRole('button', { name: 'Open plan Fail over', exact: true }).click();
    // The YAML library loads when a plan is opened.
    await expect.poll(() => page.getByTestId('plan-yaml').textContent()).toContain('type: approval');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await expect(page.getByTestId('dry-run-report').textContent()).resolves.toMatch(/ok.*approval.*would wait/);
    await shot('settings-plans-1280');

    const received: string[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(body);
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as AddressInfo).port;
      await page.getByRole('link', { name: 'Channels' }).click();
      await page.getByLabel('Id').fill('ops-hook');
      await page.getByLabel('URL').fill(`http://127.0.0.1:${port}/hook`);
      await page.getByRole('button', { name: 'Create channel' }).click();
      await page.getByRole('button', { name: 'Done, hide it' }).click();
      await page.getByRole('button', { name: 'Send a test message to ops-hook' }).click();
      await expect(page.getByTestId('channels-table').getByRole('status').textContent()).resolves.toContain('delivered');
      expect(received).toHaveLength(1);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }

    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.getByLabel('Id').fill('llm-primary');
    await page.getByLabel('Team').selectOption('llm-platform');
    await page.getByLabel('Time zone').fill('UTC');
    await page.getByLabel('First hand-off').fill('2026-01-05');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await expect(page.locator('#schedule-users-error').textContent()).resolves.toContain('Give at least one');
    await page.getByLabel('People, in order').fill('alice');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByTestId('schedules-table').getByRole('cell', { name: /^alice/ }).waitFor();
    await shot('settings-schedules-1280');
  });

  it('fits a phone-sized screen (375 px)', async () => {
    const phone = await chromium.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await signIn(small);
    await small.goto(`${server.url}/incidents/${incidentId}`);
    await small.getByTestId('rto-clock').waitFor();
    await shot('incident-recovery-375', small);
    expect(await noOverflow(small)).toBeLessThanOrEqual(0);
    await small.goto(analysisUrl);
    await small.locator('.why').first().waitFor();
    await shot('analysis-five-whys-375', small);
    expect(await noOverflow(small)).toBeLessThanOrEqual(0);
    await small.goto(`${server.url}/fault-trees`);
    await small.getByLabel('Example').selectOption({ index: 1 });
    await small.getByRole('button', { name: 'Analyse' }).click();
    await small.locator('.fta-diagram svg').waitFor();
    await shot('fault-trees-375', small);
    expect(await noOverflow(small)).toBeLessThanOrEqual(0);
    await phone.close();
  });
});
