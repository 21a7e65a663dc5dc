import { waitUntil } from '../helpers/waiting.js';
import {
  expectEnded,
  login,
  PASSWORD,
  register,
  uniqueName,
} from '../helpers/logins.js';
import {
  cspViolations,
  logInOnLoginPage,
  screenshot,
  useBrowserTest,
} from './chromium.js';

const FIREFOX =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
/** Far more Tab presses than the page has stops before the token form. */
const MAX_TABS = 60;

describe('account page in a browser', () => {
  const t = useBrowserTest();

  function focusedId(): Promise<string | null> {
    return t.page.evaluate<string | null>('document.activeElement?.id || null');
  }

  /** The focused element draws the page's focus ring: a solid 3px outline. */
  async function expectVisibleFocus(): Promise<void> {
    const outline = await t.page.evaluate<string>(
      'getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth',
    );
    expect(outline).toBe('solid 3px');
  }

  /** Presses Tab until the element with `id` has focus, as a keyboard user would. */
  async function tabTo(id: string): Promise<void> {
    for (let i = 0; i < MAX_TABS; i++) {
      await t.page.keyboard.press('Tab');
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
    await logInOnLoginPage(t.page, t.url, username, PASSWORD);
    await Promise.all([
      t.page.waitForURL(`${t.url}/account`),
      t.page.getByRole('link', { name: /Your account/ }).click(),
    ]);
    await t.page.getByRole('heading', { name: 'Your account' }).waitFor();
  }

  it('sends an anonymous visitor to the login page', async () => {
    await t.page.goto(`${t.url}/account`);
    expect(t.page.url()).toBe(`${t.url}/auth/login`);
    await t.page
      .getByRole('heading', { name: 'Log in', exact: true })
      .waitFor();
  });

  it('creates a token with the keyboard alone, which works with curl-like requests until it is revoked on the page', async () => {
    const { username } = await register(t.server, uniqueName('alice'));
    await openAccountPage(username);
    expect(cspViolations(t.errors)).toEqual([]);

    // Keyboard only: Tab to the form, type, tick a scope with Space, Enter submits.
    await tabTo('token-name');
    await expectVisibleFocus();
    await t.page.keyboard.type('release script');
    await t.page.keyboard.press('Tab');
    expect(await focusedId()).toBe('scope-profile');
    await expectVisibleFocus();
    await t.page.keyboard.press('Space');
    await t.page.keyboard.press('Tab');
    expect(await focusedId()).toBe('scope-logins');
    await t.page.keyboard.press('Tab');
    expect(await focusedId()).toBe('scope-account');
    await t.page.keyboard.press('Tab');
    expect(await focusedId()).toBe('token-expiry');
    await expectVisibleFocus();
    await t.page.keyboard.press('Tab');
    expect(await focusedId()).toBe('token-password');
    await t.page.keyboard.type(PASSWORD);
    const [answer] = await Promise.all([
      t.page.waitForResponse(
        (r) =>
          r.url() === `${t.url}/account/personal-tokens` &&
          r.request().method() === 'POST',
      ),
      t.page.keyboard.press('Enter'),
    ]);
    expect(answer.status()).toBe(200);
    expect(answer.headers()['cache-control']).toBe('no-store');

    // The secret is on this page once, focused for copying, and nowhere in the URL.
    await t.page
      .getByRole('heading', { name: /release script.*created/ })
      .waitFor();
    expect(await focusedId()).toBe('new-token');
    const token = await t.page.locator('#new-token').inputValue();
    expect(token).toMatch(/^sbat_[0-9A-Za-z]{38}$/);
    expect(t.page.url()).toBe(`${t.url}/account/personal-tokens`);
    expect(await t.page.getByText('Copy it now').isVisible()).toBe(true);
    await screenshot(t.page, 'account-token-created.png');

    const me = await withToken('/admin/me', token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username });
    expect((await withToken('/auth/sessions', token)).status).toBe(403);

    // Revoke it on the page.
    await t.page.goto(`${t.url}/account`);
    expect(await t.page.locator('#new-token').count()).toBe(0);
    const row = t.page.getByRole('row', { name: /release script/ });
    await Promise.all([
      t.page.waitForURL(`${t.url}/account?done=token_revoked`),
      row.getByRole('button', { name: /^Revoke/ }).click(),
    ]);
    await t.page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
    expect(await t.page.getByText('You have no personal tokens.').count()).toBe(
      1,
    );
    const refused = await withToken('/admin/me', token);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_token' });
    expect(cspViolations(t.errors)).toEqual([]);
    expect(t.errors).toEqual([]);
  });

  it('ends another login from the page; that client is refused from then on, this browser stays logged in', async () => {
    const { username } = await register(t.server, uniqueName('bob'));
    const other = await login(t.server, username, PASSWORD, FIREFOX);
    await openAccountPage(username);
    const current = t.page.getByRole('row', { name: /this browser/ });
    expect(await current.textContent()).toContain('Headless Chrome on Linux');
    const firefox = t.page.getByRole('row', { name: /Firefox on Windows/ });
    await firefox.waitFor();
    // Logins are recorded off the request path, within about a second: the picture shows them.
    const activity = t.page.locator('ol.activity');
    await waitUntil(async () => {
      await t.page.reload();
      return (
        (await activity
          .getByText('Logged in from Firefox on Windows')
          .count()) > 0
      );
    }, 'the Firefox login in Recent activity');
    await screenshot(t.page, 'account-page.png', { fullPage: true });

    await Promise.all([
      t.page.waitForURL(`${t.url}/account?done=login_ended`),
      firefox.getByRole('button', { name: /^End/ }).click(),
    ]);
    await t.page.getByRole('status').filter({ hasText: 'ended' }).waitFor();
    expect(await firefox.count()).toBe(0);
    expect(await current.count()).toBe(1);
    await expectEnded(t.server, other);
  });

  it('shows a wrong current password on the page, readable, next to the form', async () => {
    const { username } = await register(t.server, uniqueName('carol'));
    await openAccountPage(username);
    await t.page.locator('#current-password').fill('not my password');
    await t.page.locator('#new-password').fill('another long passphrase 42');
    await Promise.all([
      t.page.waitForURL(`${t.url}/account?error=wrong_password&form=password`),
      t.page.getByRole('button', { name: 'Change password' }).click(),
    ]);
    const alert = t.page.getByRole('alert');
    expect(await alert.textContent()).toBe('The current password is wrong.');
    expect(await alert.isVisible()).toBe(true);
    const section = t.page.getByRole('region', { name: 'Change password' });
    expect(await section.getByRole('alert').count()).toBe(1);
    expect(await t.page.locator('#current-password').inputValue()).toBe('');
    await section.scrollIntoViewIfNeeded();
    await screenshot(t.page, 'account-error.png');
    expect(t.errors).toEqual([]);
  });
});
