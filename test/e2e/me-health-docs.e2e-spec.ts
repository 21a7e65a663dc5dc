import request from 'supertest';
import { setCookies } from '../helpers/cookies.js';
import {
  login,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { security?: Record<string, string[]>[] }>
  >;
  components: {
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

// One app with the default settings for the routes below; the docs need a cookie name of their own.
let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

describe('GET /admin/me', () => {
  function expectMe(
    body: Record<string, unknown>,
    userId: string,
    username: string,
  ) {
    expect(Object.keys(body).sort()).toEqual([
      'createdAt',
      'id',
      'roles',
      'username',
    ]);
    expect(body).toEqual({
      id: userId,
      username,
      roles: ['user'],
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(body)).not.toMatch(/scrypt|password|hash/i);
  }

  it('returns id, username, roles and createdAt to a session', async () => {
    const user = await registerAndLogin(t.server);
    const res = await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    expectMe(res.body, user.userId, user.username);
  });

  it('returns id, username, roles and createdAt to a bearer token', async () => {
    const user = await registerAndLogin(t.server);
    const res = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(200);
    expectMe(res.body, user.userId, user.username);
  });

  it('returns the same createdAt as registration did', async () => {
    const registered = await request(t.server)
      .post('/auth/register')
      .send({ username: uniqueName(), password: PASSWORD })
      .expect(201);
    const session = await login(t.server, registered.body.username);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Cookie', session.cookie)
      .expect(200);
    expect(me.body.createdAt).toBe(registered.body.createdAt);
    expect(me.body.id).toBe(registered.body.id);
  });

  it('answers 401 without credentials', async () => {
    await request(t.server).get('/admin/me').expect(401);
  });

  it('does not renew the session cookie on every request', async () => {
    const { username } = await register(t.server);
    const session = await login(t.server, username);
    const res = await request(t.server)
      .get('/admin/me')
      .set('Cookie', session.cookie)
      .expect(200);
    expect(setCookies(res)).toEqual([]);
  });
});

describe('GET /health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('answers 200 {status: "ok", redis: "up", database: "up"} without credentials and sets no cookie', async () => {
    const res = await request(t.server).get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', redis: 'up', database: 'up' });
    expect(setCookies(res)).toEqual([]);
  });
});

describe('API documentation', () => {
  const cookieName = 'auth_sid';
  let t: TestApp;
  let doc: OpenApiDoc;
  beforeAll(async () => {
    t = await startApp({ SESSION_COOKIE_NAME: cookieName });
    doc = (await request(t.server).get('/docs-json').expect(200))
      .body as OpenApiDoc;
  });
  afterAll(() => t.close());

  it('serves the Swagger UI at /docs without credentials', async () => {
    const res = await request(t.server).get('/docs').redirects(1).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(/swagger/i);
    expect(setCookies(res)).toEqual([]);
  });

  it('documents the OAuth2 password flow with tokenUrl /auth/token', () => {
    const schemes = doc.components.securitySchemes;
    const oauth2 = Object.values(schemes).find((s) => s.type === 'oauth2');
    expect(oauth2).toBeDefined();
    expect(oauth2!.flows).toEqual({
      password: expect.objectContaining({ tokenUrl: '/auth/token' }),
    });
  });

  it('documents an apiKey cookie scheme named after the configured session cookie', () => {
    const cookieSchemes = Object.values(doc.components.securitySchemes).filter(
      (s) => s.type === 'apiKey' && s.in === 'cookie',
    );
    expect(cookieSchemes).toEqual([
      expect.objectContaining({
        type: 'apiKey',
        in: 'cookie',
        name: cookieName,
      }),
    ]);
  });

  it('marks /admin/me as protected by both schemes', () => {
    const security = doc.paths['/admin/me'].get.security ?? [];
    const used = security.flatMap((s) => Object.keys(s));
    expect(used.sort()).toEqual(['oauth2', 'session']);
    for (const name of used)
      expect(doc.components.securitySchemes).toHaveProperty(name);
  });

  it('documents the public auth routes', () => {
    expect(doc.paths['/auth/register']?.post).toBeDefined();
    expect(doc.paths['/auth/token']?.post).toBeDefined();
    expect(doc.paths['/auth/logout']?.post).toBeDefined();
    expect(doc.paths['/health']?.get).toBeDefined();
  });

  it('uses the configured cookie name for the session cookie', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(200);
    const cookies = setCookies(res);
    expect(cookies).toHaveLength(1);
    expect(cookies[0].startsWith(`${cookieName}=`)).toBe(true);
    const cookie = cookies[0].split(';')[0];
    await request(t.server).get('/admin/me').set('Cookie', cookie).expect(200);
  });
});
