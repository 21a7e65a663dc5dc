import type { Locator } from 'playwright-core';
import { LOGIN_FIELDS } from '../../src/credentials/login.store.js';
import { SCOPES } from '../../src/credentials/scopes.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import {
  browserSessionCookie,
  cspViolations,
  logInOnLoginPage,
  screenshot,
  sessionKeyOfCookie,
  useBrowserTest,
} from './chromium.js';
import { PASSWORD, register, uniqueName } from '../helpers/logins.js';
import { inspectRedis } from '../helpers/redis-inspection.js';

describe('Swagger UI in a browser', () => {
  const t = useBrowserTest();

  async function openDocs(): Promise<void> {
    await t.page.goto(`${t.url}/docs`);
    await t.page.locator('.swagger-ui .information-container').waitFor();
    await operation('admin', 'AdminController_me').waitFor();
  }

  function operation(tag: string, operationId: string): Locator {
    return t.page.locator(`#operations-${tag}-${operationId}`);
  }

  /** Expands an operation, presses "Try it out" and "Execute"; resolves with the API response. */
  async function execute(op: Locator, method: string, path: string) {
    await op.locator('.opblock-summary').first().click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    const [response] = await Promise.all([
      t.page.waitForResponse(
        (r) => r.url() === `${t.url}${path}` && r.request().method() === method,
      ),
      op.getByRole('button', { name: 'Execute' }).click(),
    ]);
    await op
      .locator('.live-responses-table .response .response-col_status')
      .first()
      .waitFor();
    return response;
  }

  async function shownStatus(op: Locator): Promise<string> {
    const status = await op
      .locator('.live-responses-table .response .response-col_status')
      .first()
      .textContent();
    return (status ?? '').trim();
  }

  async function shownBody(op: Locator): Promise<string> {
    return (
      (await op
        .locator('.live-responses-table .response-col_description pre')
        .first()
        .textContent()) ?? ''
    );
  }

  it('executes GET /admin/me with the session of a browser logged in on the login page', async () => {
    const { username } = await register(t.server, uniqueName('alice'));
    await logInOnLoginPage(t.page, t.url, username, PASSWORD);
    await openDocs();

    const me = operation('admin', 'AdminController_me');
    const response = await execute(me, 'GET', '/admin/me');
    expect(response.status()).toBe(200);
    expect(response.request().headers().authorization).toBeUndefined();
    expect(await shownStatus(me)).toBe('200');
    expect(await shownBody(me)).toContain(`"username": "${username}"`);
    await me.scrollIntoViewIfNeeded();
    await screenshot(t.page, 'swagger-ui.png');
    expect(cspViolations(t.errors)).toEqual([]);
  });

  it('authorizes with the OAuth2 password flow and executes GET /admin/me with the bearer token', async () => {
    const { username } = await register(t.server);
    await openDocs();

    await t.page
      .locator('.auth-wrapper')
      .getByRole('button', { name: 'Authorize' })
      .click();
    const dialog = t.page.locator('.modal-ux');
    const oauth2 = dialog
      .locator('.auth-container')
      .filter({ hasText: 'oauth2 (OAuth2, password)' });
    await oauth2.locator('#oauth_username').fill(username);
    await oauth2.locator('#oauth_password').fill(PASSWORD);
    const [tokenResponse] = await Promise.all([
      t.page.waitForResponse(`${t.url}/auth/token`),
      oauth2
        .getByRole('button', { name: 'Apply given OAuth2 credentials' })
        .click(),
    ]);
    expect(tokenResponse.status()).toBe(200);
    await oauth2.getByRole('heading', { name: 'Authorized' }).waitFor();
    await oauth2
      .getByRole('button', { name: 'Remove authorization' })
      .waitFor();
    await oauth2.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The token endpoint also logs the browser in; drop that session so only the token counts.
    await t.context.clearCookies();

    const me = operation('admin', 'AdminController_me');
    const response = await execute(me, 'GET', '/admin/me');
    expect(response.request().headers().authorization).toMatch(/^Bearer \S+$/);
    expect(response.status()).toBe(200);
    expect(await shownStatus(me)).toBe('200');
    expect(await shownBody(me)).toContain(`"username": "${username}"`);
    expect(cspViolations(t.errors)).toEqual([]);
  });

  it('offers the four scopes in the Authorize dialog; a token with profile only reads /admin/me and not /auth/sessions', async () => {
    const { username } = await register(t.server);
    await openDocs();

    await t.page
      .locator('.auth-wrapper')
      .getByRole('button', { name: 'Authorize' })
      .click();
    const dialog = t.page.locator('.modal-ux');
    const oauth2 = dialog
      .locator('.auth-container')
      .filter({ hasText: 'oauth2 (OAuth2, password)' });
    const scopes = oauth2.locator('.scopes .checkbox');
    await scopes.first().waitFor();
    const shown = await scopes.evaluateAll((items) =>
      items.map((item) => ({
        name: item.querySelector('.name')?.textContent ?? '',
        description: item.querySelector('.description')?.textContent ?? '',
      })),
    );
    expect(shown).toEqual(
      Object.entries(SCOPES).map(([name, description]) => ({
        name,
        description,
      })),
    );

    await oauth2.locator('#oauth_username').fill(username);
    await oauth2.locator('#oauth_password').fill(PASSWORD);
    const checkbox = (scope: string) =>
      oauth2.locator(`.scopes input[type="checkbox"][data-value="${scope}"]`);
    await oauth2
      .locator(`label[for="${await checkbox('profile').getAttribute('id')}"]`)
      .click();
    expect(await checkbox('profile').isChecked()).toBe(true);
    for (const other of ['logins', 'account', 'admin'])
      expect(await checkbox(other).isChecked()).toBe(false);
    const [tokenResponse] = await Promise.all([
      t.page.waitForResponse(`${t.url}/auth/token`),
      oauth2
        .getByRole('button', { name: 'Apply given OAuth2 credentials' })
        .click(),
    ]);
    expect(tokenResponse.status()).toBe(200);
    expect(
      new URLSearchParams(tokenResponse.request().postData() ?? '').get(
        'scope',
      ),
    ).toBe('profile');
    expect(await tokenResponse.json()).toMatchObject({ scope: 'profile' });
    await oauth2.getByRole('heading', { name: 'Authorized' }).waitFor();
    await oauth2.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The token endpoint also logs the browser in; drop that session so only the token counts.
    await t.context.clearCookies();

    const me = operation('admin', 'AdminController_me');
    const meResponse = await execute(me, 'GET', '/admin/me');
    expect(meResponse.request().headers().authorization).toMatch(
      /^Bearer \S+$/,
    );
    expect(meResponse.status()).toBe(200);
    expect(await shownStatus(me)).toBe('200');
    expect(await shownBody(me)).toContain(`"username": "${username}"`);

    const sessions = operation('auth', 'AuthController_sessions');
    const sessionsResponse = await execute(sessions, 'GET', '/auth/sessions');
    expect(sessionsResponse.request().headers().authorization).toBe(
      meResponse.request().headers().authorization,
    );
    expect(sessionsResponse.status()).toBe(403);
    expect(await sessionsResponse.headerValue('www-authenticate')).toMatch(
      /error="insufficient_scope"/,
    );
    expect(await shownStatus(sessions)).toBe('403');
    expect(cspViolations(t.errors)).toEqual([]);
  });

  it('ends the session, its cookie and its Redis key, with POST /auth/logout', async () => {
    const redis = inspectRedis();
    try {
      const { id: userId, username } = await register(t.server);
      await logInOnLoginPage(t.page, t.url, username, PASSWORD);
      const cookie = await browserSessionCookie(t.context);
      expect(cookie).toBeDefined();
      const key = sessionKeyOfCookie(cookie!);
      // Other suites may share the database, so look at this user's logins, not at every key.
      const logins = await redis.keys(redisKeys.login(userId, '*'));
      expect(logins).toHaveLength(1);
      expect(
        redisKeys.session(
          (await redis.hget(logins[0], LOGIN_FIELDS.session)) ?? '',
        ),
      ).toBe(key);
      const stored = JSON.parse((await redis.get(key)) ?? 'null') as {
        auth?: { username?: string };
      } | null;
      expect(stored?.auth?.username).toBe(username);

      await openDocs();
      const logout = operation('auth', 'AuthController_logout');
      const response = await execute(logout, 'POST', '/auth/logout');
      expect(response.status()).toBe(200);
      expect(await shownStatus(logout)).toBe('200');
      expect(await shownBody(logout)).toContain('Logged out');

      expect(await browserSessionCookie(t.context)).toBeUndefined();
      expect(await redis.exists(key)).toBe(0);
      expect(await redis.exists(logins[0])).toBe(0);
      await t.page.goto(`${t.url}/auth/login`);
      await t.page
        .getByRole('heading', { name: 'Log in', exact: true })
        .waitFor();
      expect(cspViolations(t.errors)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
