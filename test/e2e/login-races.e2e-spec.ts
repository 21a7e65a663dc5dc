import { jest } from '@jest/globals';
import type { Server } from 'node:http';
import request from 'supertest';
import {
  LoginsService,
  type DraftLogin,
} from '../../src/credentials/logins.service.js';
import { PasswordHasher } from '../../src/users/password-hasher.js';
import { sessionCookie, signedCookie } from '../helpers/cookies.js';
import {
  expectEnded,
  expectLive,
  listLogins,
  LoggedIn,
  login,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';

const NEW_PASSWORD = 'a brand new passphrase for the race';

/** A password login stopped right after its password check passed, until the test lets it go on. */
interface HeldLogin {
  /** Whether the password check the login is held after passed. */
  passed: boolean;
  /** The login's answer, once released. */
  answer: Promise<request.Response>;
  release(): void;
}

/** What a login was about to issue, as `LoginsService.draft` made it. */
interface Drafted {
  loginId: string;
  cookie: string;
  accessToken: string;
  refreshToken?: string;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * Sends a password login to `t` and holds it just after its password check (the real
 * PasswordHasher's `verify`, called through): the account's login epoch has been read, the
 * password found right, and nothing of the login is written yet.
 */
async function holdLogin(t: TestApp, username: string): Promise<HeldLogin> {
  const hasher = t.app.get(PasswordHasher);
  const verify = hasher.verify.bind(hasher);
  let checked!: (valid: boolean) => void;
  const checkedOnce = new Promise<boolean>((resolve) => (checked = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  jest
    .spyOn(hasher, 'verify')
    .mockImplementationOnce(async (password, stored) => {
      const check = await verify(password, stored);
      checked(check.valid);
      await released;
      return check;
    });
  const answer = request(t.server)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'password', username, password: PASSWORD })
    .then((res) => res);
  return { passed: await checkedOnce, answer, release };
}

/** Records every login `t` drafts from now on (calling through), with the secrets it was to answer. */
function watchDrafts(t: TestApp): () => Drafted[] {
  const spy = jest.spyOn(t.app.get(LoginsService), 'draft');
  return () =>
    spy.mock.calls.map((args, i) => {
      const draft = spy.mock.results[i].value as DraftLogin;
      return {
        loginId: draft.login.loginId,
        cookie: signedCookie(args[3]),
        accessToken: draft.access.token,
        refreshToken: draft.refresh?.token,
      };
    });
}

/** The answer of a login refused because the account's logins all ended while it was checked. */
function expectRefused(res: request.Response): void {
  expect({ status: res.status, body: res.body as object }).toEqual({
    status: 400,
    body: expect.objectContaining({ error: 'invalid_grant' }),
  });
}

/** Neither the session, the access token nor the refresh token of the drafted login works. */
async function expectUnusable(
  server: Server,
  drafted: Drafted,
  answer: request.Response,
): Promise<void> {
  const cookies = [drafted.cookie, sessionCookie(answer)].filter(
    (c): c is string => c !== undefined,
  );
  for (const cookie of cookies)
    await request(server).get('/admin/me').set('Cookie', cookie).expect(401);
  await request(server)
    .get('/admin/me')
    .set(bearer(drafted.accessToken))
    .expect(401);
  const refreshed = await request(server)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: drafted.refreshToken });
  expect({ status: refreshed.status, body: refreshed.body as object }).toEqual({
    status: 400,
    body: expect.objectContaining({ error: 'invalid_grant' }),
  });
}

/** The one login `drafts` saw (the held one). */
function onlyDraft(drafts: () => Drafted[]): Drafted {
  const made = drafts();
  expect(made).toHaveLength(1);
  return made[0];
}

/**
 * A login whose password check passed just before "log out everywhere", a password change or
 * a disable ended every login of the account, and that comes to be recorded just after it:
 * the account's login epoch (read before the check, raised by the ending) refuses it.
 * Each test holds the login after its password check, ends the account's logins meanwhile,
 * then lets it go on.
 */
describe('a login racing the end of every login of its account', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let t: TestApp;
  let t2: TestApp;
  let admin: LoggedIn;

  beforeAll(async () => {
    const env = { ADMIN_USERNAME: adminName, ADMIN_PASSWORD: adminPassword };
    t = await startApp(env);
    t2 = await startApp(env);
    admin = {
      ...(await login(t.server, adminName, adminPassword)),
      userId: '',
    };
  });
  afterAll(async () => {
    await t2?.close();
    await t?.close();
  });
  afterEach(() => jest.restoreAllMocks());

  it('records a held login that nothing interleaves with', async () => {
    const user = await registerAndLogin(t.server);
    const drafts = watchDrafts(t);
    const held = await holdLogin(t, user.username);
    expect(held.passed).toBe(true);
    held.release();
    const res = await held.answer;
    expect(res.status).toBe(200);
    const drafted = onlyDraft(drafts);
    const made = {
      cookie: sessionCookie(res)!,
      accessToken: (res.body as { access_token: string }).access_token,
    };
    await expectLive(t.server, made);
    const listed = await listLogins(t.server, 'bearer', made);
    expect(listed.map((l) => l.id)).toContain(drafted.loginId);
  });

  it("records a held login while another account's logins all end", async () => {
    const user = await registerAndLogin(t.server);
    const other = await registerAndLogin(t.server);
    const held = await holdLogin(t, user.username);
    expect(held.passed).toBe(true);
    await request(t.server)
      .post('/auth/logout-all')
      .set(bearer(other.accessToken))
      .expect(200);
    held.release();
    const res = await held.answer;
    expect(res.status).toBe(200);
    await expectLive(t.server, {
      cookie: sessionCookie(res)!,
      accessToken: (res.body as { access_token: string }).access_token,
    });
  });

  it('refuses a login whose password was checked before a logout everywhere, and leaves nothing of it', async () => {
    const user = await registerAndLogin(t.server);
    const drafts = watchDrafts(t);
    const held = await holdLogin(t, user.username);
    expect(held.passed).toBe(true);
    await request(t.server)
      .post('/auth/logout-all')
      .set(bearer(user.accessToken))
      .expect(200);
    held.release();
    const res = await held.answer;
    expectRefused(res);
    await expectUnusable(t.server, onlyDraft(drafts), res);
    await expectEnded(t.server, user);
    const fresh = await login(t.server, user.username);
    const listed = await listLogins(t.server, 'bearer', fresh);
    expect(listed).toEqual([expect.objectContaining({ current: true })]);
  });

  it('refuses a login whose old password was checked before a password change, and leaves nothing of it', async () => {
    const user = await registerAndLogin(t.server);
    const drafts = watchDrafts(t);
    const held = await holdLogin(t, user.username);
    expect(held.passed).toBe(true);
    await request(t.server)
      .post('/auth/password')
      .set(bearer(user.accessToken))
      .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      .expect(200);
    held.release();
    const res = await held.answer;
    expectRefused(res);
    await expectUnusable(t.server, onlyDraft(drafts), res);
    // The login that changed the password is the only one left.
    const listed = await listLogins(t.server, 'bearer', user);
    expect(listed).toEqual([expect.objectContaining({ current: true })]);
  });

  it('refuses a login whose password was checked before an admin disabled the account, and leaves nothing of it', async () => {
    const user = await registerAndLogin(t.server);
    const drafts = watchDrafts(t);
    const held = await holdLogin(t, user.username);
    expect(held.passed).toBe(true);
    await request(t.server)
      .patch(`/admin/users/${user.userId}`)
      .set(bearer(admin.accessToken))
      .send({ disabled: true })
      .expect(200);
    held.release();
    const res = await held.answer;
    expectRefused(res);
    await expectUnusable(t.server, onlyDraft(drafts), res);
    // Enabled again, the account has no login but the next one.
    await request(t.server)
      .patch(`/admin/users/${user.userId}`)
      .set(bearer(admin.accessToken))
      .send({ disabled: false })
      .expect(200);
    const fresh = await login(t.server, user.username);
    const listed = await listLogins(t.server, 'bearer', fresh);
    expect(listed).toEqual([expect.objectContaining({ current: true })]);
  });

  it('refuses a login held on one instance when the logout everywhere ran on another', async () => {
    const user = await registerAndLogin(t2.server);
    const drafts = watchDrafts(t);
    const held = await holdLogin(t, user.username);
    expect(held.passed).toBe(true);
    await request(t2.server)
      .post('/auth/logout-all')
      .set(bearer(user.accessToken))
      .expect(200);
    held.release();
    const res = await held.answer;
    expectRefused(res);
    const drafted = onlyDraft(drafts);
    await expectUnusable(t.server, drafted, res);
    await expectUnusable(t2.server, drafted, res);
    const fresh = await login(t2.server, user.username);
    const listed = await listLogins(t.server, 'bearer', fresh);
    expect(listed).toEqual([expect.objectContaining({ current: true })]);
  });
});
