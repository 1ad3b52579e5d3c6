import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/drills/index.ts';
import { runDrill } from '../../src/drills/runner.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { VirtualTime } from '../drills/virtual-time.ts';
import { SCREENSHOT_DIR, buildConsoleOnce, launchChromium, screenshot, signIn, type LaunchedBrowser } from './support.ts';

/**
 * Past drills on the Dashboards screen: a real drill's stored scorecard, listed, with its expectations. The drill runs
 * in virtual time shared with the server (as the scenario tests do), so which expectations hold does not depend on
 * how fast a loaded machine lets the server react.
 */
describe('web console: incident drills on the dashboard in headless Chromium [sqlite]', () => {
  let database: TestDatabase;
  let server: TestServer;
  let chromium: LaunchedBrowser;
  let page: Page;

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    database = await createTestDatabase('sqlite');
    const time = new VirtualTime(Date.now(), () => server.firebreak.ctx.worker.runDue());
    server = await startTestServer('sqlite', { database, clock: time.clock });
    const scenario = parseScenario(
      `
id: quick-outage
title: A quick provider outage
duration: 6m
services: [{ id: chat-api }]
traffic: [{ service: chat-api, provider: openai, model: gpt-4o, calls_per_minute: 20 }]
faults: [{ name: errors, service: chat-api, at: 1, server_error_rate: 0.6 }]
monitors: [{ name: LLMHighErrorRate, via: alertmanager, service: chat-api, stat: error_rate, op: '>', threshold: 0.1, for_minutes: 1, severity: critical, summary: chat-api errors }]
expectations:
  - incident: { service: chat-api, within: 30m }
  - recovered: { service: chat-api, within: 5m }
`,
      'quick-outage.yaml',
    );
    const own = time.join();
    try {
      await runDrill(scenario, { server: server.url, token: ADMIN_TOKEN, speed: 120, seed: 1, prefix: 'drill-', responders: true, keepOpen: false, store: true, time: own });
    } finally {
      own.done();
    }
    chromium = await launchChromium();
    page = await (await chromium.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(page, server.url, ADMIN_TOKEN);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await database?.drop();
  });

  it('lists the stored drill and shows which expectations held', async () => {
    await page.goto(`${server.url}/dashboards`);
    const runs = page.getByTestId('drills-table');
    await runs.waitFor();
    await expect.poll(() => runs.textContent()).toContain('quick-outage');
    expect(await runs.textContent()).toContain('1 of 2');
    const expectations = page.getByTestId('drill-expectations');
    await expectations.waitFor();
    const text = (await expectations.textContent()) ?? '';
    expect(text).toContain('an incident for chat-api within 30m');
    expect(text).toContain('no recovery started');
    await screenshot(page, 'dashboard-drills');
  });
});
