import type { Redis } from 'ioredis';
import request from 'supertest';
import { LOGIN_FIELDS } from '../../src/credentials/login.store.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import {
  furtherToken,
  login,
  meStatus,
  registerAndLogin,
} from '../helpers/logins.js';
import {
  inspectRedis,
  loginIdOf,
  sessionKeyOf,
  tokenKeyOf,
  userLoginKeys,
} from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually, sleep, waitUntil } from '../helpers/waiting.js';

/** PTTLs of several keys read in one MULTI, so they are compared at the same instant. */
async function pttls(redis: Redis, keys: string[]): Promise<number[]> {
  const multi = redis.multi();
  for (const key of keys) multi.pttl(key);
  const results = (await multi.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as number;
  });
}

async function bearerStatus(
  server: TestApp['server'],
  token: string,
): Promise<request.Response> {
  return request(server)
    .get('/admin/me')
    .set('Authorization', `Bearer ${token}`);
}

describe('lifetimes', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = inspectRedis();
  });
  afterAll(() => redis.disconnect());

  describe('tokens (TOKEN_TTL_SECONDS=2)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({
        REFRESH_TOKEN_IDLE_SECONDS: '30',
        REFRESH_TOKEN_ABSOLUTE_SECONDS: '60',
        TOKEN_TTL_SECONDS: '2',
        SESSION_IDLE_SECONDS: '30',
        SESSION_ABSOLUTE_SECONDS: '60',
      });
    });
    afterAll(() => t.close());

    it('reports expires_in of exactly TOKEN_TTL_SECONDS and stores the token that long', async () => {
      const user = await registerAndLogin(t.server);
      const further = await furtherToken(t.server, user);
      expect(further).toMatchObject({ token_type: 'bearer', expires_in: 2 });
      const again = further.access_token;
      // The first token, issued at login, had the same lifetime.
      const first = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ username: user.username, password: user.password })
        .expect(200);
      expect(first.body).toMatchObject({ expires_in: 2 });
      for (const token of [user.accessToken, again]) {
        const [ttl] = await pttls(redis, [tokenKeyOf(token)]);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(2000);
      }
    });

    it('answers an expired token with 401 invalid_token while the session lives on', async () => {
      const user = await registerAndLogin(t.server);
      expect((await bearerStatus(t.server, user.accessToken)).status).toBe(200);
      const expired = await eventually(async () => {
        const res = await bearerStatus(t.server, user.accessToken);
        return res.status === 200 ? undefined : res;
      }, 'the token to expire');
      expect(expired.status).toBe(401);
      expect(expired.body).toMatchObject({ error: 'invalid_token' });
      expect(expired.headers['www-authenticate']).toContain(
        'error="invalid_token"',
      );
      expect(await redis.exists(tokenKeyOf(user.accessToken))).toBe(0);
      expect(await meStatus(t.server, 'session', user)).toBe(200);
    });
  });

  describe('idle sessions (SESSION_IDLE_SECONDS=2)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({
        REFRESH_TOKEN_IDLE_SECONDS: '2',
        REFRESH_TOKEN_ABSOLUTE_SECONDS: '60',
        SESSION_IDLE_SECONDS: '2',
        SESSION_ABSOLUTE_SECONDS: '60',
        TOKEN_TTL_SECONDS: '60',
      });
    });
    afterAll(() => t.close());

    it('ends a session left idle for SESSION_IDLE_SECONDS, leaving the login to its token', async () => {
      const user = await registerAndLogin(t.server);
      const sessionKey = sessionKeyOf(user.cookie);
      const [ttl] = await pttls(redis, [sessionKey]);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2000);
      await eventually(
        async () => ((await redis.exists(sessionKey)) === 0 ? true : undefined),
        'the idle session to expire',
      );
      const res = await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(401);
      const cleared = (res.headers['set-cookie'] as unknown as string[]) ?? [];
      expect(cleared.some((c) => c.startsWith('session=;'))).toBe(true);
      // The token of that login is still good, so the login is still listed.
      const listed = await request(t.server)
        .get('/auth/sessions')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .expect(200);
      expect(listed.body).toHaveLength(1);
    });

    it('slides the idle timeout with each request', async () => {
      const user = await registerAndLogin(t.server);
      // Four requests a second apart span twice the idle timeout; each one renews it. The
      // sleeps are the point: time has to pass between the requests.
      for (let i = 0; i < 4; i++) {
        await sleep(1000);
        expect(await meStatus(t.server, 'session', user)).toBe(200);
        const [ttl] = await pttls(redis, [sessionKeyOf(user.cookie)]);
        expect(ttl).toBeGreaterThan(1000);
      }
    });
  });

  describe('pruning (SESSION_IDLE_SECONDS=2, TOKEN_TTL_SECONDS=1)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({
        REFRESH_TOKEN_IDLE_SECONDS: '2',
        REFRESH_TOKEN_ABSOLUTE_SECONDS: '60',
        SESSION_IDLE_SECONDS: '2',
        SESSION_ABSOLUTE_SECONDS: '60',
        TOKEN_TTL_SECONDS: '1',
      });
    });
    afterAll(() => t.close());

    it('lists only live logins, dropping one whose session and tokens have all lapsed', async () => {
      const user = await registerAndLogin(t.server);
      const kept = await registerAndLoginAgain(t, user.username);
      const lapsedId = await loginIdOf(redis, user.userId, user);
      const keptId = await loginIdOf(redis, user.userId, kept);
      // Keep the second login's session busy while the first one's lapses.
      await eventually(
        async () => {
          expect(await meStatus(t.server, 'session', kept)).toBe(200);
          const left = await redis.exists(
            sessionKeyOf(user.cookie),
            tokenKeyOf(user.accessToken),
          );
          return left === 0 ? true : undefined;
        },
        'the first login to lapse',
        10_000,
        400,
      );
      const listed = await request(t.server)
        .get('/auth/sessions')
        .set('Cookie', kept.cookie)
        .expect(200);
      expect((listed.body as { id: string }[]).map((l) => l.id)).toEqual([
        keptId,
      ]);
      expect(await redis.exists(redisKeys.login(user.userId, lapsedId))).toBe(
        0,
      );
      expect(
        await redis.zscore(redisKeys.logins(user.userId), lapsedId),
      ).toBeNull();
    });
  });

  describe('absolute lifetime (SESSION_IDLE_SECONDS=2, SESSION_ABSOLUTE_SECONDS=5)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({
        REFRESH_TOKEN_IDLE_SECONDS: '2',
        REFRESH_TOKEN_ABSOLUTE_SECONDS: '5',
        SESSION_IDLE_SECONDS: '2',
        SESSION_ABSOLUTE_SECONDS: '5',
        TOKEN_TTL_SECONDS: '3600',
      });
    });
    afterAll(() => t.close());

    it('ends a busy session, its tokens and its record at SESSION_ABSOLUTE_SECONDS after login', async () => {
      const user = await registerAndLogin(t.server);
      const loginId = await loginIdOf(redis, user.userId, user);
      const loginKey = redisKeys.login(user.userId, loginId);
      const fields = await redis.hgetall(loginKey);
      const deadline = Date.parse(fields[LOGIN_FIELDS.expiresAt]);
      expect(
        deadline - Date.parse(fields[LOGIN_FIELDS.createdAt]),
      ).toBeLessThanOrEqual(5000);
      expect(
        deadline - Date.parse(fields[LOGIN_FIELDS.createdAt]),
      ).toBeGreaterThan(4000);

      let servedPastIdle = false;
      let lastSuccessSentAt = 0;
      const ended = await eventually(
        async () => {
          const sentAt = Date.now();
          const res = await request(t.server)
            .get('/admin/me')
            .set('Cookie', user.cookie);
          if (res.status !== 200) return res;
          lastSuccessSentAt = sentAt;
          if (sentAt > Date.parse(fields[LOGIN_FIELDS.createdAt]) + 2500)
            servedPastIdle = true;
          // The idle TTL slides, but never past the login's end.
          const [loginTtl, sessionTtl] = await pttls(redis, [
            loginKey,
            sessionKeyOf(user.cookie),
          ]);
          if (sessionTtl > 0) expect(sessionTtl).toBeLessThanOrEqual(loginTtl);
          return undefined;
        },
        'the session to reach its absolute end',
        10_000,
        300,
      );
      expect(ended.status).toBe(401);
      // Activity kept it alive beyond one idle timeout, so the absolute limit is what ended it.
      expect(servedPastIdle).toBe(true);
      // No request sent after the login's end was served.
      expect(lastSuccessSentAt).toBeLessThan(deadline);

      const token = await bearerStatus(t.server, user.accessToken);
      expect(token.status).toBe(401);
      expect(token.body).toMatchObject({ error: 'invalid_token' });
      expect(
        await redis.exists(
          loginKey,
          sessionKeyOf(user.cookie),
          tokenKeyOf(user.accessToken),
        ),
      ).toBe(0);
      expect(
        await redis.zscore(redisKeys.logins(user.userId), loginId),
      ).toBeNull();
    });
  });

  describe('no key outlives its login (SESSION_IDLE_SECONDS=10, SESSION_ABSOLUTE_SECONDS=4)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({
        REFRESH_TOKEN_IDLE_SECONDS: '10',
        REFRESH_TOKEN_ABSOLUTE_SECONDS: '4',
        SESSION_IDLE_SECONDS: '10',
        SESSION_ABSOLUTE_SECONDS: '4',
        TOKEN_TTL_SECONDS: '3600',
      });
    });
    afterAll(() => t.close());

    it('caps the session, its tokens and the index at the login end, and expires_in with them', async () => {
      const user = await registerAndLogin(t.server);
      const body = await furtherToken(t.server, user);
      expect(body.expires_in).toBeGreaterThan(0);
      expect(body.expires_in).toBeLessThanOrEqual(4);

      const loginId = await loginIdOf(redis, user.userId, user);
      const loginKey = redisKeys.login(user.userId, loginId);
      const [loginTtl, indexTtl, sessionTtl, firstTtl, secondTtl] = await pttls(
        redis,
        [
          loginKey,
          redisKeys.logins(user.userId),
          sessionKeyOf(user.cookie),
          tokenKeyOf(user.accessToken),
          tokenKeyOf(body.access_token),
        ],
      );
      expect(loginTtl).toBeGreaterThan(0);
      expect(loginTtl).toBeLessThanOrEqual(4000);
      expect(indexTtl).toBeGreaterThanOrEqual(loginTtl);
      for (const ttl of [sessionTtl, firstTtl, secondTtl]) {
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(loginTtl);
      }

      await eventually(
        async () =>
          (await userLoginKeys(redis, user.userId)).length === 0
            ? true
            : undefined,
        'the login to expire',
      );
      expect(
        await redis.exists(
          sessionKeyOf(user.cookie),
          tokenKeyOf(user.accessToken),
          tokenKeyOf(body.access_token),
        ),
      ).toBe(0);
      expect(await meStatus(t.server, 'session', user)).toBe(401);
    });
  });

  describe('instances with different absolute lifetimes', () => {
    it("keeps a user's login index alive as long as the user's longest login", async () => {
      const long = await startApp({
        REFRESH_TOKEN_ABSOLUTE_SECONDS: '60',
        SESSION_ABSOLUTE_SECONDS: '60',
      });
      let short: TestApp | undefined;
      try {
        const user = await registerAndLogin(long.server);
        short = await startApp({
          REFRESH_TOKEN_ABSOLUTE_SECONDS: '2',
          SESSION_ABSOLUTE_SECONDS: '2',
        });
        const brief = await registerAndLoginAgain(short, user.username);
        const longId = await loginIdOf(redis, user.userId, user);
        const briefId = await loginIdOf(redis, user.userId, brief);
        const [loginTtl, indexTtl] = await pttls(redis, [
          redisKeys.login(user.userId, longId),
          redisKeys.logins(user.userId),
        ]);
        expect(indexTtl).toBeGreaterThanOrEqual(loginTtl);

        await waitUntil(
          async () =>
            (await redis.exists(
              sessionKeyOf(brief.cookie),
              redisKeys.login(user.userId, briefId),
            )) === 0,
          'the short login to end',
        );
        // The long login is still listed, and logging out everywhere still reaches it.
        const listed = await request(long.server)
          .get('/auth/sessions')
          .set('Cookie', user.cookie)
          .expect(200);
        expect((listed.body as { id: string }[]).map((l) => l.id)).toEqual([
          longId,
        ]);
        await request(short.server)
          .post('/auth/logout-all')
          .set('Cookie', brief.cookie)
          .expect(401);
        const other = await registerAndLoginAgain(short, user.username);
        await request(short.server)
          .post('/auth/logout-all')
          .set('Cookie', other.cookie)
          .expect(200);
        expect(await meStatus(long.server, 'session', user)).toBe(401);
      } finally {
        await short?.close();
        await long.close();
      }
    });
  });
});

/** A further login of an existing user (registered by `registerAndLogin`). */
async function registerAndLoginAgain(
  t: TestApp,
  username: string,
): Promise<{ cookie: string; accessToken: string }> {
  return login(t.server, username);
}
