import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { NORMAL, generateCalls, seededRandom, type Conditions } from '../llm/traffic.ts';
import { buildConsoleOnce, launchChromium, screenshot, signIn, SCREENSHOT_DIR, type LaunchedBrowser } from './support.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-16T08:00:00Z');

// The console shows why a detector fired: an error-rate outage on real LLM telemetry, then its incident page.
describe('detection explanation in the console [sqlite]', () => {
  let database: TestDatabase;
  let server: TestServer;
  let chromium: LaunchedBrowser;
  let page: Page;
  let now = T0;
  const r = seededRandom(31);

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    database = await createTestDatabase('sqlite');
    // The shipped allowed lateness: the rules judge the outage's minutes before they close.
    server = await startTestServer('sqlite', { database, clock: () => new Date(now) });
    await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 });
    const key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'chat-api' })).body.routing_key as string;
    const send = async (until: number, conditions: Conditions, stepMs: number) => {
      while (now < until) {
        const end = Math.min(until, now + stepMs);
        const calls = generateCalls(r, now, end, conditions, { meanPerMinute: 30 });
        now = end;
        expect((await server.api('POST', '/api/v1/llm/requests', { requests: calls }, { token: key })).status).toBe(200);
      }
    };
    await send(T0 + 60 * MINUTE, NORMAL, 10 * MINUTE);
    await send(now + 5 * MINUTE, { ...NORMAL, serverErrorProbability: 0.5 }, MINUTE);
    chromium = await launchChromium();
    page = await (await chromium.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await database?.drop();
  });

  it('shows the rule, the recent values against the baseline band, and the sentence on the incident’s alert', async () => {
    const alert = (await server.api('GET', '/api/v1/alerts?service=chat-api')).body.items.find((a: { dedup_key: string }) => a.dedup_key.endsWith(':error_rate'));
    expect(alert?.incident_id).toBeTruthy();
    await signIn(page, server.url, ADMIN_TOKEN);
    await page.goto(`${server.url}/incidents/${alert.incident_id}`);
    const why = page.locator(`[data-alert-id="${alert.id}"] .detection-why`);
    await why.waitFor({ timeout: 60_000 });
    await expect(why.getAttribute('data-rule')).resolves.toBe('error_rate');
    await expect(why.textContent()).resolves.toContain('rule: error rate');
    await expect(why.textContent()).resolves.toMatch(/of \d+ calls/);
    await expect(why.locator('.why-band-text').textContent()).resolves.toMatch(/normal band 0\.00* – /);
    await expect(why.locator('polyline.why-values').getAttribute('points')).resolves.toMatch(/\d,\d/);
    await expect(why.locator('rect.why-band').count()).resolves.toBe(1);
    await screenshot(page, 'incident-detection-why-1280');
  });
});
