import type { Redis } from 'ioredis';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { PersonalTokenPurge } from '../../src/credentials/personal-token-purge.js';
import { ConfigError, loadConfig } from '../../src/infra/config/app-config.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { DatabaseInspector } from '../helpers/database.js';
import { clearsCookie, TEST_SESSION_SECRET } from '../helpers/cookies.js';
import {
  LoggedIn,
  login,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import {
  bearer,
  createPersonalToken,
  listPersonalTokens,
} from '../helpers/personal-tokens.js';
import { inspectRedis, sessionKeyOf } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';

describe('embedded store (REDIS_URL empty)', () => {
  let t: TestApp;
  let real: Redis;
  beforeAll(async () => {
    t = await startApp({ REDIS_URL: '', SESSION_IDLE_SECONDS: '2' });
    real = inspectRedis();
  });
  afterAll(async () => {
    real.disconnect();
    await t.close();
  });

  it('boots with no Redis URL and warns about it', () => {
    expect(t.config.redisUrl).toBeUndefined();
    expect(t.config.warnings.join('\n')).toContain('REDIS_URL');
  });

  it('reports healthy', async () => {
    await request(t.server)
      .get('/health')
      .expect(200, { status: 'ok', redis: 'up', database: 'up' });
  });

  it('registers, logs in and serves /admin/me by cookie and by bearer token', async () => {
    const username = uniqueName();
    const registered = await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(201);
    const session = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username, password: PASSWORD })
      .expect(200);
    const cookie = (
      session.headers['set-cookie'] as unknown as string[]
    )[0].split(';')[0];
    const byCookie = await request(t.server)
      .get('/admin/me')
      .set('Cookie', cookie)
      .expect(200);
    expect(byCookie.body).toEqual({
      id: registered.body.id,
      username,
      roles: ['user'],
      createdAt: registered.body.createdAt,
    });
    const byToken = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${session.body.access_token}`)
      .expect(200);
    expect(byToken.body.id).toBe(registered.body.id);
  });

  it('keeps its data in process, never in the real Redis', async () => {
    const user = await registerAndLogin(t.server);
    expect(await t.redis.exists(sessionKeyOf(user.cookie))).toBe(1);
    expect(await t.redis.exists(redisKeys.logins(user.userId))).toBe(1);
    expect(await real.exists(redisKeys.logins(user.userId))).toBe(0);
    expect(await real.exists(sessionKeyOf(user.cookie))).toBe(0);
  });

  it('refuses a taken username', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/register')
      .send({ username: user.username.toUpperCase(), password: PASSWORD })
      .expect(409);
  });

  it('logs out: the cookie and the token stop working', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(200);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
    await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(401);
  });

  it('ends a session left idle past SESSION_IDLE_SECONDS', async () => {
    const user = await registerAndLogin(t.server);
    const key = sessionKeyOf(user.cookie);
    const ttl = await t.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    await waitUntil(
      async () => (await t.redis.exists(key)) === 0,
      'the idle session to expire in the embedded store',
    );
    const res = await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
    expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
  });
});

describe('embedded store in production', () => {
  it('is refused: loadConfig with NODE_ENV=production and no REDIS_URL throws naming REDIS_URL', () => {
    let error: unknown;
    try {
      loadConfig({
        NODE_ENV: 'production',
        SESSION_SECRET: TEST_SESSION_SECRET,
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('REDIS_URL');
    expect((error as ConfigError).message).toContain('REDIS_URL');
  });

  it('is refused for an empty REDIS_URL as well', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        REDIS_URL: '',
        SESSION_SECRET: TEST_SESSION_SECRET,
      }),
    ).toThrow(/REDIS_URL/);
  });
});

describe('embedded database (DATABASE_URL empty): PGlite', () => {
  let dir: string;
  let db: DatabaseInspector;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-pglite-'));
    db = new DatabaseInspector();
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps accounts in PGlite under DATABASE_DIR, never in PostgreSQL, across restarts; warns once', async () => {
    const env = { DATABASE_URL: '', DATABASE_DIR: join(dir, 'pglite') };
    const first = await startApp(env);
    let user: LoggedIn;
    try {
      expect(first.config.database.kind).toBe('pglite');
      expect(
        first.config.warnings.filter((w) => w.includes('PGlite')),
      ).toHaveLength(1);
      await request(first.server)
        .get('/health')
        .expect(200, { status: 'ok', redis: 'up', database: 'up' });
      user = await registerAndLogin(first.server);
      await request(first.server)
        .post('/auth/register')
        .send({ username: user.username.toUpperCase(), password: PASSWORD })
        .expect(409);
      expect(await db.userByName(user.username)).toBeNull();
    } finally {
      await first.close();
    }
    expect(existsSync(join(dir, 'pglite', 'PG_VERSION'))).toBe(true);

    const restarted = await startApp(env);
    try {
      // Sessions live in Redis and survive too; the account is what PGlite must have kept.
      const again = await login(restarted.server, user.username);
      const me = await request(restarted.server)
        .get('/admin/me')
        .set('Cookie', again.cookie)
        .expect(200);
      expect(me.body).toMatchObject({
        id: user.userId,
        username: user.username,
      });
    } finally {
      await restarted.close();
    }
  });

  it('caps and purges personal tokens in PGlite too', async () => {
    const t = await startApp({
      DATABASE_URL: '',
      DATABASE_DIR: join(dir, 'tokens'),
      PERSONAL_TOKENS_PER_USER: '1',
    });
    try {
      const user = await registerAndLogin(t.server);
      const auth = bearer(user.accessToken);
      const token = await createPersonalToken(t.server, auth);
      await request(t.server)
        .post('/auth/personal-tokens')
        .set(auth)
        .send({ name: 'two', scopes: ['profile'], currentPassword: PASSWORD })
        .expect(400);
      expect(await t.app.get(PersonalTokenPurge).purge()).toBe(0);
      expect(await listPersonalTokens(t.server, auth)).toEqual([
        expect.objectContaining({ id: token.id }),
      ]);
    } finally {
      await t.close();
    }
  });

  it('runs with no server at all (REDIS_URL and DATABASE_URL empty): accounts outlive the process', async () => {
    const env = {
      REDIS_URL: '',
      DATABASE_URL: '',
      DATABASE_DIR: join(dir, 'standalone'),
    };
    const first = await startApp(env);
    let user: LoggedIn;
    try {
      user = await registerAndLogin(first.server);
    } finally {
      await first.close();
    }
    const restarted = await startApp(env);
    try {
      // A new process: the account and its password are still there.
      await login(restarted.server, user.username);
    } finally {
      await restarted.close();
    }
  });
});
