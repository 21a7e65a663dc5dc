import { Cluster } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { BUCKET_FIELDS } from '../../src/login/login-throttle.js';
import { freePort } from '../harness/free-port.mjs';
import { clearsCookie } from '../helpers/cookies.js';
import {
  AUTH_MODES,
  authAs,
  Credentials,
  expectEnded,
  expectLive,
  furtherToken,
  listLogins,
  LoggedIn,
  login,
  meStatus,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { sessionKeyOf, tokenKeyOf } from '../helpers/redis-inspection.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';
import { RedisCluster } from '../helpers/redis-cluster.js';

/** The service starts anyway, answers 503 where it needs Redis, and serves its pages. */
async function expectStartedWithoutRedis(env: Record<string, string>) {
  const t = await startApp(env);
  try {
    const health = await request(t.server).get('/health').timeout(5_000);
    expect(health.status).toBe(503);
    expect(health.headers['retry-after']).toMatch(/^\d+$/);
    // Accounts need only the database: registration goes on without Redis.
    await request(t.server)
      .post('/auth/register')
      .send({ username: uniqueName(), password: PASSWORD })
      .timeout(5_000)
      .expect(201);
    await request(t.server).get('/auth/login').timeout(5_000).expect(200);
  } finally {
    await t.close();
  }
}

describe('booting against a Redis Cluster that is not usable', () => {
  it('starts and answers 503 when no node answers', async () => {
    const port = await freePort();
    await expectStartedWithoutRedis({
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: `127.0.0.1:${port}`,
    });
  });

  it('starts and answers 503 when the cluster never becomes ok', async () => {
    // A cluster-enabled node that serves no slots: it answers, but cluster_state stays fail.
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    const node = await RedisProcess.start(undefined, [
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(await freePort()),
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--dir',
      dir,
    ]);
    try {
      await expectStartedWithoutRedis({
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: `127.0.0.1:${node.port}`,
      });
    } finally {
      await node.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

/**
 * The whole service on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES, REDIS_URL off).
 * Sessions, tokens, each user's logins and the user records hash to different slots, so
 * any pipeline, MULTI or multi-key command across them would fail here (GitHub issue 5).
 */
describe('on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let cluster: RedisCluster;
  let t: TestApp;
  let redis: Cluster;
  let admin: Credentials;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    t = await startApp({
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: cluster.seeds,
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
      LOGIN_FREE_FAILURES_PER_ACCOUNT: '2',
    });
    redis = cluster.client();
    admin = await login(t.server, adminName, adminPassword);
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  /** The id of the caller's own login, as GET /auth/sessions marks it. */
  async function loginIdOf(c: Credentials): Promise<string> {
    const current = (await listLogins(t.server, 'bearer', c)).filter(
      (l) => l.current,
    );
    expect(current).toHaveLength(1);
    return current[0].id;
  }

  async function indexedLoginIds(userId: string): Promise<string[]> {
    return (await redis.zrange(redisKeys.logins(userId), 0, -1)).sort();
  }

  it('boots on the cluster named by REDIS_CLUSTER_NODES and reports healthy', async () => {
    expect(t.config.redisUrl).toBeUndefined();
    expect(t.config.redisClusterNodes).toHaveLength(3);
    expect(t.redis as unknown).toBeInstanceOf(Cluster);
    await request(t.server)
      .get('/health')
      .expect(200, { status: 'ok', redis: 'up', database: 'up' });
  });

  it('registers an account and refuses the same username again with 409', async () => {
    const username = uniqueName();
    const user = await register(t.server, username);
    const again = await request(t.server)
      .post('/auth/register')
      .send({ username: username.toUpperCase(), password: PASSWORD })
      .expect(409);
    expect(again.body).toMatchObject({ error: 'username_taken' });
    const logged = await login(t.server, username.toUpperCase());
    expect(logged.accessToken).toBeTruthy();
    expect(user.id).toBeTruthy();
  });

  it.each(AUTH_MODES)(
    'logs in at the token endpoint and serves /admin/me by %s',
    async (mode) => {
      const user = await registerAndLogin(t.server);
      const res = await request(t.server)
        .get('/admin/me')
        .set(authAs(mode, user))
        .expect(200);
      expect(res.body).toMatchObject({
        id: user.userId,
        username: user.username,
        roles: ['user'],
      });
      expect(await redis.exists(sessionKeyOf(user.cookie))).toBe(1);
      expect(await redis.exists(tokenKeyOf(user.accessToken))).toBe(1);
    },
  );

  it('lists both logins of a user and marks the current one, in both modes', async () => {
    const first = await registerAndLogin(t.server);
    const second = await login(t.server, first.username);
    for (const mode of AUTH_MODES) {
      const listed = await listLogins(t.server, mode, first);
      expect(listed).toHaveLength(2);
      expect(listed.filter((l) => l.current)).toHaveLength(1);
    }
    const firstId = await loginIdOf(first);
    const secondId = await loginIdOf(second);
    expect(firstId).not.toBe(secondId);
    expect(await indexedLoginIds(first.userId)).toEqual(
      [firstId, secondId].sort(),
    );
    // Listing ended nothing: both logins still work.
    await expectLive(t.server, first);
    await expectLive(t.server, second);
  });

  it('ends another login by id: its session and token stop working, those of the caller stay', async () => {
    const caller = await registerAndLogin(t.server);
    const other = await login(t.server, caller.username);
    const otherId = await loginIdOf(other);
    await request(t.server)
      .delete(`/auth/sessions/${otherId}`)
      .set(authAs('bearer', caller))
      .expect(204);
    await expectEnded(t.server, other);
    await expectLive(t.server, caller);
    expect(await redis.exists(sessionKeyOf(other.cookie))).toBe(0);
    expect(await redis.exists(tokenKeyOf(other.accessToken))).toBe(0);
    expect(await redis.exists(redisKeys.login(caller.userId, otherId))).toBe(0);
    expect(await indexedLoginIds(caller.userId)).toEqual([
      await loginIdOf(caller),
    ]);
    await request(t.server)
      .delete(`/auth/sessions/${otherId}`)
      .set(authAs('session', caller))
      .expect(404);
  });

  it('ends every other login on a password change and keeps the current one', async () => {
    const current = await registerAndLogin(t.server);
    const others = [
      await login(t.server, current.username),
      await login(t.server, current.username),
    ];
    const newPassword = `${PASSWORD} renewed`;
    await request(t.server)
      .post('/auth/password')
      .set(authAs('session', current))
      .send({ currentPassword: PASSWORD, newPassword })
      .expect(200);
    for (const other of others) await expectEnded(t.server, other);
    await expectLive(t.server, current);
    expect(await indexedLoginIds(current.userId)).toEqual([
      await loginIdOf(current),
    ]);
    await login(t.server, current.username, newPassword);
  });

  it('ends every login of the caller on logout-all', async () => {
    const first = await registerAndLogin(t.server);
    const second = await login(t.server, first.username);
    await request(t.server)
      .post('/auth/logout-all')
      .set(authAs('bearer', second))
      .expect(200);
    await expectEnded(t.server, first);
    await expectEnded(t.server, second);
    expect(await indexedLoginIds(first.userId)).toEqual([]);
  });

  it('revokes every token of the login on logout, and leaves other logins alone', async () => {
    const user = await registerAndLogin(t.server);
    const bystander = await login(t.server, user.username);
    // A further token for the same login, issued through its session.
    const further = (await furtherToken(t.server, user)).access_token;
    expect(further).not.toBe(user.accessToken);
    expect(
      await meStatus(t.server, 'bearer', {
        ...user,
        accessToken: further,
      }),
    ).toBe(200);

    await request(t.server)
      .post('/auth/logout')
      .set(authAs('bearer', user))
      .expect(200, { message: 'Logged out' });
    await expectEnded(t.server, user);
    await expectEnded(t.server, { ...user, accessToken: further });
    expect(await redis.exists(tokenKeyOf(further))).toBe(0);
    await expectLive(t.server, bystander);
  });

  it('applies an admin role change on the next request of existing sessions and tokens', async () => {
    const user = await registerAndLogin(t.server);
    const adminListStatus = async (mode: 'session' | 'bearer') =>
      (await request(t.server).get('/admin/users').set(authAs(mode, user)))
        .status;
    expect(await adminListStatus('session')).toBe(403);
    expect(await adminListStatus('bearer')).toBe(403);

    await request(t.server)
      .patch(`/admin/users/${user.userId}`)
      .set(authAs('bearer', admin))
      .send({ roles: ['user', 'admin'] })
      .expect(200);
    expect(await adminListStatus('session')).toBe(200);
    // A granted role never widens a token's scope; a new token of the session has "admin".
    expect(await adminListStatus('bearer')).toBe(403);
    const elevated = {
      ...user,
      accessToken: (await furtherToken(t.server, user)).access_token,
    };
    expect(
      (
        await request(t.server)
          .get('/admin/users')
          .set(authAs('bearer', elevated))
      ).status,
    ).toBe(200);
    // The rewrite kept the keys' expiry.
    expect(await redis.pttl(sessionKeyOf(user.cookie))).toBeGreaterThan(0);
    expect(await redis.pttl(tokenKeyOf(user.accessToken))).toBeGreaterThan(0);

    await request(t.server)
      .patch(`/admin/users/${user.userId}`)
      .set(authAs('session', admin))
      .send({ roles: ['user'] })
      .expect(200);
    expect(await adminListStatus('session')).toBe(403);
    expect(await adminListStatus('bearer')).toBe(403);
    // The role was taken out of the elevated token's record too.
    expect(
      (
        await request(t.server)
          .get('/admin/users')
          .set(authAs('bearer', elevated))
      ).status,
    ).toBe(403);
  });

  it('ends every login of an account when an admin disables it, and refuses its password', async () => {
    const user = await registerAndLogin(t.server);
    const second = await login(t.server, user.username);
    await request(t.server)
      .patch(`/admin/users/${user.userId}`)
      .set(authAs('session', admin))
      .send({ disabled: true })
      .expect(200);
    await expectEnded(t.server, user);
    await expectEnded(t.server, second);
    expect(await indexedLoginIds(user.userId)).toEqual([]);
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: PASSWORD,
      })
      .expect(400);
  });

  it('lists users for an admin, a page at a time', async () => {
    const prefix = uniqueName('cl');
    const names = [`${prefix}-a`, `${prefix}-b`];
    for (const name of names) await register(t.server, name);
    const first = await request(t.server)
      .get(`/admin/users?q=${prefix}&limit=1`)
      .set(authAs('bearer', admin))
      .expect(200);
    const page1 = first.body as {
      items: { username: string }[];
      nextCursor: string | null;
    };
    expect(page1.items.map((u) => u.username)).toEqual([names[0]]);
    const second = await request(t.server)
      .get(`/admin/users?q=${prefix}&limit=1&after=${page1.nextCursor}`)
      .set(authAs('session', admin))
      .expect(200);
    expect(second.body).toEqual({
      items: [expect.objectContaining({ username: names[1] })],
      nextCursor: null,
    });
  });

  it('answers 429 with Retry-After once an account has used up its free failed logins', async () => {
    const username = uniqueName();
    await register(t.server, username);
    const attempt = () =>
      request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ grant_type: 'password', username, password: 'wrong password' });
    // Each failure past the free ones doubles the wait, so a 429 must come within a few tries.
    let throttled: request.Response | undefined;
    for (let i = 0; i < 8 && !throttled; i++) {
      const res = await attempt();
      if (res.status === 429) throttled = res;
      else expect(res.status).toBe(400);
    }
    expect(throttled?.headers['retry-after']).toMatch(/^\d+$/);
    expect(throttled?.body).toMatchObject({ error: 'too_many_attempts' });
    expect(
      Number(
        await redis.hget(
          redisKeys.loginFailuresOfAccount(username),
          BUCKET_FIELDS.count,
        ),
      ),
    ).toBeGreaterThanOrEqual(2);
  });

  it('spreads sessions, tokens and login records over more than one node', async () => {
    const users: LoggedIn[] = [];
    for (let i = 0; i < 4; i++) users.push(await registerAndLogin(t.server));
    const owners = new Set<number>();
    for (const user of users) {
      owners.add(await cluster.nodeOfKey(sessionKeyOf(user.cookie)));
      owners.add(await cluster.nodeOfKey(tokenKeyOf(user.accessToken)));
      owners.add(await cluster.nodeOfKey(redisKeys.logins(user.userId)));
    }
    expect(owners.size).toBeGreaterThan(1);
    const perNode = await cluster.keysPerNode();
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
    // And every one of those logins still lists and works.
    for (const user of users) {
      expect(await listLogins(t.server, 'session', user)).toHaveLength(1);
      await expectLive(t.server, user);
    }
  });

  describe('with short lifetimes (SESSION_IDLE_SECONDS=2, TOKEN_TTL_SECONDS=1)', () => {
    let short: TestApp;
    beforeAll(async () => {
      short = await startApp({
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: cluster.seeds,
        SESSION_IDLE_SECONDS: '2',
        REFRESH_TOKEN_IDLE_SECONDS: '2',
        TOKEN_TTL_SECONDS: '1',
      });
    });
    afterAll(() => short?.close());

    it('ends a session left idle past the timeout, and prunes the lapsed login from the list', async () => {
      const lapsed = await registerAndLogin(short.server);
      await waitUntil(
        async () =>
          (await redis.exists(sessionKeyOf(lapsed.cookie))) === 0 &&
          (await redis.exists(tokenKeyOf(lapsed.accessToken))) === 0,
        'the idle session and the token to expire',
      );
      const res = await request(short.server)
        .get('/admin/me')
        .set('Cookie', lapsed.cookie)
        .expect(401);
      expect(clearsCookie(res, short.config.sessionCookieName)).toBe(true);

      const fresh = await login(short.server, lapsed.username);
      const listed = await listLogins(short.server, 'session', fresh);
      expect(listed).toHaveLength(1);
      expect(listed[0].current).toBe(true);
      expect(await indexedLoginIds(lapsed.userId)).toEqual([listed[0].id]);
    });
  });
});
