import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  expectEnded,
  login,
  PASSWORD,
  register,
  uniqueName,
} from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import {
  collectErrors,
  cspViolations,
  launchChromium,
  logInOnLoginPage,
  newContext,
  screenshot,
} from './chromium.js';

const FIREFOX =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
/** Far more Tab presses than the page has stops before the token form. */
const MAX_TABS = 60;

describe('account page in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

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
    errors = collectErrors(page);
  });
  afterEach(() => context.close());

  function focusedId(): Promise<string | null> {
    return page.evaluate<string | null>('document.activeElement?.id || null');
  }

  /** The focused element draws the page's focus ring: a solid 3px outline. */
  async function expectVisibleFocus(): Promise<void> {
    const outline = await page.evaluate<string>(
      'getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth',
    );
    expect(outline).toBe('solid 3px');
  }

  /** Presses Tab until the element with `id` has focus, as a keyboard user would. */
  async function tabTo(id: string): Promise<void> {
    for (let i = 0; i < MAX_TABS; i++) {
      await page.keyboard.press('Tab');
      if ((await focusedId()) === id) return;
    }
    throw new Error(`Tab never reached #${id}`);
  }

  /** A curl-like request with a bearer token: no browser, no cookie. */
  async function withToken(path: string, token: string): Promise<Response> {
    return fetch(`${t.url}${path}`, {
      headers: { Authorization: `Bearer ${token}`, 'User-Agent': 'curl/8.5.0' },
    });
  }

  async function openAccountPage(username: string): Promise<void> {
    await logInOnLoginPage(page, t.url, username, PASSWORD);
    await Promise.all([
      page.waitForURL(`${t.url}/account`),
      page.getByRole('link', { name: /Your account/ }).click(),
    ]);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
  }

  it('sends an anonymous visitor to the login page', async () => {
    await page.goto(`${t.url}/account`);
    expect(page.url()).toBe(`${t.url}/auth/login`);
    await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
  });

  it('creates a token with the keyboard alone, which works with curl-like requests until it is revoked on the page', async () => {
    const { username } = await register(t.server, uniqueName('alice'));
    await openAccountPage(username);
    expect(cspViolations(errors)).toEqual([]);

    // Keyboard only: Tab to the form, type, tick a scope with Space, Enter submits.
    await tabTo('token-name');
    await expectVisibleFocus();
    await page.keyboard.type('release script');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('scope-profile');
    await expectVisibleFocus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('scope-logins');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('scope-account');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('token-expiry');
    await expectVisibleFocus();
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('token-password');
    await page.keyboard.type(PASSWORD);
    const [answer] = await Promise.all([
      page.waitForResponse(
        (r) =>
          r.url() === `${t.url}/account/personal-tokens` &&
          r.request().method() === 'POST',
      ),
      page.keyboard.press('Enter'),
    ]);
    expect(answer.status()).toBe(200);
    expect(answer.headers()['cache-control']).toBe('no-store');

    // The secret is on this page once, focused for copying, and nowhere in the URL.
    await page
      .getByRole('heading', { name: /release script.*created/ })
      .waitFor();
    expect(await focusedId()).toBe('new-token');
    const token = await page.locator('#new-token').inputValue();
    expect(token).toMatch(/^sbat_[0-9A-Za-z]{38}$/);
    expect(page.url()).toBe(`${t.url}/account/personal-tokens`);
    expect(await page.getByText('Copy it now').isVisible()).toBe(true);
    await screenshot(page, 'account-token-created.png');

    const me = await withToken('/admin/me', token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username });
    expect((await withToken('/auth/sessions', token)).status).toBe(403);

    // Revoke it on the page.
    await page.goto(`${t.url}/account`);
    expect(await page.locator('#new-token').count()).toBe(0);
    const row = page.getByRole('row', { name: /release script/ });
    await Promise.all([
      page.waitForURL(`${t.url}/account?done=token_revoked`),
      row.getByRole('button', { name: /^Revoke/ }).click(),
    ]);
    await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
    expect(await page.getByText('You have no personal tokens.').count()).toBe(
      1,
    );
    const refused = await withToken('/admin/me', token);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_token' });
    expect(cspViolations(errors)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('ends another login from the page; that client is refused from then on, this browser stays logged in', async () => {
    const { username } = await register(t.server, uniqueName('bob'));
    const other = await login(t.server, username, PASSWORD, FIREFOX);
    await openAccountPage(username);
    const current = page.getByRole('row', { name: /this browser/ });
    expect(await current.textContent()).toContain('Headless Chrome on Linux');
    const firefox = page.getByRole('row', { name: /Firefox on Windows/ });
    await firefox.waitFor();
    await screenshot(page, 'account-page.png', { fullPage: true });

    await Promise.all([
      page.waitForURL(`${t.url}/account?done=login_ended`),
      firefox.getByRole('button', { name: /^End/ }).click(),
    ]);
    await page.getByRole('status').filter({ hasText: 'ended' }).waitFor();
    expect(await firefox.count()).toBe(0);
    expect(await current.count()).toBe(1);
    await expectEnded(t.server, other);
  });

  it('shows a wrong current password on the page, readable, next to the form', async () => {
    const { username } = await register(t.server, uniqueName('carol'));
    await openAccountPage(username);
    await page.locator('#current-password').fill('not my password');
    await page.locator('#new-password').fill('another long passphrase 42');
    await Promise.all([
      page.waitForURL(`${t.url}/account?error=wrong_password&form=password`),
      page.getByRole('button', { name: 'Change password' }).click(),
    ]);
    const alert = page.getByRole('alert');
    expect(await alert.textContent()).toBe('The current password is wrong.');
    expect(await alert.isVisible()).toBe(true);
    const section = page.getByRole('region', { name: 'Change password' });
    expect(await section.getByRole('alert').count()).toBe(1);
    expect(await page.locator('#current-password').inputValue()).toBe('');
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'account-error.png');
    expect(errors).toEqual([]);
  });
});
