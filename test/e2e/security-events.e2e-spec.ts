import type { LoggerService } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { hashSecret } from '../../src/credentials/secret-hash.js';
import { SecurityEvents } from '../../src/events/security-events.js';
import { Database } from '../../src/infra/db/database.js';
import { users } from '../../src/infra/db/schema.js';
import { AppLogger } from '../../src/infra/logging/app-logger.js';
import { sessionCookie, sessionIdOf } from '../helpers/cookies.js';
import { DatabaseInspector } from '../helpers/database.js';
import {
  LoggedIn,
  login,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { bearer, createPersonalToken } from '../helpers/personal-tokens.js';
import {
  eventOf,
  eventsOf,
  eventsSince,
  metricOf,
  typesOf,
  waitForEmptyBuffer,
} from '../helpers/security-events.js';
import { instanceOf, startApp, TestApp } from '../helpers/test-app.js';

const pgliteDir = mkdtempSync(join(tmpdir(), 'auth-events-'));
afterAll(() => rmSync(pgliteDir, { recursive: true, force: true }));

const DATABASES: [string, () => Record<string, string>][] = [
  ['PostgreSQL', () => ({})],
  [
    'PGlite',
    () => ({ DATABASE_URL: '', DATABASE_DIR: join(pgliteDir, 'pglite') }),
  ],
];

const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$|^::1$/;
const NEW_PASSWORD = 'a brand new plum orbit tundra phrase';
/** No test here needs more personal tokens for one account. */
const TOKEN_CAP = 2;

interface PasswordGrant {
  access_token: string;
  refresh_token: string;
}

function passwordGrant(t: TestApp, username: string, password = PASSWORD) {
  return request(t.server)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'password', username, password });
}

function refreshGrant(t: TestApp, refreshToken: string) {
  return request(t.server)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken });
}

/** The caller's current login id, as GET /auth/sessions marks it. */
async function currentLoginId(t: TestApp, cookie: string): Promise<string> {
  const res = await request(t.server)
    .get('/auth/sessions')
    .set('Cookie', cookie)
    .expect(200);
  return (res.body as { id: string; current: boolean }[]).find(
    (l) => l.current,
  )!.id;
}

