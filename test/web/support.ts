import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../web/build.ts';
import { REPO_ROOT } from '../support/server.ts';

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'web');

/** The server serves web/dist; build it when missing or older than its sources (a few seconds, once). */
export async function buildConsoleOnce(): Promise<void> {
  await ensureConsoleBuilt();
}

/**
 * How long a browser action (click, waitFor, goto) waits for what it needs: a safety limit for a loaded
 * machine, not a speed target. Playwright's own default (30 s) is half of what `expect.poll` allows here.
 */
export const BROWSER_ACTION_LIMIT_MS = 60_000;

export interface LaunchedBrowser {
  browser: Browser;
  /** A fresh context (cookies, storage) whose actions wait up to BROWSER_ACTION_LIMIT_MS. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Debian's Chromium, headless; playwright's own browser download does not work here. Playwright refuses
 * a `--user-data-dir` argument to `launch()` and instead gives every launch a fresh temporary profile
 * (deleted on close), which is what we want; TMPDIR points it at our own directory so nothing is shared.
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-chromium-'));
  const browser = await chromium.launch({
    executablePath: process.env.FIREBREAK_CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    env: { ...process.env, TMPDIR: profile },
  });
  return {
    browser,
    async newContext(options) {
      const context = await browser.newContext(options);
      context.setDefaultTimeout(BROWSER_ACTION_LIMIT_MS);
      return context;
    },
    async close() {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Reads Server-Sent Events from a fetch response until `until` returns true or the time runs out. */
export async function readSse(
  response: Response,
  until: (events: { event: string; data: unknown }[]) => boolean,
  // A safety limit on a loaded machine, not a speed target.
  timeoutMs = 60_000,
): Promise<{ event: string; data: unknown }[]> {
  const events: { event: string; data: unknown }[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let split: number;
      while ((split = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length) events.push({ event, data: JSON.parse(data.join('\n')) });
      }
      if (until(events)) break;
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

/** Saves a full-page screenshot under test-results/web as a CI artifact. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Signs in through the console's own form and waits until the role is shown. */
export async function signIn(page: Page, serverUrl: string, token: string): Promise<void> {
  await page.goto(serverUrl);
  await openTokenSignIn(page);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in with token' }).click();
  await page.getByTestId('role').waitFor();
}

/**
 * Collects every error the browser console shows (failed requests such as a probing GET answered 404
 * included) and every uncaught page error, in all pages of a context, so a suite can assert none.
 */
export function watchConsole(context: BrowserContext): { errors: string[]; allowed: RegExp[] } {
  const watch = { errors: [] as string[], allowed: [] as RegExp[] };
  const record = (text: string) => {
    if (!watch.allowed.some((pattern) => pattern.test(text))) watch.errors.push(text);
  };
  context.on('console', (message) => {
    if (message.type() === 'error') record(`${message.text()} (${message.location().url || message.page()?.url() || '?'})`);
  });
  context.on('weberror', (error) => record(`uncaught: ${error.error().message}`));
  return watch;
}

/**
 * Takes the errors a test provoked on purpose (a wrong token, a rejected field) out of the watch,
 * asserting they happened, so that whatever remains is an error nobody meant.
 */
export function consumeExpectedErrors(watch: { errors: string[] }, pattern: RegExp): number {
  const before = watch.errors.length;
  const kept = watch.errors.filter((e) => !pattern.test(e));
  watch.errors.length = 0;
  watch.errors.push(...kept);
  return before - kept.length;
}

/** The token form is the secondary way in, folded under the e-mail and password form. */
export async function openTokenSignIn(page: Page): Promise<void> {
  const summary = page.getByText('Use an API token instead');
  await summary.waitFor();
  if ((await page.locator('details.token-sign-in[open]').count()) === 0) await summary.click();
}
