import request from 'supertest';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { PasswordResetRequests } from '../../src/login/password-reset-requests.js';
import { DatabaseInspector } from '../helpers/database.js';
import {
  login,
  madeUpAddress,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
  type LoggedIn,
} from '../helpers/logins.js';
import {
  giveVerifiedEmail,
  mailAddress,
  outboxRows,
  resetLinkIn,
} from '../helpers/mail.js';
import { bearer, createPersonalToken } from '../helpers/personal-tokens.js';
import { eventOf } from '../helpers/security-events.js';
import { SmtpSink, type ReceivedMail } from '../helpers/smtp-sink.js';
import { instanceOf, startApp, type TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/waiting.js';

const SERVICE = 'Reset Test ID';
const PUBLIC_URL = 'https://auth.example.test';
const NEW_PASSWORD = 'violet-harbour-canyon-93';
const RESET_SUBJECT = `${SERVICE}: Reset your password`;

describe('password reset', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startApp({
      MAIL_URL: sink.url(),
      SERVICE_NAME: SERVICE,
      PUBLIC_URL,
      TRUST_PROXY: '1',
    });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  /** Every request processed (its mail queued or not), and the outbox sent. */
  async function settled(app = t): Promise<void> {
    await instanceOf(app, PasswordResetRequests).idle();
  }

  function forgot(login: unknown, ip = madeUpAddress(), app = t) {
    return request(app.server)
      .post('/auth/password/forgot')
      .set('X-Forwarded-For', ip)
      .send({ login });
  }

  function resetWith(body: Record<string, unknown>, app = t) {
    return request(app.server)
      .post('/auth/password/reset')
      .set('X-Forwarded-For', madeUpAddress())
      .send(body);
  }

  /** Mails to `to` with `subject`, as received so far. */
  function mailsTo(to: string, subject = RESET_SUBJECT): ReceivedMail[] {
    return sink.to(to).filter((m) => m.parsed.subject === subject);
  }

  async function nthMail(
    to: string,
    n: number,
    subject = RESET_SUBJECT,
  ): Promise<ReceivedMail> {
    return eventually(
      async () => mailsTo(to, subject)[n - 1],
      `mail ${n} "${subject}" to ${to}`,
    );
  }

  /** No reset mail to `to` beyond `count`, once every request is processed and the outbox empty. */
  async function expectNoFurtherMail(to: string, count: number) {
    await settled();
    await eventually(
      async () => ((await outboxRows([to])).length === 0 ? true : undefined),
      `the outbox of ${to} to empty`,
    );
    expect(mailsTo(to)).toHaveLength(count);
  }

  async function accountWithEmail(): Promise<LoggedIn & { email: string }> {
    const user = await registerAndLogin(t.server);
    const email = await giveVerifiedEmail(user.userId);
    return { ...user, email };
  }

  /** The minute windows of a login and its account, as if a minute had passed. */
  async function aMinuteLater(loginName: string, userId: string) {
    await t.redis.del(
      redisKeys.passwordResetRequestsOfLogin(loginName, 'minute'),
      redisKeys.passwordResetMailsOfAccount(userId, 'minute'),
    );
  }

  async function linkFor(
    user: { username: string; email: string },
    n = 1,
  ): Promise<{ url: string; token: string }> {
    await forgot(user.username).expect(202);
    return resetLinkIn((await nthMail(user.email, n)).parsed.text);
  }

  it('resets from the mailed link: the form uses nothing, the post ends every login and logs no one in', async () => {
    const user = await accountWithEmail();
    const grant = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: PASSWORD,
      })
      .expect(200);
    const refreshToken = (grant.body as { refresh_token: string })
      .refresh_token;
    const pat = await createPersonalToken(t.server, bearer(user.accessToken), {
      name: 'ci deploy',
    });
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: 'wrong-guess-1',
      })
      .expect(400);
    const failures = redisKeys.loginFailuresOfAccount(user.username);
    expect(await t.redis.exists(failures)).toBe(1);

    const { url, token } = await linkFor(user);
    expect(url.startsWith(`${PUBLIC_URL}/auth/password/reset?token=`)).toBe(
      true,
    );
    const path = url.slice(PUBLIC_URL.length);
    for (let i = 0; i < 2; i++) {
      const page = await request(t.server).get(path).expect(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.text).toContain(
        `<input type="hidden" name="token" value="${token}">`,
      );
      expect(page.text).toContain('Personal access tokens (1)');
      expect(page.text).toContain('<li>ci deploy</li>');
      expect(page.text).toMatch(
        /<input type="checkbox" name="revokePersonalTokens" value="true" checked>/,
      );
    }

    const res = await resetWith({ token, newPassword: NEW_PASSWORD }).expect(
      200,
    );
    expect(res.body).toEqual({
      message: 'Password reset; log in with the new password',
    });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await t.redis.exists(failures)).toBe(0);

    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: PASSWORD,
      })
      .expect(400);
    await login(t.server, user.username, NEW_PASSWORD);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
    await request(t.server)
      .get('/admin/me')
      .set(bearer(user.accessToken))
      .expect(401);
    await request(t.server)
      .get('/admin/me')
      .set(bearer((grant.body as { access_token: string }).access_token))
      .expect(401);
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: refreshToken })
      .expect(400);
    await request(t.server).get('/admin/me').set(bearer(pat.token)).expect(401);

    const notice = await nthMail(
      user.email,
      1,
      `${SERVICE}: Your password was reset`,
    );
    expect(notice.parsed.text).toContain(
      'Every login of the account was ended',
    );
    expect(notice.parsed.text).toContain(
      '1 personal access token was revoked.',
    );
    expect(notice.parsed.html).not.toMatch(
      /<img|<script|https?:\/\/(?!auth\.example\.test)/,
    );
    const event = await eventOf(t, user.userId, 'password.reset');
    expect(event.details).toMatchObject({ personalTokensRevoked: 1 });
    await eventOf(t, user.userId, 'password.reset_requested');
  });

  it('keeps the personal tokens when asked to', async () => {
    const user = await accountWithEmail();
    const pat = await createPersonalToken(t.server, bearer(user.accessToken));
    const { token } = await linkFor(user);
    await resetWith({
      token,
      newPassword: NEW_PASSWORD,
      revokePersonalTokens: false,
    }).expect(200);
    await request(t.server).get('/admin/me').set(bearer(pat.token)).expect(200);
    await request(t.server)
      .get('/admin/me')
      .set(bearer(user.accessToken))
      .expect(401);
    const notice = await nthMail(
      user.email,
      1,
      `${SERVICE}: Your password was reset`,
    );
    expect(notice.parsed.text).toContain(
      'Your personal access tokens were kept.',
    );
  });

  it('answers the same for an unknown login, an account without a verified address, and one with', async () => {
    const without = await register(t.server);
    const unverified = await register(t.server);
    const claimed = mailAddress('claimed');
    const db = new DatabaseInspector();
    await db
      .query('update users set email = $1 where id = $2', [
        claimed,
        unverified.id,
      ])
      .finally(() => db.close());
    const withEmail = await accountWithEmail();
    const answers = await Promise.all(
      [
        uniqueName('nobody'),
        mailAddress('nobody'),
        without.username,
        unverified.username,
        claimed,
        withEmail.username,
      ].map((name) => forgot(name)),
    );
    for (const res of answers) {
      expect(res.status).toBe(202);
      expect(res.body).toEqual(answers[0].body);
      expect(res.headers['content-length']).toBe(
        answers[0].headers['content-length'],
      );
    }
    await nthMail(withEmail.email, 1);
    await expectNoFurtherMail(claimed, 0);
  });

  it('takes the verified address as the login too, in any case', async () => {
    const user = await accountWithEmail();
    await forgot(user.email.toUpperCase()).expect(202);
    const mail = await nthMail(user.email, 1);
    expect(mail.envelopeTo).toEqual([user.email]);
  });

  it('mails an account at most once a minute and five times an hour, saying nothing of it', async () => {
    const user = await accountWithEmail();
    await forgot(user.username).expect(202);
    await forgot(user.username).expect(202);
    await forgot(user.email).expect(202);
    await nthMail(user.email, 1);
    await expectNoFurtherMail(user.email, 1);
    for (let n = 2; n <= 6; n++) {
      await aMinuteLater(user.username, user.userId);
      const res = await forgot(user.username).expect(202);
      expect(res.body).toEqual({ message: expect.any(String) });
      if (n <= 5) await nthMail(user.email, n);
    }
    await expectNoFurtherMail(user.email, 5);
  });

  it('takes 20 requests a minute from one address; the 21st gets the same 202 and no mail', async () => {
    const user = await accountWithEmail();
    const ip = madeUpAddress();
    for (let i = 0; i < 20; i++)
      await forgot(uniqueName('spray'), ip).expect(202);
    const res = await forgot(user.username, ip).expect(202);
    expect(res.body).toEqual({ message: expect.any(String) });
    await expectNoFurtherMail(user.email, 0);
    await forgot(user.username).expect(202);
    await nthMail(user.email, 1);
  });

  it('works once: the second post of a link is the same 400 as an unknown token', async () => {
    const user = await accountWithEmail();
    const { token } = await linkFor(user);
    await resetWith({ token, newPassword: NEW_PASSWORD }).expect(200);
    const again = await resetWith({
      token,
      newPassword: 'other-long-phrase-11',
    });
    const unknown = await resetWith({
      token: 'A'.repeat(43),
      newPassword: 'other-long-phrase-11',
    });
    expect(again.status).toBe(400);
    expect(again.body).toEqual(unknown.body);
    expect(again.body).toMatchObject({ error: 'invalid_link' });
    await login(t.server, user.username, NEW_PASSWORD);
    const page = await request(t.server)
      .get(`/auth/password/reset?token=${token}`)
      .expect(200);
    expect(page.text).toContain('This link is no longer valid');
    expect(page.text).not.toContain(token);
  });

  it('ends an older link when a newer one is sent', async () => {
    const user = await accountWithEmail();
    const older = await linkFor(user);
    await aMinuteLater(user.username, user.userId);
    const newer = await linkFor(user, 2);
    expect(newer.token).not.toBe(older.token);
    await resetWith({ token: older.token, newPassword: NEW_PASSWORD }).expect(
      400,
    );
    await resetWith({ token: newer.token, newPassword: NEW_PASSWORD }).expect(
      200,
    );
  });

  it('refuses a new password outside the policy without using the link', async () => {
    const user = await accountWithEmail();
    const { token } = await linkFor(user);
    const weak = await resetWith({ token, newPassword: 'password' });
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({ error: 'validation_failed' });
    await resetWith({ token, newPassword: NEW_PASSWORD }).expect(200);
  });

  it('builds the link from PUBLIC_URL whatever Host the request names', async () => {
    const user = await accountWithEmail();
    await request(t.server)
      .post('/auth/password/forgot')
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .set('X-Forwarded-For', madeUpAddress())
      .send({ login: user.username })
      .expect(202);
    const mail = await nthMail(user.email, 1);
    expect(resetLinkIn(mail.parsed.text).url.startsWith(`${PUBLIC_URL}/`)).toBe(
      true,
    );
    expect(mail.parsed.text).not.toContain('evil.example');
    expect(mail.parsed.html).not.toContain('evil.example');
  });

  it('answers hostile input with a 202 or a 400, never a 5xx, and never mails a second recipient', async () => {
    const user = await accountWithEmail();
    const injected = `${user.email}\r\nBcc: ${mailAddress('bcc')}`;
    const attempts = [
      forgot('x'.repeat(10_000)),
      forgot({ $ne: null }),
      forgot(['a', 'b']),
      request(t.server)
        .post('/auth/password/forgot')
        .type('form')
        .send('login[$ne]=x'),
      forgot(injected),
      forgot(`${user.username}\u0000`),
      resetWith({ token: `abc\u0000def`, newPassword: NEW_PASSWORD }),
      resetWith({ token: { $ne: null }, newPassword: NEW_PASSWORD }),
      resetWith({ token: 'x'.repeat(10_000), newPassword: NEW_PASSWORD }),
      request(t.server).get('/auth/password/reset?token=a%00b'),
      request(t.server).get('/auth/password/reset?token[$ne]=x'),
    ];
    for (const res of await Promise.all(attempts)) {
      expect([200, 202, 400]).toContain(res.status);
    }
    await settled();
    expect(sink.received.filter((m) => m.envelopeTo.length !== 1)).toEqual([]);
    expect(
      sink.received.filter((m) =>
        m.envelopeTo.some((to) => to.startsWith('bcc-')),
      ),
    ).toEqual([]);
  });

  it('mails a notice to the verified address when the password is changed', async () => {
    const user = await accountWithEmail();
    await request(t.server)
      .post('/auth/password')
      .set(bearer(user.accessToken))
      .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      .expect(200);
    const notice = await nthMail(
      user.email,
      1,
      `${SERVICE}: Your password was changed`,
    );
    expect(notice.parsed.text).toContain(user.username);
    expect(notice.parsed.html).toContain(user.username);
  });

  it('mails a notice to the verified address when a personal token is created, and none without one', async () => {
    const user = await accountWithEmail();
    const created = await createPersonalToken(
      t.server,
      bearer(user.accessToken),
      { name: 'nightly backup' },
    );
    const notice = await nthMail(
      user.email,
      1,
      `${SERVICE}: A personal access token was created`,
    );
    expect(notice.parsed.text).toContain('"nightly backup"');
    expect(notice.parsed.text).toContain(created.token.slice(0, 9));
    expect(notice.parsed.text).not.toContain(created.token);
    const without = await registerAndLogin(t.server);
    await createPersonalToken(t.server, bearer(without.accessToken));
  });

  it('shows the forgot page from the login page, with one answer for any login', async () => {
    const loginPage = await request(t.server).get('/auth/login').expect(200);
    expect(loginPage.text).toContain(
      '<a href="/auth/password/forgot">Forgot your password?</a>',
    );
    const page = await request(t.server)
      .get('/auth/password/forgot')
      .expect(200);
    expect(page.text).toContain('name="login"');
    const posted = await request(t.server)
      .post('/auth/password/forgot')
      .set('Accept', 'text/html')
      .set('X-Forwarded-For', madeUpAddress())
      .type('form')
      .send({ login: uniqueName('nobody') })
      .expect(303);
    expect(posted.headers.location).toBe('/auth/password/forgot?sent=1');
    const sent = await request(t.server)
      .get(posted.headers.location)
      .expect(200);
    expect(sent.text).toContain('If an account matches, we sent a link');
  });

  describe('over two instances', () => {
    let other: TestApp;
    beforeAll(async () => {
      other = await startApp({
        MAIL_URL: sink.url(),
        SERVICE_NAME: SERVICE,
        PUBLIC_URL,
        TRUST_PROXY: '1',
        PASSWORD_RESET_TTL_SECONDS: '2',
      });
    });
    afterAll(async () => {
      await other?.close();
    });

    it('lets exactly one of two simultaneous posts of one link through', async () => {
      const user = await accountWithEmail();
      const { token } = await linkFor(user);
      const answers = await Promise.all([
        resetWith({ token, newPassword: NEW_PASSWORD }),
        resetWith({ token, newPassword: 'second-long-phrase-22' }, other),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
      const winner =
        answers[0].status === 200 ? NEW_PASSWORD : 'second-long-phrase-22';
      await login(t.server, user.username, winner);
    });

    it('refuses a link once PASSWORD_RESET_TTL_SECONDS have passed', async () => {
      const user = await accountWithEmail();
      await forgot(user.username, madeUpAddress(), other).expect(202);
      const { token } = resetLinkIn((await nthMail(user.email, 1)).parsed.text);
      await eventually(async () => {
        const page = await request(other.server).get(
          `/auth/password/reset?token=${token}`,
        );
        return page.text.includes('This link is no longer valid')
          ? true
          : undefined;
      }, 'the link to expire');
      await resetWith({ token, newPassword: NEW_PASSWORD }, other).expect(400);
      await login(t.server, user.username, PASSWORD);
    });
  });
});

describe('password reset with MAIL=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ MAIL: 'off', MAIL_URL: '' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 404 on every reset route and shows no link on the login page', async () => {
    await request(t.server).get('/auth/password/forgot').expect(404);
    await request(t.server).get('/auth/password/reset?token=abc').expect(404);
    await request(t.server)
      .post('/auth/password/forgot')
      .send({ login: 'alice' })
      .expect(404);
    await request(t.server)
      .post('/auth/password/reset')
      .send({ token: 'abc', newPassword: NEW_PASSWORD })
      .expect(404);
    const page = await request(t.server).get('/auth/login').expect(200);
    expect(page.text).not.toContain('Forgot your password?');
  });
});
