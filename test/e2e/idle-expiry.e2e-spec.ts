import request from 'supertest';
import { clearsCookie } from '../helpers/cookies.js';
import { registerAndLogin } from '../helpers/logins.js';
import { sessionKeyOf, tokenKeyOf } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { sleep, waitUntil } from '../helpers/waiting.js';

const IDLE_SECONDS = 2;

describe('session idle expiry (SESSION_IDLE_SECONDS=2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ SESSION_IDLE_SECONDS: String(IDLE_SECONDS) });
  });
  afterAll(() => t.close());

  it('caps the session TTL at the idle timeout', async () => {
    const user = await registerAndLogin(t.server);
    const ttl = await t.redis.pttl(sessionKeyOf(user.cookie));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(IDLE_SECONDS * 1000);
  });

  it('slides the TTL on activity: a request restores the full idle timeout', async () => {
    const user = await registerAndLogin(t.server);
    const key = sessionKeyOf(user.cookie);
    // Let the TTL run down to well under half the idle timeout, then use the session.
    await waitUntil(
      async () => (await t.redis.pttl(key)) < (IDLE_SECONDS * 1000) / 2,
      'session TTL to fall below half the idle timeout',
    );
    const before = await t.redis.pttl(key);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    const after = await t.redis.pttl(key);
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThanOrEqual(IDLE_SECONDS * 1000);
  });

  it('keeps an active session alive well past the idle timeout', async () => {
    const user = await registerAndLogin(t.server);
    const key = sessionKeyOf(user.cookie);
    // Six requests spaced under the idle timeout span about twice the timeout in all. The
    // sleeps are the point: time has to pass between the requests.
    for (let i = 0; i < 6; i++) {
      await sleep(700);
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(200);
    }
    expect(await t.redis.exists(key)).toBe(1);
  });

  it('ends a session left idle past the timeout: 401 and the cookie is cleared', async () => {
    const user = await registerAndLogin(t.server);
    const key = sessionKeyOf(user.cookie);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    await waitUntil(
      async () => (await t.redis.exists(key)) === 0,
      'the idle session key to expire',
    );
    const res = await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
    expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
    // The expired session does not come back on a later request either.
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
  });

  it('does not bring an expired session back when its cookie visits the login page', async () => {
    const user = await registerAndLogin(t.server);
    const key = sessionKeyOf(user.cookie);
    await waitUntil(
      async () => (await t.redis.exists(key)) === 0,
      'the idle session key to expire',
    );
    const page = await request(t.server)
      .get('/')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(page.text).not.toContain('Logged in as');
    expect(await t.redis.exists(key)).toBe(0);
  });
});

describe('absolute session deadline (SESSION_ABSOLUTE_SECONDS=3)', () => {
  const ABSOLUTE_SECONDS = 3;
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      SESSION_IDLE_SECONDS: '600',
      SESSION_ABSOLUTE_SECONDS: String(ABSOLUTE_SECONDS),
      // The refresh tokens, which outlive the session by default, end with it here.
      REFRESH_TOKEN_ABSOLUTE_SECONDS: String(ABSOLUTE_SECONDS),
    });
  });
  afterAll(() => t.close());

  it('caps the session TTL and the token lifetime at the login deadline', async () => {
    const user = await registerAndLogin(t.server);
    const sessionTtl = await t.redis.pttl(sessionKeyOf(user.cookie));
    expect(sessionTtl).toBeGreaterThan(0);
    expect(sessionTtl).toBeLessThanOrEqual(ABSOLUTE_SECONDS * 1000);
    const tokenTtl = await t.redis.pttl(tokenKeyOf(user.accessToken));
    expect(tokenTtl).toBeGreaterThan(0);
    expect(tokenTtl).toBeLessThanOrEqual(ABSOLUTE_SECONDS * 1000);
  });

  it('ends a session at its deadline however active it is, and its tokens with it', async () => {
    const user = await registerAndLogin(t.server);
    const key = sessionKeyOf(user.cookie);
    // Keep using the session: activity must not carry it past the deadline.
    await waitUntil(async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie);
      return res.status === 401;
    }, 'the session to reach its absolute deadline');
    expect(await t.redis.exists(key)).toBe(0);
    await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(401);
  });
});
