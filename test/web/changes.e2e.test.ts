import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { buildConsoleOnce, launchChromium, screenshot, signIn, SCREENSHOT_DIR, type LaunchedBrowser } from './support.ts';

// "What changed?" on the incident page and the Changes screen, in a real browser; one database is enough for the UI.
describe('web console: changes and suspects in headless Chromium [sqlite]', () => {
  let database: TestDatabase;
  let server: TestServer;
  let chromium: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let incidentId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    database = await createTestDatabase('sqlite');
    server = await startTestServer('sqlite', { database });
    await server.api('POST', '/api/v1/services', { id: 'vector-store' });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', depends_on: ['vector-store'] });
    const detected = Date.now() - 60_000;
    const at = (minutesBefore: number) => new Date(detected - minutesBefore * 60_000).toISOString();
    for (const [name, body] of [
      ['deploy', { service: 'chat-api', kind: 'deploy', summary: 'chat-api r40', version_from: 'r39', version_to: 'r40', at: at(30) }],
      ['model', { service: 'chat-api', kind: 'model', summary: 'gpt-4o alias now serves 2024-11-20', version_from: 'gpt-4o-2024-08-06', version_to: 'gpt-4o-2024-11-20', at: at(10) }],
      ['store', { service: 'vector-store', kind: 'config', summary: 'compaction every 5 min', at: at(5) }],
    ] as const) {
      ids[name] = (await server.api('POST', '/api/v1/changes', body)).body.id;
    }
    incidentId = (await server.api('POST', '/api/v1/incidents', { title: 'answers got worse', severity: 'high', services: ['chat-api'], detected_at: new Date(detected).toISOString() })).body.id;
    chromium = await launchChromium();
    context = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    await signIn(page, server.url, ADMIN_TOKEN);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await database?.drop();
  });

  it('the incident page shows the suspects, most likely first, each with the reason for its rank', async () => {
    await page.goto(`${server.url}/incidents/${incidentId}`);
    const list = page.getByTestId('suspects');
    await list.waitFor();
    const items = list.locator(':scope > li');
    expect(await items.count()).toBe(3);
    expect(await items.nth(0).getAttribute('data-change-id')).toBe(ids.model);
    expect(await items.nth(0).textContent()).toContain('model change (gpt-4o-2024-08-06 → gpt-4o-2024-11-20) 10 min before detection on chat-api');
    expect(await items.nth(2).textContent()).toContain('vector-store, which chat-api depends on');
    await screenshot(page, 'incident-suspects');
  });

  it('the Changes screen lists changes and filters them by kind', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Changes' }).click();
    const table = page.getByTestId('changes-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(3);
    await page.getByLabel('Kind').selectOption('model');
    await page.waitForFunction('document.querySelectorAll(\'[data-testid="changes-table"] tbody tr\').length === 1');
    expect(await table.locator('tbody tr').first().getAttribute('data-change-id')).toBe(ids.model);
  });
});
