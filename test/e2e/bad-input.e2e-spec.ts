import type { Redis } from 'ioredis';
import request from 'supertest';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { DatabaseInspector } from '../helpers/database.js';
import { setCookies } from '../helpers/cookies.js';
import {
  LoggedIn,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { inspectRedis, keysOfUser } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';

const BIG = 'x'.repeat(110 * 1024);

describe('bad input', () => {
  let t: TestApp;
  let redis: Redis;
  let db: DatabaseInspector;
  let alice: LoggedIn;
  beforeAll(async () => {
    t = await startApp();
    redis = inspectRedis();
    db = new DatabaseInspector();
    alice = await registerAndLogin(t.server);
  });
  afterAll(async () => {
    redis.disconnect();
    await db.close();
    await t.close();
  });

  async function nameIsFree(username: string): Promise<boolean> {
    return (await db.userByName(username)) === null;
  }

  describe('request bodies', () => {
    it.each(['/auth/register', '/auth/token'])(
      'answers malformed JSON on %s with 400',
      async (path) => {
        const res = await request(t.server)
          .post(path)
          .set('Content-Type', 'application/json')
          .send('{"username": "a", "password":')
          .expect(400)
          .expect('Content-Type', /application\/json/);
        expect(res.body.statusCode).toBe(400);
        expect(res.text).not.toMatch(/at .*\.js:\d+/);
      },
    );

    it('answers malformed JSON with a username in it with 400 and stores nothing', async () => {
      const username = uniqueName();
      await request(t.server)
        .post('/auth/register')
        .set('Content-Type', 'application/json')
        .send(`{"username": "${username}", "password": "${PASSWORD}",}`)
        .expect(400);
      expect(await nameIsFree(username)).toBe(true);
    });

    it.each([
      ['/auth/register', 'json'],
      ['/auth/register', 'form'],
      ['/auth/token', 'json'],
      ['/auth/token', 'form'],
    ])('answers a body over 100 kB on %s (%s) with 413', async (path, type) => {
      const username = uniqueName();
      const res = await request(t.server)
        .post(path)
        .type(type)
        .send({ username, password: BIG })
        .expect(413);
      expect(res.body.statusCode).toBe(413);
      expect(setCookies(res)).toEqual([]);
      expect(await nameIsFree(username)).toBe(true);
    });

    it.each([
      ['/auth/register', 'text/plain', 'username=a&password=b'],
      [
        '/auth/register',
        'application/xml',
        '<user><username>a</username></user>',
      ],
      ['/auth/token', 'text/plain', 'username=a&password=b'],
      ['/auth/token', 'application/xml', '<grant/>'],
      ['/auth/token', 'multipart/form-data; boundary=x', '--x--'],
    ])(
      'answers %s with an unsupported content type (%s) with 415 or 400',
      async (path, contentType, body) => {
        const res = await request(t.server)
          .post(path)
          .set('Content-Type', contentType)
          .send(body);
        expect([400, 415]).toContain(res.status);
        expect(setCookies(res)).toEqual([]);
      },
    );

    it('answers a JSON array body with 400', async () => {
      await request(t.server)
        .post('/auth/register')
        .send([{ username: uniqueName(), password: PASSWORD }])
        .expect(400);
      const res = await request(t.server)
        .post('/auth/token')
        .send([{ username: alice.username, password: PASSWORD }])
        .expect(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it.each([
      [
        'an array username',
        (u: string) => ({ username: [u], password: PASSWORD }),
      ],
      [
        'an object username',
        (u: string) => ({ username: { $ne: u }, password: PASSWORD }),
      ],
      ['a number username', () => ({ username: 12345, password: PASSWORD })],
      [
        'an array password',
        (u: string) => ({ username: u, password: [PASSWORD] }),
      ],
      [
        'an object password',
        (u: string) => ({ username: u, password: { a: PASSWORD } }),
      ],
      ['a null password', (u: string) => ({ username: u, password: null })],
    ])(
      'refuses %s on register with 400 and stores nothing',
      async (_, body) => {
        const username = uniqueName();
        const res = await request(t.server)
          .post('/auth/register')
          .send(body(username))
          .expect(400);
        expect(res.body.error).toBe('validation_failed');
        expect(await nameIsFree(username)).toBe(true);
      },
    );

    it.each([
      [
        'an array username',
        (u: string) => ({ username: [u], password: PASSWORD }),
      ],
      [
        'an object username',
        (u: string) => ({ username: { $ne: u }, password: PASSWORD }),
      ],
      [
        'an array password',
        (u: string) => ({ username: u, password: [PASSWORD] }),
      ],
      [
        'an object password',
        (u: string) => ({ username: u, password: { $gt: '' } }),
      ],
      [
        'an array grant_type',
        (u: string) => ({
          grant_type: ['password'],
          username: u,
          password: PASSWORD,
        }),
      ],
    ])(
      'refuses %s on the token endpoint (JSON) with 400 invalid_request',
      async (_, body) => {
        const res = await request(t.server)
          .post('/auth/token')
          .send(body(alice.username))
          .expect(400);
        expect(res.body.error).toBe('invalid_request');
        expect(setCookies(res)).toEqual([]);
      },
    );

    it.each([
      [
        'a repeated username',
        (u: string) =>
          `username=${u}&username=${u}&password=${encodeURIComponent(PASSWORD)}`,
      ],
      [
        'a bracketed username',
        (u: string) =>
          `username[]=${u}&password=${encodeURIComponent(PASSWORD)}`,
      ],
      [
        'a nested username',
        (u: string) =>
          `username[$ne]=${u}&password=${encodeURIComponent(PASSWORD)}`,
      ],
      ['a nested password', (u: string) => `username=${u}&password[$gt]=`],
    ])(
      'refuses %s on the token endpoint (form) with 400 invalid_request',
      async (_, body) => {
        const res = await request(t.server)
          .post('/auth/token')
          .type('form')
          .send(body(alice.username))
          .expect(400);
        expect(res.body.error).toBe('invalid_request');
        expect(setCookies(res)).toEqual([]);
      },
    );

    it('refuses a repeated username on register (form) with 400 and stores nothing', async () => {
      const username = uniqueName();
      await request(t.server)
        .post('/auth/register')
        .type('form')
        .send(
          `username=${username}&username=${username}&password=${encodeURIComponent(PASSWORD)}`,
        )
        .expect(400);
      expect(await nameIsFree(username)).toBe(true);
    });

    it('refuses an over-long token endpoint field with 400 invalid_request', async () => {
      const res = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ username: alice.username, password: 'p'.repeat(2000) })
        .expect(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('does not let a __proto__ field grant roles', async () => {
      const username = uniqueName();
      const res = await request(t.server)
        .post('/auth/register')
        .set('Content-Type', 'application/json')
        .send(
          `{"username":"${username}","password":"${PASSWORD}","__proto__":{"roles":["admin"]}}`,
        );
      expect([201, 400]).toContain(res.status);
      const stored = await db.userByName(username);
      if (stored) expect(stored.roles).toEqual(['user']);
    });
  });

  describe('cookies and Authorization headers', () => {
    it.each([
      ['garbage', 'session=garbage'],
      ['a bad percent-encoding', 'session=%E0%A4%A'],
      ['a signed-looking value with a bad signature', 'session=s%3Aabc.def'],
      ['an oversized value', `session=s%3A${'x'.repeat(6000)}.sig`],
      ['a repeated cookie name', 'session=a; session=b'],
      ['an empty value', 'session='],
      ['only separators', ';;;'],
      ['a cookie without a value', 'session'],
    ])(
      'answers a protected route with %s cookie with 401',
      async (_, cookie) => {
        const res = await request(t.server)
          .get('/admin/me')
          .set('Cookie', cookie)
          .expect(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="auth"/);
      },
    );

    it.each([
      ['an empty header', ''],
      ['a bare scheme', 'Bearer'],
      ['a scheme and a space', 'Bearer '],
      ['an oversized token', `Bearer ${'x'.repeat(8000)}`],
      ['a token with forbidden characters', 'Bearer abc$%^&*()'],
      ['a Basic header', 'Basic Og=='],
      [
        'a Basic header with real credentials',
        `Basic ${Buffer.from(`user:${PASSWORD}`).toString('base64')}`,
      ],
      ['an unknown scheme', 'Negotiate abcdef'],
      [
        'a token of the right shape that was never issued',
        `Bearer ${'Z'.repeat(43)}`,
      ],
    ])('answers a protected route with %s with 401', async (_, header) => {
      const res = await request(t.server)
        .get('/admin/me')
        .set('Authorization', header)
        .expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="auth"/);
      expect(setCookies(res)).toEqual([]);
    });

    it.each([
      ['three parts', () => 'Bearer abc def'],
      ['a space too many', () => `Bearer  ${alice.accessToken}`],
    ])(
      'answers a malformed Bearer header (%s) with 400 invalid_request (RFC 6750 3.1)',
      async (_, header) => {
        const res = await request(t.server)
          .get('/admin/me')
          .set('Authorization', header())
          .expect(400);
        expect(res.headers['www-authenticate']).toBe(
          'Bearer realm="auth", error="invalid_request"',
        );
        expect(res.body).toMatchObject({ error: 'malformed_bearer' });
        expect(setCookies(res)).toEqual([]);
      },
    );

    it('refuses a token sent both in the header and in the query string with 400 (one method per request)', async () => {
      const res = await request(t.server)
        .get(`/admin/me?access_token=${alice.accessToken}`)
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .expect(400);
      expect(res.body).toMatchObject({ error: 'malformed_bearer' });
    });

    it('answers an oversized cookie next to a valid token with 200: the token still counts', async () => {
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', `session=s%3A${'x'.repeat(6000)}.sig`)
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .expect(200);
    });
  });

  describe('nothing half-written after a rejected request', () => {
    it('leaves no account keys behind for a rejected registration', async () => {
      const username = uniqueName();
      const attempts = [
        { username, password: 'short' },
        { username, password: PASSWORD, extra: 1 },
        { username, password: PASSWORD, roles: ['admin'] },
        { username, password: 'p'.repeat(129) },
      ];
      for (const body of attempts) {
        await request(t.server).post('/auth/register').send(body).expect(400);
      }
      expect(await nameIsFree(username)).toBe(true);
    });

    it('leaves no session, token or login behind for a wrong password', async () => {
      const { id, username } = await register(t.server);
      const before = await keysOfUser(redis, { userId: id });
      const res = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ username, password: 'not the password' })
        .expect(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(setCookies(res)).toEqual([]);
      expect(await keysOfUser(redis, { userId: id })).toEqual(before);
      expect(await redis.exists(redisKeys.logins(id))).toBe(0);
    });

    it('leaves no session, token or login behind for a malformed grant', async () => {
      const { id, username } = await register(t.server);
      await request(t.server)
        .post('/auth/token')
        .type('form')
        .send(
          `username=${username}&username=${username}&password=${encodeURIComponent(PASSWORD)}`,
        )
        .expect(400);
      expect(await redis.exists(redisKeys.logins(id))).toBe(0);
    });

    it('leaves the account as it was after a conflicting registration', async () => {
      const { id, username } = await register(t.server);
      const before = await db.userById(id);
      await request(t.server)
        .post('/auth/register')
        .send({
          username: username.toUpperCase(),
          password: 'a different password',
        })
        .expect(409);
      expect(await db.userById(id)).toEqual(before);
      expect((await db.userByName(username))?.id).toBe(id);
    });
  });
});
