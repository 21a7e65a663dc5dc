import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORD, register, uniqueName } from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import {
  browserSessionCookie,
  collectErrors,
  cspViolations,
  launchChromium,
  newContext,
  screenshot,
} from './chromium.js';

describe('login page in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    t = await startApp({}, { listen: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  beforeEach(async () => {
    context = await newContext(browser);
    page = await context.newPage();
  });
  afterEach(() => context.close());

  function focusedId(): Promise<string | null> {
    return page.locator(':focus').getAttribute('id');
  }

  /** Keyboard only: the username field has focus, Tab moves to the password, Enter submits. */
  async function typeCredentials(username: string, password: string) {
    await page.goto(`${t.url}/auth/login`);
    expect(await focusedId()).toBe('login-username');
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('login-password');
    await page.keyboard.type(password);
  }

  it('logs in and out with the keyboard alone', async () => {
    const { username } = await register(t.server, uniqueName('alice'));
    await page.goto(`${t.url}/auth/login`);
    await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
    await screenshot(page, 'login-page.png');

    await typeCredentials(username, PASSWORD);
    await Promise.all([
      page.waitForURL(`${t.url}/auth/login`),
      page.keyboard.press('Enter'),
    ]);
    await page
      .getByRole('heading', { name: `Logged in as ${username}` })
      .waitFor();
    expect(await browserSessionCookie(context)).toBeDefined();
    await screenshot(page, 'logged-in.png');

    await page.getByRole('button', { name: 'Log out' }).focus();
    await Promise.all([
      page.waitForURL(`${t.url}/auth/login`),
      page.keyboard.press('Enter'),
    ]);
    await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
    expect(await page.getByText('Logged in as').count()).toBe(0);
    expect(await browserSessionCookie(context)).toBeUndefined();
  });

  it('shows the error message and sets no cookie for a wrong password', async () => {
    const { username } = await register(t.server);
    await typeCredentials(username, 'not the right password');
    await Promise.all([
      page.waitForURL(/\/auth\/login\?error=invalid_grant$/),
      page.keyboard.press('Enter'),
    ]);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.isVisible()).toBe(true);
    expect(await alert.textContent()).toBe('Wrong username or password.');
    expect(await context.cookies()).toEqual([]);
    await screenshot(page, 'login-error.png');
  });

  it('renders under the Content-Security-Policy without violations', async () => {
    const errors = collectErrors(page);
    const response = await page.goto(`${t.url}/auth/login`);
    expect(response?.status()).toBe(200);
    const csp = (await response!.allHeaders())['content-security-policy'];
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
    // The stylesheet applied: the button has the page's blue, not the browser default.
    const background = await page.evaluate<string>(
      "getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor",
    );
    expect(background).toBe('rgb(36, 86, 199)');
    expect(cspViolations(errors)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