describe.each(DATABASES)('security events on %s', (_name, env) => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let t: TestApp;
  let admin: LoggedIn;

  beforeAll(async () => {
    t = await startApp({
      ...env(),
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
      REFRESH_REUSE_GRACE_SECONDS: '0',
      LOGIN_FREE_FAILURES_PER_ACCOUNT: '3',
      PERSONAL_TOKENS_PER_USER: String(TOKEN_CAP),
    });
    const session = await login(t.server, adminName, adminPassword);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Cookie', session.cookie)
      .expect(200);
    admin = { ...session, userId: (me.body as { id: string }).id };
  });
  afterAll(async () => {
    await t?.close();
  });

  const asAdmin = (method: 'patch' | 'delete', path: string) =>
    request(t.server)[method](path).set(bearer(admin.accessToken));

  it('account.registered: by POST /auth/register, in the same statement as the account', async () => {
    const started = new Date();
    const username = uniqueName();
    const res = await request(t.server)
      .post('/auth/register')
      .set('User-Agent', 'events-test/1.0')
      .send({ username, password: PASSWORD })
      .expect(201);
    const id = (res.body as { id: string }).id;
    // No wait: it was committed with the account.
    expect(await eventsOf(t, id)).toEqual([
      {
        id: expect.any(String),
        occurredAt: expect.any(Date),
        type: 'account.registered',
        userId: id,
        actorId: null,
        ip: expect.stringMatching(LOOPBACK),
        userAgent: 'events-test/1.0',
        loginId: null,
        details: { roles: ['user'] },
        count: 1,
      },
    ]);
    // A taken name: neither an account nor an event.
    await request(t.server)
      .post('/auth/register')
      .send({ username: username.toUpperCase(), password: PASSWORD })
      .expect(409);
    const registered = (await eventsSince(t, started)).filter(
      (e) => e.type === 'account.registered',
    );
    expect(registered.map((e) => e.userId)).toEqual([id]);
  });

  it('login.succeeded: by a password login, naming the login it made', async () => {
    const user = await register(t.server);
    const res = await passwordGrant(t, user.username)
      .set('User-Agent', 'events-login/2.0')
      .expect(200);
    const loginId = await currentLoginId(t, sessionCookie(res)!);
    const event = await eventOf(t, user.id, 'login.succeeded');
    expect(event).toMatchObject({
      userId: user.id,
      actorId: null,
      loginId,
      userAgent: 'events-login/2.0',
      ip: expect.stringMatching(LOOPBACK),
      details: { scope: 'profile logins account' },
    });
    expect(await typesOf(t, user.id)).toEqual([
      'account.registered',
      'login.succeeded',
    ]);
  });

  it('login.failed: by a wrong password for an existing account, and by a wrong current password', async () => {
    const user = await registerAndLogin(t.server);
    await passwordGrant(t, user.username, 'not the password at all').expect(
      400,
    );
    const failed = await eventOf(t, user.userId, 'login.failed');
    expect(failed).toMatchObject({ loginId: null, details: {} });
    const loginId = await currentLoginId(t, user.cookie);
    await request(t.server)
      .post('/auth/password')
      .set(bearer(user.accessToken))
      .send({ currentPassword: 'not it either', newPassword: NEW_PASSWORD })
      .expect(400);
    const reauth = await eventOf(
      t,
      user.userId,
      'login.failed',
      (e) => e.details.reauthentication === true,
    );
    expect(reauth.loginId).toBe(loginId);
    expect(await typesOf(t, user.userId)).toEqual([
      'account.registered',
      'login.succeeded',
      'login.failed',
      'login.failed',
    ]);
  });

  it('stores nothing of failed or throttled logins for a name of no account, and counts them', async () => {
    const started = new Date();
    const typed = uniqueName('nobody');
    const counted = () =>
      metricOf(t, 'auth_logins_total', { outcome: 'invalid_credentials' });
    const before = await counted();
    for (let i = 0; i < 3; i++)
      await passwordGrant(t, typed, 'guess number one').expect(400);
    // The account bucket of the typed name is throttled now.
    await passwordGrant(t, typed, 'guess number two').expect(429);
    expect((await counted()) - before).toBe(3);
    // A later event of a real account is written after those would have been.
    const user = await registerAndLogin(t.server);
    await eventOf(t, user.userId, 'login.succeeded');
    await waitForEmptyBuffer(t);
    const since = await eventsSince(t, started);
    expect(JSON.stringify(since)).not.toContain(typed);
    expect(since.filter((e) => e.userId === null)).toEqual([]);
  });

  it('login.throttled: refused attempts of an account fold into one row per minute, with their count', async () => {
    const user = await register(t.server);
    for (let i = 0; i < 3; i++)
      await passwordGrant(t, user.username, 'wrong guess').expect(400);
    for (let i = 0; i < 4; i++)
      await passwordGrant(t, user.username.toUpperCase(), PASSWORD)
        .set('User-Agent', 'brute/0.1')
        .expect(429);
    await eventOf(t, user.id, 'login.throttled');
    await waitForEmptyBuffer(t);
    const throttled = (await eventsOf(t, user.id)).filter(
      (e) => e.type === 'login.throttled',
    );
    // Four attempts in a row: one minute, or two when they straddle one.
    expect(throttled.length).toBeLessThanOrEqual(2);
    expect(throttled.reduce((sum, e) => sum + e.count, 0)).toBe(4);
    expect(throttled[0]).toMatchObject({
      userId: user.id,
      userAgent: 'brute/0.1',
      ip: expect.stringMatching(LOOPBACK),
    });
  });

  it('login.ended: by its owner ending one login, or by revoking its refresh token', async () => {
    const user = await register(t.server);
    const first = await passwordGrant(t, user.username).expect(200);
    const second = await passwordGrant(t, user.username).expect(200);
    const firstCookie = sessionCookie(first)!;
    const from = await currentLoginId(t, firstCookie);
    const ended = await currentLoginId(t, sessionCookie(second)!);
    await request(t.server)
      .delete(`/auth/sessions/${ended}`)
      .set('Cookie', firstCookie)
      .expect(204);
    const event = await eventOf(t, user.id, 'login.ended');
    expect(event).toMatchObject({
      loginId: ended,
      actorId: null,
      details: { by: 'owner', from },
    });
    await request(t.server)
      .post('/auth/revoke')
      .type('form')
      .send({ token: (first.body as PasswordGrant).refresh_token })
      .expect(200);
    const revoked = await eventOf(
      t,
      user.id,
      'login.ended',
      (e) => e.details.by === 'revocation',
    );
    expect(revoked.loginId).toBe(from);
  });

  it('logout: by POST /auth/logout, naming the login', async () => {
    const user = await registerAndLogin(t.server);
    const loginId = await currentLoginId(t, user.cookie);
    await request(t.server)
      .post('/auth/logout')
      .set(bearer(user.accessToken))
      .expect(200);
    expect(await eventOf(t, user.userId, 'logout')).toMatchObject({
      loginId,
      details: {},
    });
    expect(await typesOf(t, user.userId)).toEqual([
      'account.registered',
      'login.succeeded',
      'logout',
    ]);
  });

  it('logout_all: by POST /auth/logout-all, with how many logins ended', async () => {
    const user = await registerAndLogin(t.server);
    await login(t.server, user.username);
    await request(t.server)
      .post('/auth/logout-all')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(await eventOf(t, user.userId, 'logout_all')).toMatchObject({
      details: { logins: 2 },
    });
  });

  it('refresh.reuse_detected: by presenting a rotated refresh token again', async () => {
    const user = await register(t.server);
    const grant = (await passwordGrant(t, user.username).expect(200))
      .body as PasswordGrant;
    await refreshGrant(t, grant.refresh_token).expect(200);
    const loginId = (await eventOf(t, user.id, 'login.succeeded')).loginId;
    await refreshGrant(t, grant.refresh_token).expect(400);
    const event = await eventOf(t, user.id, 'refresh.reuse_detected');
    expect(event.loginId).toBe(loginId);
    expect(await typesOf(t, user.id)).toEqual([
      'account.registered',
      'login.succeeded',
      'refresh.reuse_detected',
    ]);
  });

  it('password.changed: by POST /auth/password, committed with the new password', async () => {
    const user = await registerAndLogin(t.server);
    const loginId = await currentLoginId(t, user.cookie);
    await request(t.server)
      .post('/auth/password')
      .set('Cookie', user.cookie)
      .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      .expect(200);
    const changed = (await eventsOf(t, user.userId)).filter(
      (e) => e.type === 'password.changed',
    );
    expect(changed).toEqual([
      expect.objectContaining({ loginId, actorId: null, details: {} }),
    ]);
  });

  it('personal_token.created and personal_token.revoked: by the owner, with the token id, shown prefix and name', async () => {
    const user = await registerAndLogin(t.server);
    const created = await createPersonalToken(
      t.server,
      bearer(user.accessToken),
      { name: 'deploy script', scopes: ['profile'] },
    );
    const details = {
      tokenId: created.id,
      prefix: created.token.slice(0, 9),
      name: 'deploy script',
    };
    expect(
      (await eventsOf(t, user.userId)).find(
        (e) => e.type === 'personal_token.created',
      ),
    ).toMatchObject({
      details: {
        ...details,
        scopes: ['profile'],
        expiresAt: created.expiresAt,
      },
    });
    await request(t.server)
      .delete(`/auth/personal-tokens/${created.id}`)
      .set(bearer(user.accessToken))
      .expect(204);
    expect(
      (await eventsOf(t, user.userId)).find(
        (e) => e.type === 'personal_token.revoked',
      ),
    ).toMatchObject({ actorId: null, details: { ...details, by: 'owner' } });
  });

  it('personal_token.revoked: by an admin and by the revocation endpoint, naming who', async () => {
    const user = await registerAndLogin(t.server);
    const auth = bearer(user.accessToken);
    const one = await createPersonalToken(t.server, auth, { name: 'one' });
    const two = await createPersonalToken(t.server, auth, { name: 'two' });
    await asAdmin(
      'delete',
      `/admin/users/${user.userId}/personal-tokens/${one.id}`,
    ).expect(204);
    await request(t.server)
      .post('/auth/revoke')
      .type('form')
      .send({ token: two.token })
      .expect(200);
    const revoked = (await eventsOf(t, user.userId))
      .filter((e) => e.type === 'personal_token.revoked')
      .map((e) => [e.details.tokenId, e.details.by, e.actorId]);
    expect(revoked.reverse()).toEqual([
      [one.id, 'admin', admin.userId],
      [two.id, 'revocation_endpoint', null],
    ]);
  });

  it('writes no personal_token.created for a create refused by the cap', async () => {
    const user = await registerAndLogin(t.server);
    for (let i = 0; i < TOKEN_CAP; i++)
      await createPersonalToken(t.server, bearer(user.accessToken));
    await request(t.server)
      .post('/auth/personal-tokens')
      .set(bearer(user.accessToken))
      .send({
        name: 'one more',
        scopes: ['profile'],
        currentPassword: PASSWORD,
      })
      .expect(400);
    expect(
      (await eventsOf(t, user.userId)).filter(
        (e) => e.type === 'personal_token.created',
      ),
    ).toHaveLength(TOKEN_CAP);
  });

  it('admin.roles_changed: by PATCH /admin/users/:id, old and new roles, the admin as actor, once', async () => {
    const user = await register(t.server);
    for (let i = 0; i < 2; i++)
      await asAdmin('patch', `/admin/users/${user.id}`)
        .set('User-Agent', 'admin-console')
        .send({ roles: ['user', 'admin'] })
        .expect(200);
    const changed = (await eventsOf(t, user.id)).filter(
      (e) => e.type === 'admin.roles_changed',
    );
    // The repeated request changed nothing, so it recorded nothing.
    expect(changed).toEqual([
      expect.objectContaining({
        actorId: admin.userId,
        userAgent: 'admin-console',
        loginId: null,
        details: { old: ['user'], new: ['user', 'admin'] },
      }),
    ]);
  });

  it('admin.account_disabled and admin.account_enabled: by PATCH /admin/users/:id; disabling revokes the tokens with events of their own', async () => {
    const user = await registerAndLogin(t.server);
    const token = await createPersonalToken(t.server, bearer(user.accessToken));
    await asAdmin('patch', `/admin/users/${user.userId}`)
      .send({ disabled: true })
      .expect(200);
    await asAdmin('patch', `/admin/users/${user.userId}`)
      .send({ disabled: false })
      .expect(200);
    await eventOf(t, user.userId, 'login.succeeded');
    const events = (await eventsOf(t, user.userId)).reverse();
    expect(events.map((e) => e.type)).toEqual([
      'account.registered',
      'login.succeeded',
      'personal_token.created',
      'personal_token.revoked',
      'admin.account_disabled',
      'admin.account_enabled',
    ]);
    expect(events.slice(3).map((e) => e.actorId)).toEqual([
      admin.userId,
      admin.userId,
      admin.userId,
    ]);
    expect(events[3].details).toMatchObject({
      tokenId: token.id,
      by: 'account_disabled',
    });
    // Nothing for a user that does not exist.
    const started = new Date();
    await asAdmin('patch', '/admin/users/00000000-0000-4000-8000-000000000000')
      .send({ disabled: true })
      .expect(404);
    expect(
      (await eventsSince(t, started)).filter((e) =>
        e.type.startsWith('admin.'),
      ),
    ).toEqual([]);
  });

  it('admin.logins_ended: by DELETE /admin/users/:id/sessions, with how many', async () => {
    const user = await registerAndLogin(t.server);
    await asAdmin('delete', `/admin/users/${user.userId}/sessions`).expect(200);
    expect(await eventOf(t, user.userId, 'admin.logins_ended')).toMatchObject({
      actorId: admin.userId,
      details: { logins: 1 },
    });
  });

  it('writes no event for authenticated reads', async () => {
    const user = await registerAndLogin(t.server);
    await eventOf(t, user.userId, 'login.succeeded');
    for (let i = 0; i < 10; i++) {
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(200);
      await request(t.server)
        .get('/auth/sessions')
        .set(bearer(user.accessToken))
        .expect(200);
    }
    // Batches are written in order: once the logout's row is there, any earlier one would be.
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    await eventOf(t, user.userId, 'logout');
    expect(await typesOf(t, user.userId)).toEqual([
      'account.registered',
      'login.succeeded',
      'logout',
    ]);
  });

  it('stores no password, token, session id, cookie or hash, after a full flow', async () => {
    const started = new Date();
    const user = await register(t.server);
    const first = (await passwordGrant(t, user.username).expect(200))
      .body as PasswordGrant;
    const refreshed = (await refreshGrant(t, first.refresh_token).expect(200))
      .body as PasswordGrant;
    // The rotated refresh token presented again: a reuse, and that login ends.
    await refreshGrant(t, first.refresh_token).expect(400);
    const second = await passwordGrant(t, user.username).expect(200);
    const cookie = sessionCookie(second)!;
    const secondTokens = second.body as PasswordGrant;
    const pat = await createPersonalToken(
      t.server,
      bearer(secondTokens.access_token),
      { scopes: ['profile', 'account'] },
    );
    await request(t.server).get('/admin/me').set(bearer(pat.token)).expect(200);
    await request(t.server)
      .post('/auth/password')
      .set('Cookie', cookie)
      .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      .expect(200);
    await request(t.server)
      .delete(`/auth/personal-tokens/${pat.id}`)
      .set(bearer(pat.token))
      .expect(204);
    await eventOf(t, user.id, 'refresh.reuse_detected');
    await waitForEmptyBuffer(t);

    const [row] = await instanceOf(t, Database)
      .db.select({ hash: users.passwordHash })
      .from(users)
      .where(eq(users.id, user.id));
    const tokens = [
      first.access_token,
      first.refresh_token,
      refreshed.access_token,
      refreshed.refresh_token,
      secondTokens.access_token,
      secondTokens.refresh_token,
      pat.token,
      sessionIdOf(cookie),
    ];
    const secrets = [
      PASSWORD,
      NEW_PASSWORD,
      ...tokens,
      ...tokens.map(hashSecret),
      // One character more than the prefix a listing shows.
      pat.token.slice(0, 10),
      cookie,
      cookie.slice(cookie.indexOf('=') + 1),
      row.hash,
    ];
    const stored = await eventsSince(t, started);
    expect(stored.map((e) => e.type).sort()).toEqual(
      [
        'account.registered',
        'login.succeeded',
        'refresh.reuse_detected',
        'login.succeeded',
        'personal_token.created',
        'password.changed',
        'personal_token.revoked',
      ].sort(),
    );
    const texts = [JSON.stringify(stored)];
    if (t.config.database.kind === 'postgres') {
      // Every column, as PostgreSQL holds it.
      const db = new DatabaseInspector();
      try {
        const raw = await db.query<{ row: string }>(
          'select row_to_json(e)::text as row from security_events e where occurred_at >= $1',
          [started],
        );
        expect(raw).toHaveLength(stored.length);
        texts.push(...raw.map((r) => r.row));
      } finally {
        await db.close();
      }
    }
    for (const text of texts)
      for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('logs each event as one structured line: event, user, ip, and no secret', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture: LoggerService = {
      log: (message: unknown) => {
        if (typeof message === 'object' && message !== null)
          lines.push(message as Record<string, unknown>);
      },
      warn: () => undefined,
      error: () => undefined,
    };
    t.app.useLogger(capture);
    try {
      const user = await register(t.server);
      const grant = (await passwordGrant(t, user.username).expect(200))
        .body as PasswordGrant;
      const ofUser = lines.filter((l) => l.user === user.id);
      expect(ofUser.map((l) => l.event)).toEqual([
        'account.registered',
        'login.succeeded',
      ]);
      for (const line of ofUser) {
        expect(line).toMatchObject({
          msg: 'security event',
          ip: expect.stringMatching(LOOPBACK),
        });
        const text = JSON.stringify(line);
        for (const secret of [
          PASSWORD,
          grant.access_token,
          grant.refresh_token,
        ])
          expect(text).not.toContain(secret);
      }
    } finally {
      t.app.useLogger(t.app.get(AppLogger));
    }
  });
});

describe('SECURITY_EVENTS=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ SECURITY_EVENTS: 'off' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('records nothing: no row with the account, none queued by a login', async () => {
    const user = await registerAndLogin(t.server);
    expect(await eventsOf(t, user.userId)).toEqual([]);
    expect(instanceOf(t, SecurityEvents).depth).toBe(0);
  });
});
