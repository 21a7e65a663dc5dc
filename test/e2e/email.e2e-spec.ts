import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { getPage, postForm } from '../helpers/browser-forms.js';
import { DatabaseInspector } from '../helpers/database.js';
import { mailAddress, removeMailOfThisFile } from '../helpers/mail.js';
import { expectEnded, login, PASSWORD, uniqueName } from '../helpers/logins.js';
import { SmtpSink, type ReceivedMail } from '../helpers/smtp-sink.js';
import { startApp, type TestApp } from '../helpers/test-app.js';

const PUBLIC_URL = 'https://auth.example.test';

/** The token of the one link of `mail` to `path`, read from its text part as a person would. */
function linkToken(mail: ReceivedMail, path: string): string {
  const text = mail.parsed.text ?? '';
  const escaped = `${PUBLIC_URL}${path}`.replace(/[.?/]/g, '\\$&');
  const match = new RegExp(`${escaped}\\?token=([A-Za-z0-9_-]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return match[1];
}

const VERIFY = '/auth/email/verify';
const UNDO = '/auth/email/undo';

describe('email addresses', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let db: DatabaseInspector;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startApp({
      MAIL_URL: sink.url(),
      PUBLIC_URL,
      LOGIN_FREE_FAILURES_PER_ACCOUNT: '2',
      LOGIN_FREE_FAILURES_PER_ADDRESS: '1000',
    });
    db = new DatabaseInspector();
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
    await db.close();
    await removeMailOfThisFile();
  });

  async function registerWith(email: string, username = uniqueName()) {
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD, email })
      .expect(201);
    return { username, id: (res.body as { id: string }).id, body: res.body };
  }

  /** The newest mail to `to` once it has `count` of them. */
  async function nthMail(to: string, count: number): Promise<ReceivedMail> {
    await sink.first(to);
    for (let i = 0; i < 100 && sink.to(to).length < count; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const all = sink.to(to);
    expect(all.length).toBeGreaterThanOrEqual(count);
    return all[count - 1];
  }

  async function registerVerified(email = mailAddress('verified')) {
    const user = await registerWith(email);
    const token = linkToken(await sink.first(email), VERIFY);
    await request(t.server).post(VERIFY).send({ token }).expect(200);
    return { ...user, email };
  }

  async function eventsOf(userId: string) {
    return db.query<{ type: string; details: Record<string, unknown> }>(
      'select type, details from security_events where user_id = $1 order by occurred_at',
      [userId],
    );
  }

  it('verifies a registered address from the mailed link: the page never uses the token, its POST does, once', async () => {
    const email = mailAddress();
    const { id, username } = await registerWith(email);
    const mail = await sink.first(email);
    expect(mail.envelopeTo).toEqual([email]);
    expect(mail.parsed.subject).toContain('Confirm your email address');
    const token = linkToken(mail, VERIFY);
    const row = await db.query<{ email: string; email_verified_at: Date }>(
      'select email, email_verified_at from users where id = $1',
      [id],
    );
    expect(row[0]).toEqual({ email, email_verified_at: null });

    for (let i = 0; i < 2; i++) {
      const page = await getPage(
        t.server,
        `${VERIFY}?token=${encodeURIComponent(token)}`,
      ).expect(200);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.text).toContain(`action="${VERIFY}"`);
      expect(page.text).toContain(`name="token" value="${token}"`);
    }
    const stored = await db.query<{ token_hash: string; ended_at: Date }>(
      "select token_hash, ended_at from account_tokens where user_id = $1 and purpose = 'verify_email'",
      [id],
    );
    expect(stored).toHaveLength(1);
    expect(stored[0].ended_at).toBeNull();
    expect(stored[0].token_hash).not.toContain(token);

    const verified = await request(t.server)
      .post(VERIFY)
      .send({ token })
      .expect(200);
    expect(verified.body.email).toBe(email);
    expect(new Date(verified.body.verifiedAt).toISOString()).toBe(
      verified.body.verifiedAt,
    );
    const again = await request(t.server)
      .post(VERIFY)
      .send({ token })
      .expect(400);
    expect(again.body.error).toBe('invalid_link');
    const dead = await getPage(t.server, `${VERIFY}?token=${token}`).expect(
      200,
    );
    expect(dead.text).not.toContain('name="token"');
    expect(dead.text).toContain('This link is not valid');

    const me = await login(t.server, username);
    const state = await request(t.server)
      .get('/auth/email')
      .set('Authorization', `Bearer ${me.accessToken}`)
      .expect(200);
    expect(state.body).toEqual({
      email,
      emailVerified: true,
      verifiedAt: verified.body.verifiedAt,
    });
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toContain('email.verified');
    const masked = events.find((e) => e.type === 'email.verified')!.details;
    expect(masked.email).toBe(`t***@example.test`);
  });

  it('answers a browser form post with a redirect to the page: done, or the error shown there', async () => {
    const email = mailAddress();
    await registerWith(email);
    const token = linkToken(await sink.first(email), VERIFY);
    const done = await postForm(t.server, VERIFY).send({ token }).expect(303);
    expect(done.headers.location).toBe(`${VERIFY}?done=verified`);
    const failed = await postForm(t.server, VERIFY).send({ token }).expect(303);
    expect(failed.headers.location).toBe(`${VERIFY}?error=invalid_link`);
    const page = await getPage(t.server, failed.headers.location).expect(200);
    expect(page.text).toContain('This link is not valid');
  });

  it('answers one 400 for an unknown, superseded or malformed token', async () => {
    const email = mailAddress();
    const { username } = await registerWith(email);
    const first = linkToken(await sink.first(email), VERIFY);
    const me = await login(t.server, username);
    await request(t.server)
      .post('/auth/email/resend')
      .set('Authorization', `Bearer ${me.accessToken}`)
      .expect(200);
    const second = linkToken(await nthMail(email, 2), VERIFY);
    expect(second).not.toBe(first);
    for (const token of [
      first,
      'A'.repeat(43),
      'abc\u0000def',
      'x'.repeat(65),
    ]) {
      const res = await request(t.server).post(VERIFY).send({ token });
      expect({ token, status: res.status }).toEqual({ token, status: 400 });
    }
    await request(t.server).post(VERIFY).send({ token: second }).expect(200);
  });

  it('logs in by a verified address (any case) but never by an unverified one', async () => {
    const verified = await registerVerified();
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: verified.email.toUpperCase(),
        password: PASSWORD,
      })
      .expect(200);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${res.body.access_token}`)
      .expect(200);
    expect(me.body.username).toBe(verified.username);

    const unverified = mailAddress('unverified');
    await registerWith(unverified);
    const refused = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: unverified,
        password: PASSWORD,
      })
      .expect(400);
    expect(refused.body.error).toBe('invalid_grant');
  });

  it('counts wrong passwords typed with the address in the account bucket of its username', async () => {
    const { email, username } = await registerVerified();
    const attempt = (name: string, password: string) =>
      request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ grant_type: 'password', username: name, password });
    expect((await attempt(email, 'wrong password 1')).status).toBe(400);
    expect(
      (await attempt(email.toUpperCase(), 'wrong password 2')).status,
    ).toBe(400);
    const throttled = await attempt(username, PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBeDefined();
  });

  it('lets two accounts claim one address; the first to verify gets it, the second gets 409', async () => {
    const email = mailAddress('shared');
    const a = await registerWith(email);
    // The same address in other letters (mail software lower-cases the domain on its way).
    const shouted = email.replace(/^[^@]+/, (local) => local.toUpperCase());
    const b = await registerWith(shouted);
    expect(Object.keys(b.body).sort()).toEqual(Object.keys(a.body).sort());
    const tokenA = linkToken(await sink.first(email), VERIFY);
    const tokenB = linkToken(await sink.first(shouted), VERIFY);
    await request(t.server).post(VERIFY).send({ token: tokenB }).expect(200);
    const lost = await request(t.server)
      .post(VERIFY)
      .send({ token: tokenA })
      .expect(409);
    expect(lost.body.error).toBe('email_taken');
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username: email, password: PASSWORD })
      .expect(200);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${res.body.access_token}`)
      .expect(200);
    expect(me.body.username).toBe(b.username);
  });

  it('answers a registration the same whether the address is verified elsewhere or free', async () => {
    const taken = await registerVerified();
    const answers = [];
    for (const email of [taken.email, mailAddress('free')]) {
      const res = await request(t.server)
        .post('/auth/register')
        .send({ username: uniqueName(), password: PASSWORD, email });
      answers.push({
        status: res.status,
        keys: Object.keys(res.body).sort(),
        type: res.headers['content-type'],
      });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0].status).toBe(201);
  });

  it('changes the address: a link to the new one, a notice with an undo link to the old one, which restores it and ends every login', async () => {
    const old = await registerVerified(mailAddress('old'));
    const me = await login(t.server, old.username);
    const other = await login(t.server, old.username);
    const bearer = { Authorization: `Bearer ${me.accessToken}` };
    const wrong = await request(t.server)
      .post('/auth/email')
      .set(bearer)
      .send({
        email: mailAddress('never'),
        currentPassword: 'not the password',
      })
      .expect(400);
    expect(wrong.body.error).toBe('wrong_password');

    const next = mailAddress('new');
    await request(t.server)
      .post('/auth/email')
      .set(bearer)
      .send({ email: next, currentPassword: PASSWORD })
      .expect(200);
    const verifyNew = linkToken(await sink.first(next), VERIFY);
    const notice = await nthMail(old.email, 2);
    expect(notice.parsed.subject).toContain('being changed');
    expect(notice.parsed.text).toContain('n***@example.test');
    const undo = linkToken(notice, UNDO);
    // The old address stays until the new one is verified.
    const before = await request(t.server)
      .get('/auth/email')
      .set(bearer)
      .expect(200);
    expect(before.body).toMatchObject({
      email: old.email,
      emailVerified: true,
    });

    await request(t.server).post(VERIFY).send({ token: verifyNew }).expect(200);
    const after = await request(t.server).get('/auth/email').set(bearer);
    expect(after.body).toMatchObject({ email: next, emailVerified: true });

    const page = await getPage(t.server, `${UNDO}?token=${undo}`).expect(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain(`name="token" value="${undo}"`);
    const undone = await request(t.server)
      .post(UNDO)
      .send({ token: undo })
      .expect(200);
    expect(undone.body.email).toBe(old.email);
    await expectEnded(t.server, me);
    await expectEnded(t.server, other);
    await request(t.server).post(UNDO).send({ token: undo }).expect(400);

    const byOld = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username: old.email, password: PASSWORD })
      .expect(200);
    const state = await request(t.server)
      .get('/auth/email')
      .set('Authorization', `Bearer ${byOld.body.access_token}`);
    expect(state.body).toMatchObject({ email: old.email, emailVerified: true });
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username: next, password: PASSWORD })
      .expect(400);
    const types = (await eventsOf(old.id)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'email.change_requested',
        'email.verified',
        'email.change_undone',
      ]),
    );
  });

  it('keeps the first undo link working through a second change', async () => {
    const old = await registerVerified(mailAddress('keep'));
    const me = await login(t.server, old.username);
    const bearer = { Authorization: `Bearer ${me.accessToken}` };
    for (const prefix of ['second', 'third'])
      await request(t.server)
        .post('/auth/email')
        .set(bearer)
        .send({ email: mailAddress(prefix), currentPassword: PASSWORD })
        .expect(200);
    const firstUndo = linkToken(await nthMail(old.email, 2), UNDO);
    await nthMail(old.email, 3);
    await request(t.server).post(UNDO).send({ token: firstUndo }).expect(200);
  });

  it('gives exactly one 200 to two verifies of one token at once, on one instance and on two', async () => {
    const second = await startApp({ MAIL_URL: sink.url(), PUBLIC_URL });
    try {
      for (const servers of [
        [t.server, t.server],
        [t.server, second.server],
      ]) {
        const email = mailAddress('race');
        await registerWith(email);
        const token = linkToken(await sink.first(email), VERIFY);
        const statuses = (
          await Promise.all(
            servers.map((server) =>
              request(server).post(VERIFY).send({ token }),
            ),
          )
        ).map((res) => res.status);
        expect(statuses.sort()).toEqual([200, 400]);
      }
    } finally {
      await second.close();
    }
  });

  it('refuses hostile addresses with 400 and never mails a second recipient', async () => {
    const injected = 'a@b.c\r\nBcc: x@y.z';
    const bodies: object[] = [
      { email: `${'a'.repeat(10_000)}@example.test` },
      { email: injected },
      { email: 'Alice <alice@example.test>' },
      { email: 'a@b.c, x@y.z' },
      { email: 42 },
    ];
    for (const extra of bodies) {
      const res = await request(t.server)
        .post('/auth/register')
        .send({ username: uniqueName(), password: PASSWORD, ...extra });
      expect({ extra, status: res.status }).toEqual({ extra, status: 400 });
      expect(res.text).not.toContain('aaaaaaaaaa');
    }
    const nested = await request(t.server)
      .post('/auth/register')
      .type('form')
      .send(`username=${uniqueName()}&password=${PASSWORD}&email[$ne]=x`);
    expect(nested.status).toBe(400);

    const { username } = await registerVerified();
    const me = await login(t.server, username);
    const change = await request(t.server)
      .post('/auth/email')
      .set('Authorization', `Bearer ${me.accessToken}`)
      .send({ email: injected, currentPassword: PASSWORD });
    expect(change.status).toBe(400);
    const token = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username: injected, password: PASSWORD });
    expect(token.status).toBe(400);
    const page = await getPage(t.server, `${VERIFY}?token=a%00b`);
    expect(page.status).toBe(200);
    expect(
      sink.received.flatMap((m) => m.envelopeTo).filter((to) => to === 'x@y.z'),
    ).toEqual([]);
  });

  it('shows the address on the account page, with a resend button while unverified, and changes it by form', async () => {
    const email = mailAddress('page');
    const { username } = await registerWith(email);
    const me = await login(t.server, username);
    const page = await getPage(t.server, '/account', me.cookie).expect(200);
    expect(page.text).toContain(email);
    expect(page.text).toContain('not verified yet');
    expect(page.text).toContain('action="/account/email/resend"');
    const resent = await postForm(t.server, '/account/email/resend', me.cookie)
      .send({})
      .expect(303);
    expect(resent.headers.location).toBe('/account?done=email_link_sent');
    await nthMail(email, 2);

    const wrong = await postForm(t.server, '/account/email', me.cookie)
      .send({ email: mailAddress('x'), currentPassword: 'wrong password!' })
      .expect(303);
    expect(wrong.headers.location).toBe(
      '/account?error=wrong_password&form=email',
    );
    const shown = await getPage(t.server, wrong.headers.location, me.cookie);
    expect(shown.text).toContain('The current password is wrong. The address');

    const next = mailAddress('page-new');
    const changed = await postForm(t.server, '/account/email', me.cookie)
      .send({ email: next, currentPassword: PASSWORD })
      .expect(303);
    expect(changed.headers.location).toBe('/account?done=email_change_sent');
    await sink.first(next);
    const now = await getPage(t.server, '/account', me.cookie);
    // An unverified address is simply replaced by the new claim.
    expect(now.text).toContain(next);
  });
});

describe('email addresses with MAIL=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ MAIL: 'off', MAIL_URL: '' });
  });
  afterAll(() => t.close());

  it('answers 404 on every email route and refuses an address at registration', async () => {
    const username = uniqueName();
    await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(201);
    const me = await login(t.server, username);
    const bearer = { Authorization: `Bearer ${me.accessToken}` };
    const answers = await Promise.all([
      request(t.server).get(`${VERIFY}?token=abc`),
      request(t.server).get(`${UNDO}?token=abc`),
      request(t.server).post(VERIFY).send({ token: 'abc' }),
      request(t.server).post(UNDO).send({ token: 'abc' }),
      request(t.server).get('/auth/email').set(bearer),
      request(t.server)
        .post('/auth/email')
        .set(bearer)
        .send({ email: 'a@example.test', currentPassword: PASSWORD }),
      request(t.server).post('/auth/email/resend').set(bearer),
    ]);
    expect(answers.map((res) => res.status)).toEqual([
      404, 404, 404, 404, 404, 404, 404,
    ]);
    const page = await getPage(t.server, '/account', me.cookie).expect(200);
    expect(page.text).not.toContain('Email address');
    const refused = await request(t.server)
      .post('/auth/register')
      .send({
        username: uniqueName(),
        password: PASSWORD,
        email: 'a@example.test',
      })
      .expect(400);
    expect(refused.body.error).toBe('validation_failed');
  });
});

describe('email addresses on the embedded PGlite', () => {
  let dir: string;
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-email-pglite-'));
    sink = await SmtpSink.start();
    t = await startApp({
      DATABASE_URL: '',
      DATABASE_DIR: join(dir, 'pglite'),
      MAIL_URL: sink.url(),
      PUBLIC_URL,
    });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies an address from its mail, once, and logs in by it', async () => {
    const email = mailAddress('pglite');
    const username = uniqueName();
    await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD, email })
      .expect(201);
    const token = linkToken(await sink.first(email), VERIFY);
    await getPage(t.server, `${VERIFY}?token=${token}`).expect(200);
    await request(t.server).post(VERIFY).send({ token }).expect(200);
    await request(t.server).post(VERIFY).send({ token }).expect(400);
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username: email, password: PASSWORD })
      .expect(200);
  });
});
