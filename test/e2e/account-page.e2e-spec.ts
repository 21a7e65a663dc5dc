import request from 'supertest';
import { getPage, postForm } from '../helpers/browser-forms.js';
import { clearsCookie, setCookies } from '../helpers/cookies.js';
import {
  expectEnded,
  expectLive,
  type LoggedIn,
  listLogins,
  login,
  PASSWORD,
  registerAndLogin,
} from '../helpers/logins.js';
import {
  bearer,
  createPersonalToken,
  listPersonalTokens,
} from '../helpers/personal-tokens.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';

const FIREFOX =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const NEW_PASSWORD = 'another long passphrase 42';

const FORM_ID_IN_PAGE = /<input type="hidden" name="formId" value="([^"]+)">/;

describe('account page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  /** A user logged in here (the page's own login) and once more from "Firefox on Windows". */
  async function userWithTwoLogins(): Promise<{
    user: LoggedIn;
    other: { cookie: string; accessToken: string; loginId: string };
  }> {
    const user = await registerAndLogin(t.server);
    const other = await login(t.server, user.username, PASSWORD, FIREFOX);
    const listed = await listLogins(t.server, 'session', other);
    const loginId = listed.find((l) => l.current)!.id;
    return { user, other: { ...other, loginId } };
  }

  describe('GET /account', () => {
    it('sends an anonymous browser to the login page', async () => {
      const res = await getPage(t.server, '/account').expect(303);
      expect(res.headers.location).toBe('/auth/login');
      expect(setCookies(res)).toEqual([]);
    });

    it('answers an anonymous API client 401 with the Bearer challenge', async () => {
      const res = await request(t.server).get('/account').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="auth"');
    });

    it('refuses a bearer token, even one with every scope: the page is for browser sessions', async () => {
      const user = await registerAndLogin(t.server);
      const res = await getPage(t.server, '/account')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .expect(403);
      expect(res.body).toMatchObject({ error: 'forbidden' });
    });

    it('refuses a personal token with every scope, on the page and on its forms', async () => {
      const user = await registerAndLogin(t.server);
      const { token } = await createPersonalToken(
        t.server,
        { Cookie: user.cookie },
        { scopes: ['profile', 'logins', 'account'] },
      );
      await getPage(t.server, '/account').set(bearer(token)).expect(403);
      const res = await request(t.server)
        .post('/account/personal-tokens')
        .set(bearer(token))
        .type('form')
        .send({
          name: 'minted by a token',
          scopes: 'profile',
          expiresInDays: '30',
          currentPassword: PASSWORD,
        })
        .expect(403);
      expect(res.body).toMatchObject({ error: 'forbidden' });
      await request(t.server)
        .post('/account/logout-all')
        .set(bearer(token))
        .expect(403);
      await expectLive(t.server, user);
      const listed = await listPersonalTokens(t.server, {
        Cookie: user.cookie,
      });
      expect(listed.map((p) => p.name)).toEqual(['test token']);
    });

    it('lists the logins with device, address and times, marks the current one, offers End, log out everywhere and a password form', async () => {
      const { user, other } = await userWithTwoLogins();
      const res = await getPage(t.server, '/account', user.cookie)
        .expect(200)
        .expect('Content-Type', /text\/html/)
        .expect('Cache-Control', 'no-store');
      expect(res.headers['content-security-policy']).toMatch(
        /script-src 'self'(;|$)/,
      );
      expect(res.headers['x-frame-options']).toBe('DENY');
      const page = res.text;
      expect(page).toContain(`Logged in as <strong>${user.username}</strong>`);
      const rows = page.match(/<tr[^>]*>\s*<td>[\s\S]*?<\/tr>/g) ?? [];
      expect(rows).toHaveLength(2);
      const [firefox] = rows.filter((r) => r.includes('Firefox on Windows'));
      expect(firefox).toContain(
        `action="/account/logins/${other.loginId}/end"`,
      );
      expect(firefox).not.toContain('this browser');
      expect(firefox).toMatch(
        /<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/,
      );
      const [current] = rows.filter((r) => r.includes('this browser'));
      // The login helper's own user agent, "jest", is no browser the page knows.
      expect(current).toMatch(/<td>jest <strong class="badge">/);
      const [listed] = (await listLogins(t.server, 'session', user)).filter(
        (l) => l.current,
      );
      expect(listed.ip).not.toBe('');
      expect(current).toContain(`<td>${listed.ip}</td>`);
      expect(page).toMatch(
        /<form method="post" action="\/account\/logout-all">/,
      );
      expect(page).toMatch(/<form method="post" action="\/account\/password">/);
      expect(page).toMatch(/<label for="current-password">/);
      expect(page).toMatch(/<label for="new-password">/);
      // No credential of either login is on the page.
      for (const secret of [
        user.accessToken,
        other.accessToken,
        decodeURIComponent(user.cookie.split('=')[1]),
      ])
        expect(page).not.toContain(secret);
    });

    it('shows recent activity in plain words, linking a live login’s row by its public id', async () => {
      const { user, other } = await userWithTwoLogins();
      const loggedIn = new RegExp(
        `<li><time datetime="[^"]+">[^<]+</time> Logged in from Firefox on Windows, 127\\.0\\.0\\.1 <a href="#login-${other.loginId}">the login</a></li>`,
      );
      let page = '';
      // Login events are written off the request path, within about a second.
      await waitUntil(async () => {
        page = (await getPage(t.server, '/account', user.cookie).expect(200))
          .text;
        return loggedIn.test(page);
      }, 'the Firefox login in Recent activity');
      expect(page).toContain(`<tr id="login-${other.loginId}">`);
      expect(page).toMatch(/Account created from 127\.0\.0\.1</);
      // Ended, its line stays and links nothing.
      await request(t.server)
        .post('/auth/logout')
        .set('Cookie', other.cookie)
        .expect(200);
      const after = (
        await getPage(t.server, '/account', user.cookie).expect(200)
      ).text;
      expect(after).not.toContain(`#login-${other.loginId}`);
      expect(after).toMatch(
        /Logged in from Firefox on Windows, 127\.0\.0\.1<\/li>/,
      );
      expect(after).not.toContain(other.cookie.split('=')[1]);
    });

    it('escapes what the user agent and the query string put on the page', async () => {
      const user = await registerAndLogin(t.server);
      await login(
        t.server,
        user.username,
        PASSWORD,
        '<script>alert(1)</script>/1',
      );
      const res = await getPage(
        t.server,
        '/account?error=%3Cscript%3E&form=password&done=__proto__',
        user.cookie,
      ).expect(200);
      expect(res.text).not.toContain('<script');
      expect(res.text).toContain('&#60;script&#62;alert');
      expect(res.text).toContain('Something went wrong. Try again.');
      expect(res.text).not.toContain('role="status"');
    });

    it('ignores an error for a form the page does not have', async () => {
      const user = await registerAndLogin(t.server);
      const res = await getPage(
        t.server,
        '/account?error=not_found&form=constructor',
        user.cookie,
      ).expect(200);
      expect(res.text).not.toContain('role="alert"');
    });

    it('serves its stylesheet publicly', async () => {
      await request(t.server)
        .get('/assets/account.css')
        .expect(200)
        .expect('Content-Type', /text\/css/);
    });
  });

  describe('ending logins', () => {
    it('ends another login from the page: its session and token are refused, this one stays', async () => {
      const { user, other } = await userWithTwoLogins();
      const res = await postForm(
        t.server,
        `/account/logins/${other.loginId}/end`,
        user.cookie,
      ).expect(303);
      expect(res.headers.location).toBe('/account?done=login_ended');
      expect(setCookies(res)).toEqual([]);
      await expectEnded(t.server, other);
      await expectLive(t.server, user);
      const page = await getPage(t.server, res.headers.location, user.cookie);
      expect(page.text).toContain('The login has ended.');
      expect(page.text).not.toContain('Firefox on Windows');
    });

    it('ending the current login logs this browser out: cookie cleared, back to the login page', async () => {
      const { user, other } = await userWithTwoLogins();
      const [current] = (await listLogins(t.server, 'session', user)).filter(
        (l) => l.current,
      );
      const res = await postForm(
        t.server,
        `/account/logins/${current.id}/end`,
        user.cookie,
      ).expect(303);
      expect(res.headers.location).toBe('/auth/login');
      expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
      await expectEnded(t.server, user);
      await expectLive(t.server, other);
    });

    it('shows "already ended" on the page for a login that is not (or no longer) the user\'s', async () => {
      const { user } = await userWithTwoLogins();
      const stranger = await registerAndLogin(t.server);
      const [strangers] = await listLogins(t.server, 'session', stranger);
      for (const id of [strangers.id, 'no-such-login', 'x'.repeat(2000)]) {
        const res = await postForm(
          t.server,
          `/account/logins/${id}/end`,
          user.cookie,
        ).expect(303);
        expect(res.headers.location).toBe(
          '/account?error=not_found&form=logins',
        );
      }
      await expectLive(t.server, stranger);
      const page = await getPage(
        t.server,
        '/account?error=not_found&form=logins',
        user.cookie,
      );
      expect(page.text).toMatch(
        /<p class="error" role="alert" id="logins-error">That login has already ended.<\/p>/,
      );
    });

    it('logs out everywhere: every login ends and this browser is sent to the login page', async () => {
      const { user, other } = await userWithTwoLogins();
      const res = await postForm(
        t.server,
        '/account/logout-all',
        user.cookie,
      ).expect(303);
      expect(res.headers.location).toBe('/auth/login');
      expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
      await expectEnded(t.server, user);
      await expectEnded(t.server, other);
    });
  });

  describe('changing the password', () => {
    it('changes it: other logins end, this one stays, the new password logs in', async () => {
      const { user, other } = await userWithTwoLogins();
      const res = await postForm(t.server, '/account/password', user.cookie)
        .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
        .expect(303);
      expect(res.headers.location).toBe('/account?done=password_changed');
      await expectEnded(t.server, other);
      await expectLive(t.server, user);
      await login(t.server, user.username, NEW_PASSWORD);
      const page = await getPage(t.server, res.headers.location, user.cookie);
      expect(page.text).toContain('Your password has been changed.');
    });

    it('shows a wrong current password on the page, never the passwords sent', async () => {
      const { user, other } = await userWithTwoLogins();
      const res = await postForm(t.server, '/account/password', user.cookie)
        .send({ currentPassword: 'not my password', newPassword: NEW_PASSWORD })
        .expect(303);
      expect(res.headers.location).toBe(
        '/account?error=wrong_password&form=password',
      );
      const page = await getPage(t.server, res.headers.location, user.cookie);
      expect(page.text).toMatch(
        /<p class="error" role="alert" id="password-error">The current password is wrong.<\/p>/,
      );
      expect(page.text).toContain('aria-describedby="password-error"');
      expect(page.text).not.toContain('not my password');
      expect(page.text).not.toContain(NEW_PASSWORD);
      await expectLive(t.server, other);
      await login(t.server, user.username, PASSWORD);
    });

    it.each([
      ['a new password that is too short', { newPassword: 'short' }],
      ['a common new password', { newPassword: 'password123' }],
      ['no current password', { currentPassword: undefined }],
      ['an unknown field', { admin: 'true' }],
    ])(
      'shows the policy on the page for %s, and answers an API client 400',
      async (_, change) => {
        const user = await registerAndLogin(t.server);
        const body = {
          currentPassword: PASSWORD,
          newPassword: NEW_PASSWORD,
          ...change,
        };
        const res = await postForm(t.server, '/account/password', user.cookie)
          .send(body)
          .expect(303);
        expect(res.headers.location).toBe(
          '/account?error=validation_failed&form=password',
        );
        const page = await getPage(t.server, res.headers.location, user.cookie);
        expect(page.text).toContain('a new password of 8-128 characters');
        const api = await request(t.server)
          .post('/account/password')
          .set('Cookie', user.cookie)
          .type('form')
          .send(body)
          .expect(400);
        expect(api.body).toMatchObject({ error: 'validation_failed' });
        await login(t.server, user.username, PASSWORD);
      },
    );

    it('refuses a bearer token on the form, whatever its scopes', async () => {
      const user = await registerAndLogin(t.server);
      await request(t.server)
        .post('/account/password')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .type('form')
        .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
        .expect(403);
      await login(t.server, user.username, PASSWORD);
    });
  });

  describe('personal tokens', () => {
    const TOKEN_IN_PAGE =
      /<input id="new-token" [^>]*value="(sbat_[0-9A-Za-z]{38})"/;

    /** Creates a token on the page; returns the answer and the secret it shows. */
    async function createOnPage(
      cookie: string,
      form: Record<string, string | string[]>,
    ): Promise<{ res: request.Response; token: string }> {
      const res = await postForm(t.server, '/account/personal-tokens', cookie)
        .send({ currentPassword: PASSWORD, expiresInDays: '30', ...form })
        .expect(200);
      const token = TOKEN_IN_PAGE.exec(res.text)?.[1];
      if (!token) throw new Error('the page shows no new token');
      return { res, token };
    }

    function revokeFormOf(page: string, name: string): string {
      const row = (page.match(/<tr>\s*<td>[\s\S]*?<\/tr>/g) ?? []).find((r) =>
        r.startsWith(`<tr>\n          <td>${name}</td>`),
      );
      const action = row && /action="([^"]+\/revoke)"/.exec(row)?.[1];
      if (!action) throw new Error(`no revoke form for ${name}`);
      return action;
    }

    it('creates a token on the page, shows its secret once in the answer itself, and the token works with its scopes only', async () => {
      const user = await registerAndLogin(t.server);
      const { res, token } = await createOnPage(user.cookie, {
        name: 'deploy script',
        scopes: 'profile',
      });
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.location).toBeUndefined();
      expect(setCookies(res)).toEqual([]);
      expect(res.text).toContain('Copy it now: it is shown only this once.');
      expect(res.text).not.toContain(PASSWORD);
      await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      await request(t.server)
        .get('/auth/sessions')
        .set('Authorization', `Bearer ${token}`)
        .expect(403);
      // Later the page lists it by name and prefix, never the secret.
      const page = await getPage(t.server, '/account', user.cookie).expect(200);
      expect(page.text).toContain('<td>deploy script</td>');
      expect(page.text).toContain(`<code>${token.slice(0, 9)}…</code>`);
      expect(page.text).not.toContain(token);
      expect(page.text).not.toContain('id="new-token"');
    });

    it('creates no second token when the same form is sent again (a reload), and says so on the page', async () => {
      const user = await registerAndLogin(t.server);
      const page = await getPage(t.server, '/account', user.cookie).expect(200);
      const formId = FORM_ID_IN_PAGE.exec(page.text)?.[1];
      expect(formId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      await createOnPage(user.cookie, {
        name: 'reloaded',
        scopes: 'profile',
        formId: formId!,
      });
      const again = await postForm(
        t.server,
        '/account/personal-tokens',
        user.cookie,
      )
        .send({
          name: 'reloaded',
          scopes: 'profile',
          expiresInDays: '30',
          currentPassword: PASSWORD,
          formId: formId!,
        })
        .expect(303);
      expect(again.headers.location).toBe(
        '/account?error=form_already_sent&form=personal-tokens',
      );
      const shown = await getPage(
        t.server,
        again.headers.location,
        user.cookie,
      ).expect(200);
      expect(shown.text).toContain('That form was sent already');
      // Each rendering brings a new id: the fresh form creates the next token.
      expect(FORM_ID_IN_PAGE.exec(shown.text)?.[1]).not.toBe(formId);
      const tokens = await listPersonalTokens(t.server, {
        Cookie: user.cookie,
      });
      expect(tokens.map((tk) => tk.name)).toEqual(['reloaded']);
    });

    it('refuses a form id that is not one, as bad input', async () => {
      const user = await registerAndLogin(t.server);
      await request(t.server)
        .post('/account/personal-tokens')
        .set('Cookie', user.cookie)
        .set('Sec-Fetch-Site', 'same-origin')
        .type('form')
        .send({
          name: 'odd',
          scopes: 'profile',
          currentPassword: PASSWORD,
          formId: 'not a form id',
        })
        .expect(400);
    });

    it('takes several scopes from ticked checkboxes', async () => {
      const user = await registerAndLogin(t.server);
      const { token } = await createOnPage(user.cookie, {
        name: 'two scopes',
        scopes: ['profile', 'logins'],
      });
      await request(t.server)
        .get('/auth/sessions')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
    });

    it('revokes a token from the page: it is refused from then on', async () => {
      const user = await registerAndLogin(t.server);
      const { token } = await createOnPage(user.cookie, {
        name: 'short-lived',
        scopes: 'profile',
      });
      const page = await getPage(t.server, '/account', user.cookie);
      const res = await postForm(
        t.server,
        revokeFormOf(page.text, 'short-lived'),
        user.cookie,
      ).expect(303);
      expect(res.headers.location).toBe('/account?done=token_revoked');
      const refused = await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${token}`)
        .expect(401);
      expect(refused.body).toMatchObject({ error: 'invalid_token' });
      const after = await getPage(t.server, res.headers.location, user.cookie);
      expect(after.text).toContain('The token has been revoked.');
      expect(after.text).toContain('You have no personal tokens.');
    });

    it('shows "already revoked" for a token that is gone, another user\'s, or no token id', async () => {
      const user = await registerAndLogin(t.server);
      const stranger = await registerAndLogin(t.server);
      const { token } = await createOnPage(stranger.cookie, {
        name: 'theirs',
        scopes: 'profile',
      });
      const theirs = revokeFormOf(
        (await getPage(t.server, '/account', stranger.cookie)).text,
        'theirs',
      );
      for (const path of [
        theirs,
        '/account/personal-tokens/3f1b8a52-6c1d-4e2f-9a7b-0c4d5e6f7a8b/revoke',
        '/account/personal-tokens/not-a-token-id/revoke',
      ]) {
        const res = await postForm(t.server, path, user.cookie).expect(303);
        expect(res.headers.location).toBe(
          '/account?error=not_found&form=personal-tokens',
        );
      }
      await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      const page = await getPage(
        t.server,
        '/account?error=not_found&form=personal-tokens',
        user.cookie,
      );
      expect(page.text).toContain('That token has already been revoked.');
    });

    it('creates nothing for a wrong current password and shows why, never the password', async () => {
      const user = await registerAndLogin(t.server);
      const res = await postForm(
        t.server,
        '/account/personal-tokens',
        user.cookie,
      )
        .send({
          name: 'nope',
          scopes: 'profile',
          expiresInDays: '30',
          currentPassword: 'not my password',
        })
        .expect(303);
      expect(res.headers.location).toBe(
        '/account?error=wrong_password&form=personal-tokens',
      );
      const page = await getPage(t.server, res.headers.location, user.cookie);
      expect(page.text).toContain(
        'The current password is wrong. No token was created.',
      );
      expect(page.text).toContain('aria-describedby="personal-tokens-error"');
      expect(page.text).not.toContain('not my password');
      expect(page.text).toContain('You have no personal tokens.');
    });

    it.each([
      ['no scope ticked', { scopes: undefined }],
      ['a blank name', { name: '   ' }],
      ['no name', { name: undefined }],
      ['an unknown scope', { scopes: 'root' }],
      [
        'the admin scope for a user without the admin role',
        { scopes: 'admin' },
      ],
      ['an expiry of 0 days', { expiresInDays: '0' }],
      ['an expiry beyond a year', { expiresInDays: '366' }],
      ['an expiry that is no number', { expiresInDays: 'forever' }],
      ['an unknown field', { owner: 'someone-else' }],
    ])(
      'shows the rules on the page for %s, and answers an API client 400',
      async (_, change) => {
        const user = await registerAndLogin(t.server);
        const body = {
          name: 'valid name',
          scopes: 'profile',
          expiresInDays: '30',
          currentPassword: PASSWORD,
          ...change,
        };
        const res = await postForm(
          t.server,
          '/account/personal-tokens',
          user.cookie,
        )
          .send(body)
          .expect(303);
        expect(res.headers.location).toBe(
          '/account?error=validation_failed&form=personal-tokens',
        );
        const page = await getPage(t.server, res.headers.location, user.cookie);
        expect(page.text).toContain('tick at least one scope');
        expect(page.text).toContain('You have no personal tokens.');
        const api = await request(t.server)
          .post('/account/personal-tokens')
          .set('Cookie', user.cookie)
          .type('form')
          .send(body)
          .expect(400);
        expect(api.body).toMatchObject({ error: 'validation_failed' });
      },
    );

    it('offers a checkbox for each scope the account may grant: no admin scope for a user', async () => {
      const user = await registerAndLogin(t.server);
      const page = await getPage(t.server, '/account', user.cookie);
      const boxes = [
        ...page.text.matchAll(
          /<input type="checkbox" id="scope-(\w+)" name="scopes"/g,
        ),
      ].map((m) => m[1]);
      expect(boxes).toEqual(['profile', 'logins', 'account']);
      for (const scope of boxes)
        expect(page.text).toMatch(new RegExp(`<label for="scope-${scope}">`));
    });
  });

  describe('CSRF and anonymous posts', () => {
    const crossSite = [
      ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
      ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }],
      ['a foreign Origin', { Origin: 'https://evil.example' }],
      ['Origin: null', { Origin: 'null' }],
    ] as const;

    it.each(crossSite)(
      'refuses every form sent from another site (%s) with a plain 403 and changes nothing',
      async (_, headers) => {
        const { user, other } = await userWithTwoLogins();
        const forms: [string, object][] = [
          [`/account/logins/${other.loginId}/end`, {}],
          [
            '/account/personal-tokens',
            {
              name: 'from elsewhere',
              scopes: 'profile',
              expiresInDays: '30',
              currentPassword: PASSWORD,
            },
          ],
          [
            '/account/personal-tokens/3f1b8a52-6c1d-4e2f-9a7b-0c4d5e6f7a8b/revoke',
            {},
          ],
          ['/account/logout-all', {}],
          [
            '/account/password',
            { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
          ],
        ];
        for (const [path, body] of forms) {
          const res = await request(t.server)
            .post(path)
            .set('Accept', 'text/html')
            .set('Cookie', user.cookie)
            .set(headers)
            .type('form')
            .send(body)
            .expect(403);
          expect(res.body).toMatchObject({ error: 'cross_site_request' });
        }
        await expectLive(t.server, user);
        await expectLive(t.server, other);
        await login(t.server, user.username, PASSWORD);
        const page = await getPage(t.server, '/account', user.cookie);
        expect(page.text).toContain('You have no personal tokens.');
      },
    );

    it('sends a form post without a live session to the login page with the reason', async () => {
      const res = await postForm(t.server, '/account/logout-all').expect(303);
      expect(res.headers.location).toBe('/auth/login?error=unauthenticated');
    });
  });

  describe('over two instances', () => {
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      [a, b] = await Promise.all([startApp(), startApp()]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });

    it('ends one login once when its End button is sent twice at once, one post to each instance', async () => {
      const { user, other } = await userWithTwoLogins();
      const path = `/account/logins/${other.loginId}/end`;
      const answers = await Promise.all([
        postForm(a.server, path, user.cookie),
        postForm(b.server, path, user.cookie),
      ]);
      const locations = answers.map((r) => `${r.status} ${r.headers.location}`);
      for (const location of locations)
        expect([
          '303 /account?done=login_ended',
          '303 /account?error=not_found&form=logins',
        ]).toContain(location);
      expect(locations).toContain('303 /account?done=login_ended');
      await expectEnded(a.server, other);
      await expectEnded(b.server, other);
      await expectLive(b.server, user);
      const logins = await listLogins(a.server, 'session', user);
      expect(logins.map((l) => l.current)).toEqual([true]);
    });

    it('creates one token when the same form is sent twice at once, one post to each instance', async () => {
      const user = await registerAndLogin(t.server);
      const page = await getPage(a.server, '/account', user.cookie).expect(200);
      const formId = FORM_ID_IN_PAGE.exec(page.text)![1];
      const send = (app: TestApp) =>
        postForm(app.server, '/account/personal-tokens', user.cookie).send({
          name: 'double click',
          scopes: 'profile',
          expiresInDays: '7',
          currentPassword: PASSWORD,
          formId,
        });
      const answers = await Promise.all([send(a), send(b)]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 303]);
      const tokens = await listPersonalTokens(a.server, {
        Cookie: user.cookie,
      });
      expect(tokens).toHaveLength(1);
    });

    it('revokes a token once when its Revoke button is sent twice at once, one post to each instance', async () => {
      const user = await registerAndLogin(t.server);
      const created = await postForm(
        a.server,
        '/account/personal-tokens',
        user.cookie,
      )
        .send({
          name: 'twice',
          scopes: 'profile',
          expiresInDays: '7',
          currentPassword: PASSWORD,
        })
        .expect(200);
      const token = /value="(sbat_[0-9A-Za-z]{38})"/.exec(created.text)![1];
      const path = /action="(\/account\/personal-tokens\/[^"]+\/revoke)"/.exec(
        created.text,
      )![1];
      // Both instances know the token (and cache it) before it is revoked.
      for (const app of [a, b])
        await request(app.server)
          .get('/admin/me')
          .set('Authorization', `Bearer ${token}`)
          .expect(200);
      const answers = await Promise.all([
        postForm(a.server, path, user.cookie),
        postForm(b.server, path, user.cookie),
      ]);
      const locations = answers.map((r) => `${r.status} ${r.headers.location}`);
      for (const location of locations)
        expect([
          '303 /account?done=token_revoked',
          '303 /account?error=not_found&form=personal-tokens',
        ]).toContain(location);
      expect(locations).toContain('303 /account?done=token_revoked');
      for (const app of [a, b])
        await request(app.server)
          .get('/admin/me')
          .set('Authorization', `Bearer ${token}`)
          .expect(401);
    });
  });
});

describe('account page behind a proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ TRUST_PROXY: '1' });
  });
  afterAll(() => t.close());

  it('shows and lists an IPv4 client of a dual-stack socket as people write it, not IPv4-mapped', async () => {
    const user = await registerAndLogin(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .set('X-Forwarded-For', '::ffff:203.0.113.9')
      .set('User-Agent', FIREFOX)
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: PASSWORD,
      })
      .expect(200);
    const token = (res.body as { access_token: string }).access_token;
    const listed = await listLogins(t.server, 'bearer', {
      cookie: '',
      accessToken: token,
    });
    expect(listed.find((l) => l.current)?.ip).toBe('203.0.113.9');
    const page = await getPage(t.server, '/account', user.cookie).expect(200);
    expect(page.text).toContain('<td>203.0.113.9</td>');
    expect(page.text).not.toContain('::ffff:');
  });
});
