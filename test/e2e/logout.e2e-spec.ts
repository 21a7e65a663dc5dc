import { clearsCookie, setCookies } from '../helpers/cookies.js';
import {
  expectLive,
  furtherToken,
  login,
  registerAndLogin,
} from '../helpers/logins.js';
import { sessionKeyOf, tokenKeyOf } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import request from 'supertest';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';

describe('POST /auth/logout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  async function expectRevoked(accessToken: string) {
    const res = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${accessToken}`)
      .expect(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="auth", error="invalid_token"',
    );
  }

  it('logs out a session: 200, session key deleted, cookie cleared, cookie refused afterwards', async () => {
    const user = await registerAndLogin(t.server);
    const sessionKey = sessionKeyOf(user.cookie);
    expect(await t.redis.exists(sessionKey)).toBe(1);
    const res = await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(res.body).toEqual({ message: 'Logged out' });
    expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
    expect(await t.redis.exists(sessionKey)).toBe(0);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
  });

  it('logs out by bearer token: 200, the token and the session of that login end', async () => {
    const user = await registerAndLogin(t.server);
    const res = await request(t.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(200);
    expect(res.body).toEqual({ message: 'Logged out' });
    await expectRevoked(user.accessToken);
    expect(await t.redis.exists(tokenKeyOf(user.accessToken))).toBe(0);
    expect(await t.redis.exists(sessionKeyOf(user.cookie))).toBe(0);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
  });

  it('revokes every token of the same login when logging out by session', async () => {
    const user = await registerAndLogin(t.server);
    const second = (await furtherToken(t.server, user)).access_token;
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    await expectRevoked(user.accessToken);
    await expectRevoked(second);
    expect(await t.redis.exists(tokenKeyOf(user.accessToken))).toBe(0);
    expect(await t.redis.exists(tokenKeyOf(second))).toBe(0);
  });

  it('revokes the presented token and every other token of the same login when logging out by bearer', async () => {
    const user = await registerAndLogin(t.server);
    const second = (await furtherToken(t.server, user)).access_token;
    await request(t.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${second}`)
      .expect(200);
    await expectRevoked(second);
    await expectRevoked(user.accessToken);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
  });

  it('deletes the login record of the ended login', async () => {
    const user = await registerAndLogin(t.server);
    const [loginId] = await t.redis.zrange(
      redisKeys.logins(user.userId),
      0,
      -1,
    );
    expect(loginId).toBeDefined();
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(await t.redis.exists(redisKeys.login(user.userId, loginId))).toBe(0);
    expect(
      await t.redis.zscore(redisKeys.logins(user.userId), loginId),
    ).toBeNull();
  });

  it('leaves the other logins of the same user alone', async () => {
    const user = await registerAndLogin(t.server);
    const other = await login(t.server, user.username);
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    await expectLive(t.server, other);
  });

  it('answers 401 without credentials and sets no cookie', async () => {
    const res = await request(t.server).post('/auth/logout').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="auth"');
    expect(setCookies(res)).toEqual([]);
  });

  it('answers 401 to a second logout with the same cookie and clears it again', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    const again = await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(401);
    expect(clearsCookie(again, t.config.sessionCookieName)).toBe(true);
  });

  it('answers 401 to a second logout with the same token', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(200);
    const again = await request(t.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(401);
    expect(again.headers['www-authenticate']).toContain(
      'error="invalid_token"',
    );
  });

  it('lets the user log in again after logging out', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    const again = await login(t.server, user.username);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', again.cookie)
      .expect(200);
  });
});
