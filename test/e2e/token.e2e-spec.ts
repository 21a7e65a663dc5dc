import request from 'supertest';
import { sessionCookie, setCookieFor, setCookies } from '../helpers/cookies.js';
import {
  login,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { sessionKeyOf, tokenKeyOf } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
  message?: string;
}

describe('POST /auth/token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  function expectTokenResponse(res: request.Response): TokenBody {
    const body = res.body as TokenBody;
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    expect(body.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.refresh_token).not.toBe(body.access_token);
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body.expires_in).toBeLessThanOrEqual(t.config.tokenTtlSeconds);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    return body;
  }

  async function expectBearerWorks(accessToken: string, username: string) {
    const me = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${accessToken}`)
      .expect(200);
    expect(me.body.username).toBe(username);
  }

  it('logs in with a form password grant: token body, no-store headers and a session cookie', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username, password: PASSWORD })
      .expect(200)
      .expect('Content-Type', /application\/json/);
    const body = expectTokenResponse(res);
    await expectBearerWorks(body.access_token, username);
    const cookie = sessionCookie(res)!;
    const me = await request(t.server)
      .get('/admin/me')
      .set('Cookie', cookie)
      .expect(200);
    expect(me.body.username).toBe(username);
  });

  it('logs in with a JSON password grant', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .send({ grant_type: 'password', username, password: PASSWORD })
      .expect(200);
    await expectBearerWorks(expectTokenResponse(res).access_token, username);
    expect(sessionCookie(res)).toBeDefined();
  });

  it('treats an omitted grant_type as the password grant', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(200);
    await expectBearerWorks(expectTokenResponse(res).access_token, username);
  });

  it('accepts a known scope and ignores client_id and client_secret', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username,
        password: PASSWORD,
        scope: 'profile',
        client_id: 'swagger-ui',
        client_secret: 'whatever',
      })
      .expect(200);
    await expectBearerWorks(expectTokenResponse(res).access_token, username);
  });

  it('ignores an empty Basic client authentication header (Authorization: Basic Og==)', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .set('Authorization', 'Basic Og==')
      .type('form')
      .send({ grant_type: 'password', username, password: PASSWORD })
      .expect(200);
    await expectBearerWorks(expectTokenResponse(res).access_token, username);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/ and without a domain', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(200);
    const header = setCookieFor(res, t.config.sessionCookieName)!;
    expect(header).toBeDefined();
    const attrs = header
      .split(';')
      .slice(1)
      .map((a) => a.trim().toLowerCase());
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=lax');
    expect(attrs).toContain('path=/');
    expect(attrs.some((a) => a.startsWith('domain='))).toBe(false);
    expect(setCookies(res)).toHaveLength(1);
  });

  it('never puts the access token in the cookie', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(200);
    const token = (res.body as TokenBody).access_token;
    expect(setCookies(res).join('\n')).not.toContain(token);
  });

  it.each([
    ['username', { grant_type: 'password', password: PASSWORD }],
    ['password', { grant_type: 'password', username: 'someone' }],
    ['username (empty)', { username: '', password: PASSWORD }],
    ['password (empty)', { username: 'someone', password: '' }],
  ])(
    'answers 400 invalid_request for a missing %s',
    async (_, fields: Record<string, string>) => {
      const res = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send(fields)
        .expect(400);
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: expect.any(String),
      });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(setCookies(res)).toEqual([]);
    },
  );

  it.each(['client_credentials', 'authorization_code', 'PASSWORD'])(
    'answers 400 unsupported_grant_type for grant_type=%s',
    async (grantType) => {
      const res = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: grantType,
          username: 'someone',
          password: PASSWORD,
        })
        .expect(400);
      expect(res.body).toEqual({
        error: 'unsupported_grant_type',
        error_description: expect.any(String),
      });
      expect(setCookies(res)).toEqual([]);
    },
  );

  it('answers an unknown user and a wrong password with the identical invalid_grant response', async () => {
    const { username } = await register(t.server);
    const wrongPassword = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username, password: 'not the password' })
      .expect(400);
    const unknownUser = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: uniqueName('nobody'),
        password: 'not the password',
      })
      .expect(400);
    expect(wrongPassword.body).toEqual({
      error: 'invalid_grant',
      error_description: expect.any(String),
    });
    expect(unknownUser.status).toBe(wrongPassword.status);
    expect(unknownUser.body).toEqual(wrongPassword.body);
    expect(unknownUser.headers['www-authenticate']).toBe(
      wrongPassword.headers['www-authenticate'],
    );
    expect(unknownUser.headers['cache-control']).toBe('no-store');
    expect(wrongPassword.headers['cache-control']).toBe('no-store');
    expect(setCookies(wrongPassword)).toEqual([]);
    expect(setCookies(unknownUser)).toEqual([]);
  });

  it('logs in regardless of the username letter case', async () => {
    const username = uniqueName('Case');
    await register(t.server, username);
    const session = await login(t.server, username.toLowerCase());
    await expectBearerWorks(session.accessToken, username);
  });

  it('answers an already logged-in session with "Already logged in" and a further working token', async () => {
    const user = await registerAndLogin(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .set('Cookie', user.cookie)
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: PASSWORD,
      })
      .expect(200);
    const body = res.body as TokenBody;
    expect(body.message).toBe('Already logged in');
    expect(body.token_type).toBe('bearer');
    expect(body.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.access_token).not.toBe(user.accessToken);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    await expectBearerWorks(body.access_token, user.username);
    await expectBearerWorks(user.accessToken, user.username);
    // The session is the same one: no new cookie is issued.
    expect(setCookieFor(res, t.config.sessionCookieName)).toBeUndefined();
    expect(await t.redis.exists(sessionKeyOf(user.cookie))).toBe(1);
    expect(await t.redis.exists(tokenKeyOf(body.access_token))).toBe(1);
  });

  it('gives each login its own session and token', async () => {
    const { username } = await register(t.server);
    const first = await login(t.server, username);
    const second = await login(t.server, username);
    expect(second.cookie).not.toBe(first.cookie);
    expect(second.accessToken).not.toBe(first.accessToken);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', first.cookie)
      .expect(200);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', second.cookie)
      .expect(200);
  });

  it('issues a new session id on login even when an unknown session cookie was presented', async () => {
    const { username } = await register(t.server);
    const planted = 'session=s%3Aplanted.value';
    const res = await request(t.server)
      .post('/auth/token')
      .set('Cookie', planted)
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(200);
    const cookie = sessionCookie(res)!;
    expect(cookie).toBeDefined();
    expect(cookie).not.toBe(planted);
    await request(t.server).get('/admin/me').set('Cookie', cookie).expect(200);
  });
});
