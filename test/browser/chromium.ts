import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionKeyOf } from '../helpers/redis-inspection.js';
import { startApp, type TestApp } from '../helpers/test-app.js';
import { fileURLToPath } from 'node:url';
import { chromiumPath } from '../harness/programs.mjs';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
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

function launchChromium(): Promise<Browser> {
  return chromium.launch({
    // The global setup has checked that there is one.
    executablePath: chromiumPath()!,
    args: CHROMIUM_ARGS,
  });
}

/** A fresh context (no cookies, no storage) with a stable look for screenshots. */
async function newContext(browser: Browser): Promise<BrowserContext> {
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

/** A picture of one part of a page (a section), saved like `screenshot`'s. */
export async function screenshotOf(part: Locator, file: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await part.screenshot({ path: join(SCREENSHOT_DIR, file) });
}

/** What a browser spec works with; read it inside tests and hooks, where it exists. */
export interface BrowserTest {
  /** The app's base URL: it listens on a port of its own for the whole file. */
  readonly url: string;
  readonly server: TestApp['server'];
  /** A fresh context (no cookies, no storage) for each test, and its one page. */
  readonly context: BrowserContext;
  readonly page: Page;
  /** The page's console errors and uncaught errors so far in this test. */
  readonly errors: string[];
}

/**
 * Registers the set-up every browser spec shares: one listening app and one Chromium for the
 * file, a fresh context and page for each test. Call it at the top of a describe block.
 */
export function useBrowserTest(
  /** Settings of the app beyond the test environment, made once the file's servers are up. */
  env: () => Promise<Record<string, string>> = async () => ({}),
): BrowserTest {
  let app: TestApp | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let errors: string[] | undefined;

  beforeAll(async () => {
    app = await startApp(await env(), { listen: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });
  beforeEach(async () => {
    context = await newContext(browser!);
    page = await context.newPage();
    errors = collectErrors(page);
  });
  afterEach(async () => {
    const ended = context;
    context = page = errors = undefined;
    await ended?.close();
  });

  function present<T>(value: T | undefined, what: string): T {
    if (value === undefined)
      throw new Error(
        `${what} exists only inside a test of a useBrowserTest() block`,
      );
    return value;
  }
  return {
    get url() {
      return present(app, 'the app').url;
    },
    get server() {
      return present(app, 'the app').server;
    },
    get context() {
      return present(context, 'the browser context');
    },
    get page() {
      return present(page, 'the page');
    },
    get errors() {
      return present(errors, "the page's errors");
    },
  };
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
function collectErrors(page: Page): string[] {
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
