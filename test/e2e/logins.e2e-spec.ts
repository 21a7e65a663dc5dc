import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  LOGIN_FIELD_PREFIXES,
  LOGIN_FIELDS,
} from '../../src/credentials/login.store.js';
import { hashSecret } from '../../src/credentials/secret-hash.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { sessionIdOf } from '../helpers/cookies.js';
import {
  AUTH_MODES,
  authAs,
  Credentials,
  expectEnded,
  expectLive,
  furtherToken,
  type ListedLogin,
  listLogins,
  login,
  loginThroughPage,
  meStatus,
  PASSWORD,
  register,
  uniqueName,
} from '../helpers/logins.js';
import {
  inspectRedis,
  loginIdOf,
  sessionKeyOf,
  tokenHashesOf,
  tokenKeyOf,
  userLoginKeys,
} from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/waiting.js';

/** The keys of each entry in the list of logins (GET /auth/sessions). */
const LISTED_LOGIN_KEYS = [
  'createdAt',
  'current',
  'expiresAt',
  'id',
  'ip',
  'lastSeenAt',
  'scope',
  'userAgent',
];

describe('logins', () => {
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    t = await startApp();
    redis = inspectRedis();
  });
  afterAll(async () => {
    await t.close();
    redis.disconnect();
  });

  async function newUser(): Promise<{ id: string; username: string }> {
    return register(t.server, uniqueName());
  }

  async function loginAs(
    user: { username: string },
    userAgent = 'jest',
  ): Promise<Credentials> {
    return login(t.server, user.username, PASSWORD, userAgent);
  }

  it('records a login from the token endpoint and one from the login page, each with its metadata', async () => {
    const user = await newUser();
    const api = await loginAs(user, 'api-client/1.0');
    const pageCookie = await loginThroughPage(
      t.server,
      user.username,
      PASSWORD,
      'page-browser/2.0',
    );

    const listed = await listLogins(t.server, 'session', api);
    expect(listed).toHaveLength(2);
    for (const entry of listed) {
      expect(Object.keys(entry).sort()).toEqual(LISTED_LOGIN_KEYS);
      expect(entry.ip).toMatch(/127\.0\.0\.1/);
      const created = Date.parse(entry.createdAt);
      const expires = Date.parse(entry.expiresAt);
      expect(Date.parse(entry.lastSeenAt)).toBeGreaterThanOrEqual(created);
      // The absolute end: SESSION_ABSOLUTE_SECONDS (12 h) for the page's login, which holds a
      // session only; REFRESH_TOKEN_ABSOLUTE_SECONDS (30 days) for the API's, which holds a refresh token.
      const lifetime =
        entry.userAgent === 'page-browser/2.0' ? 43_200_000 : 2_592_000_000;
      expect(expires - created).toBeLessThanOrEqual(lifetime);
      expect(expires - created).toBeGreaterThan(lifetime - 60_000);
      expect(entry.scope).toBe('profile logins account');
    }
    expect(listed.map((l) => l.userAgent).sort()).toEqual([
      'api-client/1.0',
      'page-browser/2.0',
    ]);

    // The page login is a record of its own that owns its session.
    const pageLoginId = await loginIdOf(redis, user.id, { cookie: pageCookie });
    const apiLoginId = await loginIdOf(redis, user.id, api);
    expect(pageLoginId).not.toBe(apiLoginId);
    expect(listed.map((l) => l.id).sort()).toEqual(
      [pageLoginId, apiLoginId].sort(),
    );

    // Each record's hash lives exactly as long as the login, and the index names both.
    for (const [id, lifetime] of [
      [pageLoginId, 43_200_000],
      [apiLoginId, 2_592_000_000],
    ] as const) {
      const ttl = await redis.pttl(redisKeys.login(user.id, id));
      expect(ttl).toBeGreaterThan(lifetime - 60_000);
      expect(ttl).toBeLessThanOrEqual(lifetime);
    }
    expect(
      (await redis.zrange(redisKeys.logins(user.id), 0, -1)).sort(),
    ).toEqual([pageLoginId, apiLoginId].sort());
  });

  it('binds the session and every token issued with it to one login record', async () => {
    const user = await newUser();
    const first = await loginAs(user);
    // A second token asked for by the logged-in session belongs to the same login.
    const secondToken = (
      await furtherToken(t.server, { ...first, username: user.username })
    ).access_token;
    expect(secondToken).not.toBe(first.accessToken);

    const loginId = await loginIdOf(redis, user.id, first);
    expect(await loginIdOf(redis, user.id, { accessToken: secondToken })).toBe(
      loginId,
    );
    const fields = await redis.hgetall(redisKeys.login(user.id, loginId));
    expect(redisKeys.session(fields[LOGIN_FIELDS.session])).toBe(
      sessionKeyOf(first.cookie),
    );
    expect(
      tokenHashesOf(fields, LOGIN_FIELD_PREFIXES.accessToken).sort(),
    ).toEqual([hashSecret(first.accessToken), hashSecret(secondToken)].sort());

    const listed = await listLogins(t.server, 'bearer', {
      ...first,
      accessToken: secondToken,
    });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: loginId, current: true });
  });

  it('never shows a session id, a token or their hashes in the list of logins', async () => {
    const user = await newUser();
    const c = await loginAs(user);
    const res = await request(t.server)
      .get('/auth/sessions')
      .set('Cookie', c.cookie)
      .expect(200);
    const sid = sessionIdOf(c.cookie);
    const secrets = [
      sid,
      hashSecret(sid),
      c.accessToken,
      hashSecret(c.accessToken),
    ];
    for (const secret of secrets) expect(res.text).not.toContain(secret);
    const [entry] = res.body as ListedLogin[];
    expect(Object.keys(entry).sort()).toEqual(LISTED_LOGIN_KEYS);
    expect(secrets).not.toContain(entry.id);
    expect(res.text).not.toContain('auth:');
  });

  it.each(AUTH_MODES)(
    'marks exactly the calling login as current (%s)',
    async (mode) => {
      const user = await newUser();
      const a = await loginAs(user);
      const b = await loginAs(user);
      const c = await loginAs(user);
      const listed = await listLogins(t.server, mode, b);
      expect(listed).toHaveLength(3);
      const current = listed.filter((l) => l.current);
      expect(current).toHaveLength(1);
      expect(current[0].id).toBe(await loginIdOf(redis, user.id, b));
      expect(listed.map((l) => l.id).sort()).toEqual(
        [
          await loginIdOf(redis, user.id, a),
          await loginIdOf(redis, user.id, b),
          await loginIdOf(redis, user.id, c),
        ].sort(),
      );
    },
  );

  it.each(AUTH_MODES)(
    'keeps last-seen up to date, writing it at most once a while per login and instance (%s)',
    async (mode) => {
      const user = await newUser();
      const c = await loginAs(user);
      const loginId = await loginIdOf(redis, user.id, c);
      const key = redisKeys.login(user.id, loginId);
      const createdAt = await redis.hget(key, LOGIN_FIELDS.createdAt);
      // The login is its first sighting: its instance writes nothing more for a while.
      expect(await redis.hget(key, LOGIN_FIELDS.lastSeenAt)).toBe(createdAt);
      const marker = '2000-01-01T00:00:00.000Z';
      await redis.hset(key, LOGIN_FIELDS.lastSeenAt, marker);
      expect(await meStatus(t.server, mode, c)).toBe(200);
      expect(await meStatus(t.server, mode, c)).toBe(200);
      // The app sends a last-seen write before it answers; a PING on its connection comes back
      // only after every command sent ahead of it.
      await t.redis.ping();
      expect(await redis.hget(key, LOGIN_FIELDS.lastSeenAt)).toBe(marker);
      // The list shows what is stored.
      expect((await listLogins(t.server, mode, c))[0].lastSeenAt).toBe(marker);

      // Another instance has not seen the login yet: its first request writes the time, once.
      const other = await startApp();
      try {
        expect(await meStatus(other.server, mode, c)).toBe(200);
        const seen = await eventually(async () => {
          const value = await redis.hget(key, LOGIN_FIELDS.lastSeenAt);
          return value !== marker ? value : undefined;
        }, 'lastSeenAt to move');
        expect(Date.parse(seen ?? '')).toBeGreaterThanOrEqual(
          Date.parse(createdAt!),
        );
        await redis.hset(key, LOGIN_FIELDS.lastSeenAt, marker);
        expect(await meStatus(other.server, mode, c)).toBe(200);
        await other.redis.ping();
        expect(await redis.hget(key, LOGIN_FIELDS.lastSeenAt)).toBe(marker);
      } finally {
        await other.close();
      }
    },
  );

  it.each(AUTH_MODES)(
    "ends one of the caller's logins at once, its session and its tokens (%s)",
    async (mode) => {
      const user = await newUser();
      const me = await loginAs(user);
      const target = await loginAs(user);
      const bystander = await loginAs(user);
      const targetId = await loginIdOf(redis, user.id, target);

      await request(t.server)
        .delete(`/auth/sessions/${targetId}`)
        .set(authAs(mode, me))
        .expect(204);

      await expectEnded(t.server, target);
      expect(await redis.exists(redisKeys.login(user.id, targetId))).toBe(0);
      expect(await redis.exists(sessionKeyOf(target.cookie))).toBe(0);
      expect(await redis.exists(tokenKeyOf(target.accessToken))).toBe(0);
      expect(
        await redis.zscore(redisKeys.logins(user.id), targetId),
      ).toBeNull();
      await expectLive(t.server, me);
      await expectLive(t.server, bystander);
      const listed = await listLogins(t.server, mode, me);
      expect(listed.map((l) => l.id)).not.toContain(targetId);
      expect(listed).toHaveLength(2);

      // Already ended, or never existed: 404.
      await request(t.server)
        .delete(`/auth/sessions/${targetId}`)
        .set(authAs(mode, me))
        .expect(404);
      await request(t.server)
        .delete('/auth/sessions/no-such-login')
        .set(authAs(mode, me))
        .expect(404);
    },
  );

  it.each(AUTH_MODES)(
    'ends the calling login itself when asked to (%s)',
    async (mode) => {
      const user = await newUser();
      const me = await loginAs(user);
      const other = await loginAs(user);
      const myId = await loginIdOf(redis, user.id, me);
      const res = await request(t.server)
        .delete(`/auth/sessions/${myId}`)
        .set(authAs(mode, me))
        .expect(204);
      if (mode === 'session') {
        const cleared =
          (res.headers['set-cookie'] as unknown as string[]) ?? [];
        expect(cleared.some((c) => c.startsWith('session=;'))).toBe(true);
      }
      await expectEnded(t.server, me);
      await expectLive(t.server, other);
      expect(await redis.exists(sessionKeyOf(me.cookie))).toBe(0);
      expect(await redis.exists(tokenKeyOf(me.accessToken))).toBe(0);
    },
  );

  it.each(AUTH_MODES)(
    "neither shows nor ends another user's login (%s)",
    async (mode) => {
      const alice = await newUser();
      const bob = await newUser();
      const aliceLogin = await loginAs(alice);
      const bobLogin = await loginAs(bob);
      const bobLoginId = await loginIdOf(redis, bob.id, bobLogin);
      const aliceLoginId = await loginIdOf(redis, alice.id, aliceLogin);

      const aliceSees = await listLogins(t.server, mode, aliceLogin);
      expect(aliceSees.map((l) => l.id)).toEqual([aliceLoginId]);
      const bobSees = await listLogins(t.server, mode, bobLogin);
      expect(bobSees.map((l) => l.id)).toEqual([bobLoginId]);

      await request(t.server)
        .delete(`/auth/sessions/${bobLoginId}`)
        .set(authAs(mode, aliceLogin))
        .expect(404);
      await expectLive(t.server, bobLogin);
      expect(await redis.exists(redisKeys.login(bob.id, bobLoginId))).toBe(1);
      expect(await redis.exists(sessionKeyOf(bobLogin.cookie))).toBe(1);
      expect(await redis.exists(tokenKeyOf(bobLogin.accessToken))).toBe(1);
    },
  );

  it.each(AUTH_MODES)(
    'logs out every login of the caller, the current one included (%s)',
    async (mode) => {
      const user = await newUser();
      const bystander = await newUser();
      const logins = [
        await loginAs(user),
        await loginAs(user),
        await loginAs(user),
      ];
      const otherUsersLogin = await loginAs(bystander);
      const res = await request(t.server)
        .post('/auth/logout-all')
        .set(authAs(mode, logins[0]))
        .expect(200);
      expect(res.body).toEqual({ message: expect.any(String) });
      for (const c of logins) {
        await expectEnded(t.server, c);
        expect(await redis.exists(sessionKeyOf(c.cookie))).toBe(0);
        expect(await redis.exists(tokenKeyOf(c.accessToken))).toBe(0);
      }
      expect(await userLoginKeys(redis, user.id)).toEqual([]);
      await expectLive(t.server, otherUsersLogin);
      // Logging in again still works.
      await expectLive(t.server, await loginAs(user));
    },
  );

  it.each(AUTH_MODES)(
    'changes the password and ends every other login, keeping the current one (%s)',
    async (mode) => {
      const user = await newUser();
      const current = await loginAs(user);
      const others = [await loginAs(user), await loginAs(user)];
      const currentId = await loginIdOf(redis, user.id, current);
      const newPassword = `new ${uniqueName('passphrase')} words`;

      await request(t.server)
        .post('/auth/password')
        .set(authAs(mode, current))
        .send({ currentPassword: PASSWORD, newPassword })
        .expect(200);

      await expectLive(t.server, current);
      for (const c of others) {
        await expectEnded(t.server, c);
        expect(await redis.exists(sessionKeyOf(c.cookie))).toBe(0);
        expect(await redis.exists(tokenKeyOf(c.accessToken))).toBe(0);
      }
      expect(
        (await listLogins(t.server, mode, current)).map((l) => l.id),
      ).toEqual([currentId]);
      expect(await userLoginKeys(redis, user.id)).toEqual(
        [redisKeys.login(user.id, currentId), redisKeys.logins(user.id)].sort(),
      );

      const old = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username: user.username,
          password: PASSWORD,
        });
      expect(old.status).toBe(400);
      expect(old.body).toMatchObject({ error: 'invalid_grant' });
      await login(t.server, user.username, newPassword);
    },
  );

  it.each(AUTH_MODES)(
    'refuses a password change with a wrong current password and ends nothing (%s)',
    async (mode) => {
      const user = await newUser();
      const current = await loginAs(user);
      const other = await loginAs(user);
      const res = await request(t.server)
        .post('/auth/password')
        .set(authAs(mode, current))
        .send({
          currentPassword: 'not the password at all',
          newPassword: `new ${uniqueName('passphrase')} words`,
        })
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400 });
      await expectLive(t.server, current);
      await expectLive(t.server, other);
      // The password is unchanged.
      await login(t.server, user.username, PASSWORD);
    },
  );

  it('holds a new password to the registration policy and ends nothing when it is refused', async () => {
    const user = await newUser();
    const current = await loginAs(user);
    const other = await loginAs(user);
    for (const candidate of ['short', 'x'.repeat(129), 'password123']) {
      const registration = await request(t.server)
        .post('/auth/register')
        .send({ username: uniqueName(), password: candidate });
      const change = await request(t.server)
        .post('/auth/password')
        .set('Cookie', current.cookie)
        .send({ currentPassword: PASSWORD, newPassword: candidate });
      expect(registration.status).toBe(400);
      expect(change.status).toBe(400);
    }
    await request(t.server)
      .post('/auth/password')
      .set('Cookie', current.cookie)
      .send({
        currentPassword: PASSWORD,
        newPassword: 'long enough words',
        extra: 1,
      })
      .expect(400);
    await request(t.server)
      .post('/auth/password')
      .set('Cookie', current.cookie)
      .send({ newPassword: 'long enough words' })
      .expect(400);
    await expectLive(t.server, current);
    await expectLive(t.server, other);
    await login(t.server, user.username, PASSWORD);
  });

  it('refuses the login routes without a session or token', async () => {
    await request(t.server).get('/auth/sessions').expect(401);
    await request(t.server).delete('/auth/sessions/anything').expect(401);
    await request(t.server).post('/auth/logout-all').expect(401);
    await request(t.server)
      .post('/auth/password')
      .send({ currentPassword: PASSWORD, newPassword: 'long enough words' })
      .expect(401);
  });

  it('documents the login routes in Swagger with their security and errors', async () => {
    const doc = (await request(t.server).get('/docs-json').expect(200))
      .body as {
      paths: Record<
        string,
        Record<
          string,
          {
            security?: Record<string, unknown>[];
            responses: Record<string, unknown>;
          }
        >
      >;
    };
    const routes: [string, string, string[]][] = [
      ['/auth/sessions', 'get', ['200', '401']],
      ['/auth/sessions/{id}', 'delete', ['204', '401', '404']],
      ['/auth/logout-all', 'post', ['200', '401']],
      ['/auth/password', 'post', ['200', '400', '401']],
    ];
    for (const [path, method, statuses] of routes) {
      const op = doc.paths[path]?.[method];
      expect(op).toBeDefined();
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      expect(schemes).toEqual(expect.arrayContaining(['oauth2', 'session']));
      expect(Object.keys(op.responses)).toEqual(
        expect.arrayContaining(statuses),
      );
    }
  });
});
