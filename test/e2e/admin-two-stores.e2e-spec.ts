import type { Redis } from 'ioredis';
import request from 'supertest';
import { DatabaseInspector } from '../helpers/database.js';
import {
  expectEnded,
  expectLive,
  LoggedIn,
  login,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { bearer, createPersonalToken } from '../helpers/personal-tokens.js';
import { inspectRedis } from '../helpers/redis-inspection.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';

/**
 * Admin changes write the database first, then Redis. With Redis refusing writes in between
 * (CLIENT PAUSE WRITE: reads, and so bearer authentication, still pass), the change is in
 * the database only: the answer must be a 503, and the same request again must finish it.
 * A role change with Redis not answering at all (a frozen server) is refused before the
 * database changes.
 */
describe('admin changes that touch the database and Redis', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let redis: RedisProcess;
  let control: Redis;
  let t: TestApp;
  let admin: LoggedIn;
  let db: DatabaseInspector;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    control = inspectRedis(redis.url);
    t = await startApp({
      REDIS_URL: redis.url,
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
    });
    admin = {
      ...(await login(t.server, adminName, adminPassword)),
      userId: '',
    };
    db = new DatabaseInspector();
  });
  afterAll(async () => {
    redis?.thaw();
    await control?.client('UNPAUSE').catch(() => undefined);
    control?.disconnect();
    await t?.close();
    await redis?.kill();
    await db?.close();
  });
  afterEach(async () => {
    redis.thaw();
    await control.client('UNPAUSE');
  });

  function asAdmin(method: 'patch' | 'delete', path: string): request.Test {
    const agent = request(t.server);
    const req = method === 'patch' ? agent.patch(path) : agent.delete(path);
    return req
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .timeout({ response: 5_000, deadline: 8_000 });
  }

  /** The admin's bearer request, once steady, only reads Redis. */
  async function pauseRedisWrites(): Promise<void> {
    await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .expect(200);
    await control.client('PAUSE', 30_000, 'WRITE');
  }

  /** Repeats `send` until it succeeds: what a client does after a 503. */
  async function repeatUntilOk(
    send: () => request.Test,
  ): Promise<request.Response> {
    let last: request.Response | undefined;
    await waitUntil(async () => {
      last = await send();
      return last.status === 200;
    }, 'the repeated admin request to succeed');
    return last!;
  }

  it('disabling: 503 while Redis refuses writes, then the repeat ends every login of the account', async () => {
    const user = await registerAndLogin(t.server);
    await pauseRedisWrites();
    const first = await asAdmin('patch', `/admin/users/${user.userId}`).send({
      disabled: true,
    });
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toMatch(/^\d+$/);
    expect((await db.userById(user.userId))?.disabled).toBe(true);
    await control.client('UNPAUSE');
    const again = await repeatUntilOk(() =>
      asAdmin('patch', `/admin/users/${user.userId}`).send({ disabled: true }),
    );
    expect(again.body).toMatchObject({ disabled: true });
    await expectEnded(t.server, user);
  });

  it('a role change: 503 while Redis refuses writes, then the repeat reaches the live session and token', async () => {
    const user = await registerAndLogin(t.server);
    await pauseRedisWrites();
    const first = await asAdmin('patch', `/admin/users/${user.userId}`).send({
      roles: ['user', 'admin'],
    });
    expect(first.status).toBe(503);
    await control.client('UNPAUSE');
    await repeatUntilOk(() =>
      asAdmin('patch', `/admin/users/${user.userId}`).send({
        roles: ['user', 'admin'],
      }),
    );
    await request(t.server)
      .get('/admin/users')
      .set({ Cookie: user.cookie })
      .expect(200);
    // The token's record holds the new roles (its scope, granted before, stays as it was).
    const me = await request(t.server)
      .get('/admin/me')
      .set({ Authorization: `Bearer ${user.accessToken}` })
      .expect(200);
    expect(me.body).toMatchObject({ roles: ['user', 'admin'] });
  });

  it('a role change while Redis does not answer: a fast 503 that leaves PostgreSQL unchanged, then the repeat reaches every credential', async () => {
    const user = await registerAndLogin(t.server);
    const userToken = await createPersonalToken(t.server, {
      Cookie: user.cookie,
    });
    // Personal tokens are checked against PostgreSQL while Redis is away: the admin's request
    // reaches the role change itself, where a login's bearer token would stop at the guard.
    const adminToken = await createPersonalToken(
      t.server,
      bearer(admin.accessToken),
      { scopes: ['admin'], currentPassword: adminPassword },
    );
    const credentials = [
      { Cookie: user.cookie },
      bearer(user.accessToken),
      bearer(userToken.token),
    ];
    const rolesSeenBy = async (auth: Record<string, string>) =>
      (
        (await request(t.server).get('/admin/me').set(auth).expect(200))
          .body as { roles: string[] }
      ).roles;
    // Each credential is cached in Redis with the roles it had.
    for (const auth of credentials)
      expect(await rolesSeenBy(auth)).toEqual(['user']);
    const grant = () =>
      request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(bearer(adminToken.token))
        .send({ roles: ['user', 'admin'] })
        .timeout({ response: 5_000, deadline: 8_000 });

    redis.freeze();
    const first = await grant();
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toMatch(/^\d+$/);
    expect((await db.userById(user.userId))?.roles).toEqual(['user']);

    redis.thaw();
    await waitUntil(
      async () => (await request(t.server).get('/health')).status === 200,
      'Redis to answer again',
    );
    expect((await db.userById(user.userId))?.roles).toEqual(['user']);
    const again = await repeatUntilOk(grant);
    expect(again.body).toMatchObject({ roles: ['user', 'admin'] });
    expect((await db.userById(user.userId))?.roles).toEqual(['user', 'admin']);
    for (const auth of credentials)
      expect(await rolesSeenBy(auth)).toEqual(['user', 'admin']);
  });

  it('ending logins: 503 while Redis refuses writes, then the repeat ends them', async () => {
    const user = await registerAndLogin(t.server);
    await expectLive(t.server, user);
    await pauseRedisWrites();
    const first = await asAdmin(
      'delete',
      `/admin/users/${user.userId}/sessions`,
    );
    expect(first.status).toBe(503);
    await control.client('UNPAUSE');
    await repeatUntilOk(() =>
      asAdmin('delete', `/admin/users/${user.userId}/sessions`),
    );
    await expectEnded(t.server, user);
  });
});
