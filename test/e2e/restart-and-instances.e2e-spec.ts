import request from 'supertest';
import { clearsCookie } from '../helpers/cookies.js';
import {
  furtherToken,
  login,
  PASSWORD,
  registerAndLogin,
} from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';

describe('sessions across an app restart', () => {
  const running: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((t) => t.close()));
  });

  async function start(env: Record<string, string> = {}): Promise<TestApp> {
    const t = await startApp(env);
    running.push(t);
    return t;
  }

  async function stop(t: TestApp): Promise<void> {
    running.splice(running.indexOf(t), 1);
    await t.close();
  }

  it('keeps the cookie and the token working after a restart with the same SESSION_SECRET', async () => {
    const before = await start();
    const user = await registerAndLogin(before.server);
    await stop(before);

    const after = await start();
    const byCookie = await request(after.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(byCookie.body.username).toBe(user.username);
    const byToken = await request(after.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(200);
    expect(byToken.body.username).toBe(user.username);
  });

  it('accepts cookies signed with a previous secret still on the SESSION_SECRET list', async () => {
    const oldSecret = 'old-secret-old-secret-old-secret-0123456789';
    const before = await start({ SESSION_SECRET: oldSecret });
    const user = await registerAndLogin(before.server);
    await stop(before);

    const newSecret = 'new-secret-new-secret-new-secret-0123456789';
    const rotated = await start({
      SESSION_SECRET: `${newSecret},${oldSecret}`,
    });
    await request(rotated.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    await stop(rotated);

    const forgotten = await start({ SESSION_SECRET: newSecret });
    await request(forgotten.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
  });

  it('lets a login that was logged out before the restart stay logged out', async () => {
    const before = await start();
    const user = await registerAndLogin(before.server);
    await request(before.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    await stop(before);

    const after = await start();
    const res = await request(after.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
    expect(clearsCookie(res, after.config.sessionCookieName)).toBe(true);
    await request(after.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(401);
  });
});

describe('two app instances sharing one Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startApp();
    b = await startApp();
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('accepts on one instance the cookie and the token issued by the other', async () => {
    const user = await registerAndLogin(a.server);
    const byCookie = await request(b.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(byCookie.body.id).toBe(user.userId);
    await request(b.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(200);
  });

  it('sees on one instance a logout done on the other (session)', async () => {
    const user = await registerAndLogin(a.server);
    await request(b.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    await request(b.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    await request(a.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
    await request(a.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(401);
  });

  it('sees on one instance a logout done on the other (bearer)', async () => {
    const user = await registerAndLogin(b.server);
    await request(b.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(200);
    await request(a.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(401);
    await request(a.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
  });

  it('refuses on one instance a username registered on the other', async () => {
    const user = await registerAndLogin(a.server);
    await request(b.server)
      .post('/auth/register')
      .send({ username: user.username, password: PASSWORD })
      .expect(409);
  });

  it('lets a session from one instance get a further token on the other', async () => {
    const user = await registerAndLogin(a.server);
    const further = await furtherToken(b.server, user);
    await request(a.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${further.access_token}`)
      .expect(200);
    // A fresh login on b is visible on a as well.
    const fresh = await login(b.server, user.username);
    await request(a.server)
      .get('/admin/me')
      .set('Cookie', fresh.cookie)
      .expect(200);
  });
});

describe('two apps in one process', () => {
  it('checks bearer tokens through each app’s own store, even after the other app closed', async () => {
    const first = await startApp();
    try {
      const user = await registerAndLogin(first.server);
      const second = await startApp();
      await second.close();
      // A process-wide passport strategy would now go through the closed app's Redis client.
      await request(first.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .expect(200);
    } finally {
      await first.close();
    }
  });
});
