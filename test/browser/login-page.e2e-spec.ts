import { PASSWORD, register, uniqueName } from '../helpers/logins.js';
import {
  browserSessionCookie,
  cspViolations,
  screenshot,
  useBrowserTest,
} from './chromium.js';

describe('login page in a browser', () => {
  const t = useBrowserTest();

  function focusedId(): Promise<string | null> {
    return t.page.locator(':focus').getAttribute('id');
  }

  /** Keyboard only: the username field has focus, Tab moves to the password, Enter submits. */
  async function typeCredentials(username: string, password: string) {
    await t.page.goto(`${t.url}/auth/login`);
    expect(await focusedId()).toBe('login-username');
    await t.page.keyboard.type(username);
    await t.page.keyboard.press('Tab');
    expect(await focusedId()).toBe('login-password');
    await t.page.keyboard.type(password);
  }

  it('logs in and out with the keyboard alone', async () => {
    const { username } = await register(t.server, uniqueName('alice'));
    await t.page.goto(`${t.url}/auth/login`);
    await t.page
      .getByRole('heading', { name: 'Log in', exact: true })
      .waitFor();
    await screenshot(t.page, 'login-page.png');

    await typeCredentials(username, PASSWORD);
    await Promise.all([
      t.page.waitForURL(`${t.url}/auth/login`),
      t.page.keyboard.press('Enter'),
    ]);
    await t.page
      .getByRole('heading', { name: `Logged in as ${username}` })
      .waitFor();
    expect(await browserSessionCookie(t.context)).toBeDefined();
    await screenshot(t.page, 'logged-in.png');

    await t.page.getByRole('button', { name: 'Log out' }).focus();
    await Promise.all([
      t.page.waitForURL(`${t.url}/auth/login`),
      t.page.keyboard.press('Enter'),
    ]);
    await t.page
      .getByRole('heading', { name: 'Log in', exact: true })
      .waitFor();
    expect(await t.page.getByText('Logged in as').count()).toBe(0);
    expect(await browserSessionCookie(t.context)).toBeUndefined();
  });

  it('shows the error message and sets no cookie for a wrong password', async () => {
    const { username } = await register(t.server);
    await typeCredentials(username, 'not the right password');
    await Promise.all([
      t.page.waitForURL(/\/auth\/login\?error=invalid_grant$/),
      t.page.keyboard.press('Enter'),
    ]);
    const alert = t.page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.isVisible()).toBe(true);
    expect(await alert.textContent()).toBe('Wrong username or password.');
    expect(await t.context.cookies()).toEqual([]);
    await screenshot(t.page, 'login-error.png');
  });

  it('renders under the Content-Security-Policy without violations', async () => {
    const response = await t.page.goto(`${t.url}/auth/login`);
    expect(response?.status()).toBe(200);
    const csp = (await response!.allHeaders())['content-security-policy'];
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    await t.page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
    // The stylesheet applied: the button has the page's blue, not the browser default.
    const background = await t.page.evaluate<string>(
      "getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor",
    );
    expect(background).toBe('rgb(36, 86, 199)');
    expect(cspViolations(t.errors)).toEqual([]);
    expect(t.errors).toEqual([]);
  });
});
