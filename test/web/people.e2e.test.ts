import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { parseRoleMap } from '../../src/auth/index.ts';
import { identityProvider, type IdentityProvider } from '../auth/identity-provider.ts';
import { buildConsoleOnce, launchChromium, screenshot, SCREENSHOT_DIR, type LaunchedBrowser } from './support.ts';

const PASSWORD = 'correct horse battery staple';

// The browser flow needs only one database; the HTTP behaviour is covered on both in test/auth/.
describe('signing in to the console as a person, in headless Chromium [sqlite]', () => {
  let idp: IdentityProvider;
  let server: TestServer;
  let chromium: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  let incidentId: string;

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await buildConsoleOnce();
    idp = await identityProvider();
    server = await startTestServer('sqlite', {
      config: {
        oidc: {
          issuer: idp.issuer,
          clientId: 'firebreak',
          clientSecret: 'firebreak-client-secret-0123456789',
          redirectUrl: undefined,
          scopes: 'openid email profile groups',
          roleClaim: 'groups',
          roleMap: parseRoleMap('sre-leads=admin,sre=responder'),
          defaultRole: undefined,
          createUsers: true,
          displayName: 'Example SSO',
        },
      },
    });
    await idp.listen(`${server.url}/api/v1/sessions/oidc/callback`);
    idp.accounts.set('u-lee', { email: 'lee@example.com', name: 'Lee Park', groups: ['sre-leads'] });
    await server.api('POST', '/api/v1/teams', { id: 'llm-platform', name: 'LLM platform', members: [{ user: 'bo', role: 'lead' }] });
    await server.api('POST', '/api/v1/users', { email: 'ana@example.com', name: 'Ana Silva', role: 'responder', password: PASSWORD });
    incidentId = (await server.api('POST', '/api/v1/incidents', { title: 'TTFT regression on chat-api', severity: 'high', team: 'llm-platform' })).body.id;
    chromium = await launchChromium();
    context = await chromium.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await idp?.close();
  });

  it('signs in with e-mail and password; a wrong password is refused next to the field', async () => {
    await page.goto(server.url);
    await page.getByRole('link', { name: 'Sign in with Example SSO' }).waitFor();
    await screenshot(page, 'sign-in-people-1280');
    await page.getByLabel('E-mail').fill('ana@example.com');
    await page.getByLabel('Password').fill('not her password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.locator('#password-error').textContent()).resolves.toContain('wrong e-mail or password');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('role').textContent()).resolves.toBe('responder');
    await expect(page.locator('.who-name').textContent()).resolves.toBe('Ana Silva');
    const cookie = (await context.cookies()).find((c) => c.name === 'firebreak_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    // Nothing secret is left where page scripts can read it.
    await expect(page.evaluate('sessionStorage.length + localStorage.length')).resolves.toBe(0);
    await expect(page.evaluate('document.cookie')).resolves.toBe('');
  });

  it('assigns from the people picker; the change is attributed to the person, and survives a reload', async () => {
    await page.goto(`${server.url}/incidents/${incidentId}`);
    await page.getByLabel('Assignee', { exact: true }).waitFor();
    await expect.poll(() => page.locator('#detail-assignee option').allTextContents()).toEqual(['Unassigned', 'Ana Silva (ana)', 'bo · llm-platform']);
    await page.getByLabel('Assignee', { exact: true }).selectOption('bo');
    await page.getByRole('button', { name: 'Save details' }).click();
    await page.locator('.timeline-entry', { hasText: 'assignee changed' }).waitFor();
    await expect(page.locator('.timeline-entry', { hasText: 'assignee changed' }).locator('.timeline-actor').textContent()).resolves.toContain('ana');
    await screenshot(page, 'assigned-by-person-1280');
    const stored = (await server.api('GET', `/api/v1/incidents/${incidentId}`)).body;
    expect(stored.assignee).toBe('bo');

    await page.reload();
    await expect(page.getByTestId('role').textContent()).resolves.toBe('responder');
    await page.getByLabel('Severity').selectOption('critical');
    await page.getByRole('button', { name: 'Save details' }).click();
    await page.locator('.timeline-entry', { hasText: 'severity changed' }).waitFor();
  });

  it('signs out on the server: the old cookie no longer works', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'firebreak_session')!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('E-mail').waitFor();
    await expect
      .poll(async () => (await fetch(new URL('/api/v1/me', server.url), { headers: { cookie: `firebreak_session=${cookie.value}` } })).status)
      .toBe(401);
  });

  it('signs in with single sign-on at a real OpenID provider, with the role its groups map to', async () => {
    await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
    await page.waitForURL(new RegExp(`^${idp.issuer}/interaction/`));
    await page.locator('input[name="login"]').fill('u-lee');
    await page.locator('input[name="password"]').fill('anything');
    await page.locator('button[type="submit"]').click();
    // The provider asks for consent once; then it sends the browser back to Firebreak.
    await page.locator('button[type="submit"]').click();
    await expect(page.getByTestId('role').textContent()).resolves.toBe('admin');
    await expect(page.locator('.who-name').textContent()).resolves.toBe('Lee Park');
    expect(page.url().startsWith(server.url)).toBe(true);
    await screenshot(page, 'signed-in-with-sso-1280');
  });
});
