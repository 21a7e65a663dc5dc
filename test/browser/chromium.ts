import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionKeyOf } from '../helpers/redis-inspection.js';
import { fileURLToPath } from 'node:url';
import { chromiumPath } from '../harness/programs.mjs';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
} from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Screenshots for the README land in docs/. */
const DOCS_DIR = fileURLToPath(new URL('../../docs', import.meta.url));
/**
 * Screenshots refresh the README's pictures only when asked (UPDATE_SCREENSHOTS=1), so an
 * ordinary run leaves the working tree as it was; otherwise they go to a temporary folder.
 */
const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS
  ? DOCS_DIR
  : join(tmpdir(), 'session-bearer-auth-screenshots/');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    // The global setup has checked that there is one.
    executablePath: chromiumPath()!,
    args: CHROMIUM_ARGS,
  });
}

/** A fresh context (no cookies, no storage) with a stable look for screenshots. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 1100, height: 760 },
    colorScheme: 'light',
    locale: 'en-US',
  });
  // Fail a step well before the test's own timeout, with a message naming the step.
  context.setDefaultTimeout(10_000);
  return context;
}

export async function screenshot(
  page: Page,
  file: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, file), ...options });
}

/** Logs in through the login page's form, as a person would; resolves once the page says so. */
export async function logInOnLoginPage(
  page: Page,
  baseUrl: string,
  username: string,
  password: string,
): Promise<void> {
  await page.goto(`${baseUrl}/auth/login`);
  await page.locator('#login-username').fill(username);
  await page.locator('#login-password').fill(password);
  await Promise.all([
    page.waitForURL(`${baseUrl}/auth/login`),
    page.getByRole('button', { name: 'Log in', exact: true }).click(),
  ]);
  await page
    .getByRole('heading', { name: `Logged in as ${username}` })
    .waitFor();
}

/** Console errors and uncaught page errors, e.g. Content-Security-Policy violations. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

export function cspViolations(errors: string[]): string[] {
  return errors.filter((e) => /content.security.policy/i.test(e));
}

/** The browser's session cookie, if it holds one. */
export async function browserSessionCookie(
  context: BrowserContext,
  name = 'session',
): Promise<string | undefined> {
  const cookies = await context.cookies();
  return cookies.find((c) => c.name === name)?.value;
}

/** The Redis key of the session a browser cookie value (`s:<sid>.<signature>`, URL-encoded) names. */
export function sessionKeyOfCookie(value: string): string {
  return sessionKeyOf(`session=${value}`);
}
