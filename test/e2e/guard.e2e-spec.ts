import request from 'supertest';
import {
  clearsCookie,
  forgedSessionCookie,
  setCookies,
  unknownSessionCookie,
} from '../helpers/cookies.js';
import { LoggedIn, PASSWORD, registerAndLogin } from '../helpers/logins.js';
import { sessionKeyOf } from '../helpers/redis-inspection.js';
import { call } from '../helpers/routes.js';
import { startApp, TestApp } from '../helpers/test-app.js';

const CHALLENGE = 'Bearer realm="auth"';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="auth", error="invalid_token"';

describe('the global guard', () => {
  let t: TestApp;
  let alice: LoggedIn;
  let bob: LoggedIn;
  beforeAll(async () => {
    t = await startApp();
    alice = await registerAndLogin(t.server);
    bob = await registerAndLogin(t.server);
  });
  afterAll(() => t.close());

  describe('default deny', () => {
    it.each([
      ['GET', '/admin/me'],
      ['POST', '/auth/logout'],
      ['GET', '/auth/sessions'],
    ])(
      'answers %s %s without credentials with 401 and a bare Bearer challenge',
      async (method, path) => {
        const res = await call(t.server, method, path).expect(401);
        expect(res.headers['www-authenticate']).toBe(CHALLENGE);
        expect(res.body).toEqual({
          statusCode: 401,
          error: 'unauthenticated',
          message: expect.any(String),
        });
      },
    );

    it('answers an unknown path with a plain 404 and no cookie', async () => {
      const res = await request(t.server).get('/no/such/route').expect(404);
      expect(setCookies(res)).toEqual([]);
    });
  });

  describe('bearer tokens', () => {
    it('adds error="invalid_token" for a well-formed but unknown token', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${'A'.repeat(43)}`)
        .expect(401);
      expect(res.headers['www-authenticate']).toBe(INVALID_TOKEN_CHALLENGE);
      expect(res.body.error).toBe('invalid_token');
    });

    it('adds error="invalid_token" for a malformed token', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Authorization', 'Bearer not-a-token')
        .expect(401);
      expect(res.headers['www-authenticate']).toBe(INVALID_TOKEN_CHALLENGE);
    });

    it('adds error="invalid_token" for a revoked token', async () => {
      const user = await registerAndLogin(t.server);
      await request(t.server)
        .post('/auth/logout')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .expect(200);
      const res = await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .expect(401);
      expect(res.headers['www-authenticate']).toBe(INVALID_TOKEN_CHALLENGE);
    });

    it('accepts the token only from the Authorization header, never from the query string', async () => {
      const res = await request(t.server)
        .get(`/admin/me?access_token=${alice.accessToken}`)
        .expect(401);
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    });

    it('never accepts a token from a JSON body', async () => {
      await request(t.server)
        .post('/auth/logout')
        .send({ access_token: alice.accessToken })
        .expect(401);
      // Alice's token is still live: the refused request did not log her out.
      await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .expect(200);
    });

    it('never accepts a token from a form body', async () => {
      await request(t.server)
        .post('/auth/logout')
        .type('form')
        .send({ access_token: alice.accessToken })
        .expect(401);
    });

    it('does not take the token from a Basic or other scheme', async () => {
      for (const scheme of ['Basic', 'Token', 'MAC']) {
        await request(t.server)
          .get('/admin/me')
          .set('Authorization', `${scheme} ${alice.accessToken}`)
          .expect(401);
      }
    });
  });

  describe('session first, bearer second', () => {
    it('lets a valid session win over an invalid bearer header', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', alice.cookie)
        .set('Authorization', `Bearer ${'B'.repeat(43)}`)
        .expect(200);
      expect(res.body.username).toBe(alice.username);
    });

    it("lets a valid session win over another user's valid bearer token", async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', alice.cookie)
        .set('Authorization', `Bearer ${bob.accessToken}`)
        .expect(200);
      expect(res.body.username).toBe(alice.username);
    });

    it('accepts a valid bearer token next to a forged cookie', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', forgedSessionCookie())
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .expect(200);
      expect(res.body.username).toBe(alice.username);
    });

    it('accepts a valid bearer token next to a correctly signed but unknown cookie', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', unknownSessionCookie())
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .expect(200);
      expect(res.body.username).toBe(alice.username);
    });
  });

  describe('cookies without a session', () => {
    it.each([
      ['a forged (wrong signature)', () => forgedSessionCookie()],
      ['a correctly signed but unknown', () => unknownSessionCookie()],
      ['an unsigned', () => 'session=plain-value'],
      ['an empty', () => 'session='],
    ])(
      'treats %s session cookie as no session: 401 on a protected route',
      async (_, cookie) => {
        const res = await request(t.server)
          .get('/admin/me')
          .set('Cookie', cookie())
          .expect(401);
        expect(res.headers['www-authenticate']).toBe(CHALLENGE);
      },
    );

    it('treats a forged cookie as no session on a public route: 200, never 5xx', async () => {
      const res = await request(t.server)
        .get('/auth/login')
        .set('Cookie', forgedSessionCookie())
        .expect(200);
      expect(res.text).not.toContain('Logged in as');
    });

    it('clears the cookie when its session was logged out', async () => {
      const user = await registerAndLogin(t.server);
      await request(t.server)
        .post('/auth/logout')
        .set('Cookie', user.cookie)
        .expect(200);
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(401);
      expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
    });

    it('clears the cookie when its session key was deleted from Redis', async () => {
      const user = await registerAndLogin(t.server);
      expect(await t.redis.del(sessionKeyOf(user.cookie))).toBe(1);
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(401);
      expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
    });

    it('clears a dead session cookie on public routes too', async () => {
      const user = await registerAndLogin(t.server);
      await t.redis.del(sessionKeyOf(user.cookie));
      const res = await request(t.server)
        .get('/')
        .set('Cookie', user.cookie)
        .expect(200);
      expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
      expect(res.text).not.toContain('Logged in as');
    });

    it('clears a forged cookie', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', forgedSessionCookie())
        .expect(401);
      expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
    });

    it('leaves a live session cookie alone', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', alice.cookie)
        .expect(200);
      expect(setCookies(res)).toEqual([]);
    });

    it('ignores cookies of other names', async () => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', `other=1; ${alice.cookie}; theme=dark`)
        .expect(200);
      expect(res.body.username).toBe(alice.username);
    });
  });

  describe('anonymous requests', () => {
    it.each([
      ['GET', '/'],
      ['GET', '/auth/login'],
      ['GET', '/health'],
      ['GET', '/admin/me'],
      ['GET', '/docs-json'],
      ['POST', '/auth/logout'],
    ])('get no Set-Cookie on %s %s', async (method, path) => {
      const res = await call(t.server, method, path);
      expect(res.status).toBeLessThan(500);
      expect(setCookies(res)).toEqual([]);
    });

    it('get no Set-Cookie from a failed login', async () => {
      const res = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ username: alice.username })
        .expect(400);
      expect(setCookies(res)).toEqual([]);
    });

    it('get no Set-Cookie from a registration', async () => {
      const res = await request(t.server)
        .post('/auth/register')
        .send({ username: `${alice.username}-2`, password: PASSWORD })
        .expect(201);
      expect(setCookies(res)).toEqual([]);
    });
  });
});

describe('bearer checks with several apps in one test process', () => {
  it('checks each app’s tokens in its own store, whichever app started last', async () => {
    // Two apps on two Redis databases: a token is known to the app that issued it only.
    const other = new URL(process.env.REDIS_URL!);
    other.pathname = other.pathname === '/14' ? '/13' : '/14';
    const first = await startApp();
    const second = await startApp({ REDIS_URL: other.href });
    try {
      const user = await registerAndLogin(first.server);
      const bearer = `Bearer ${user.accessToken}`;
      await request(first.server)
        .get('/admin/me')
        .set('Authorization', bearer)
        .expect(200);
      await request(second.server)
        .get('/admin/me')
        .set('Authorization', bearer)
        .expect(401);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
