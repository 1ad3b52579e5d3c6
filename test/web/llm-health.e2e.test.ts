import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { NORMAL, generateCalls, seededRandom } from '../llm/traffic.ts';
import { buildConsoleOnce, launchChromium, screenshot, signIn, SCREENSHOT_DIR, watchConsole, type LaunchedBrowser } from './support.ts';

const MINUTE = 60_000;

/** SLOs per service, LLM charts whose step follows the range, and an incident's own LLM charts and fault trees. */
describe('web console: LLM health and fault trees on the incident in headless Chromium [sqlite]', () => {
  let database: TestDatabase;
  let server: TestServer;
  let chromium: LaunchedBrowser;
  let desktop: BrowserContext;
  let page: Page;
  let watch: ReturnType<typeof watchConsole>;
  let configDir: string;
  let incidentId: string;
  const endMs = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-llm-health-'));
    fs.writeFileSync(path.join(configDir, 'slos.yaml'), 'slos:\n  - { service: chat-api, kind: availability, objective: 0.999 }\n');
    database = await createTestDatabase('sqlite');
    server = await startTestServer('sqlite', { database, config: { configDir } });
    expect((await server.api('POST', '/api/v1/services', { id: 'chat-api', tier: 1 })).status).toBe(201);
    const key = (await server.api('POST', '/api/v1/integrations', { name: 'telemetry', service: 'chat-api' })).body.routing_key;
    const r = seededRandom(7);
    // Three hours of traffic ending in a 10-minute outage: the SLO burns, raises an alert and opens an incident.
    for (let start = endMs - 180 * MINUTE; start < endMs; start += 10 * MINUTE) {
      const conditions = start >= endMs - 10 * MINUTE ? { ...NORMAL, serverErrorProbability: 0.5 } : NORMAL;
      const sent = await server.api('POST', '/api/v1/llm/requests', { requests: generateCalls(r, start, start + 10 * MINUTE, conditions, { meanPerMinute: 20 }) }, { token: key });
      expect(sent.body.rejected).toBe(0);
    }
    let opened: string | undefined;
    // The limit is a safety net for a busy machine (the SLO job runs on the server's worker), not a speed target.
    for (const deadline = Date.now() + 120_000; !opened && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
      const alerts = (await server.api('GET', '/api/v1/alerts?service=chat-api')).body.items as { source: string; incident_id: string | null }[];
      opened = alerts.find((a) => a.source === 'firebreak.slo' && a.incident_id)?.incident_id ?? undefined;
    }
    expect(opened).toBeDefined();
    incidentId = opened!;
    const tree = await server.api('POST', `/api/v1/incidents/${incidentId}/fault-trees`, { example: (await server.api('GET', '/api/v1/fta/examples')).body[0].name, name: 'Chat outage tree' });
    expect(tree.status).toBe(201);
    chromium = await launchChromium();
    desktop = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
    watch = watchConsole(desktop);
    page = await desktop.newPage();
    await signIn(page, server.url, ADMIN_TOKEN);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await database?.drop();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('shows each service SLO: objective, error budget left, every burn-rate window against its threshold, and the alert', async () => {
    await page.goto(`${server.url}/dashboards?days=30`);
    const slo = page.getByTestId('slo-view').locator('[data-service="chat-api"]');
    await slo.waitFor();
    const text = await slo.textContent();
    expect(text).toContain('objective 99.9%');
    expect(text).toMatch(/Raised a (page|ticket) alert/);
    expect(text).toContain('firing');
    const stored = (await server.api('GET', '/api/v1/slos/chat-api')).body[0];
    await expect(slo.getByTestId('budget-left').textContent()).resolves.toContain(`${(stored.error_budget_remaining * 100).toLocaleString('en', { maximumFractionDigits: 1 })}%`);
    // No raw floats: every number on the view is rounded for reading.
    expect(text).not.toMatch(/\d\.\d{5,}/);
    await expect(slo.locator('.burn-rates tbody tr').count()).resolves.toBe(stored.burn_rates.length);
  });

  it('charts 30 days at a step that follows the traffic, not one point for the day that has it', async () => {
    const note = page.getByTestId('llm-step');
    await note.waitFor();
    await expect(note.textContent()).resolves.toMatch(/Traffic only from .* charted there, one point per \d+m/);
    await expect.poll(() => page.evaluate('[...document.querySelectorAll(".llm-stats canvas")].filter(c => c.width > 0).length')).toBe(4);
    await screenshot(page, 'llm-dashboard-slo-1280');
  });

  it("shows the incident's services' LLM charts around its start, its fault trees analysed, and its id in the tab title", async () => {
    await page.goto(`${server.url}/incidents/${incidentId}`);
    const llm = page.locator('[data-panel="llm"]');
    await llm.getByTestId('llm-stats').waitFor();
    await expect.poll(() => page.evaluate('[...document.querySelectorAll("[data-panel=llm] canvas")].filter(c => c.width > 0).length')).toBe(4);
    await llm.getByTestId('slo-view').waitFor();
    const trees = page.locator('[data-panel="fault-trees"]');
    await trees.getByRole('button', { name: 'Analyse' }).click();
    const analysis = trees.locator('[data-testid^="tree-analysis-"]');
    await analysis.waitFor();
    const summary = await analysis.textContent();
    expect(summary).toMatch(/probability \d/);
    expect(summary).not.toMatch(/\d\.\d{5,}/);
    await expect(page.title()).resolves.toContain(incidentId);
    await screenshot(page, 'incident-llm-fault-trees-1280');
  });

  it('kept the browser console free of errors', () => {
    expect(watch.errors).toEqual([]);
  });
});
