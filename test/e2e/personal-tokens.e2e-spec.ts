import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  generatePersonalToken,
  personalTokenChecksum,
} from '../../src/credentials/personal-token.js';
import { hashSecret } from '../../src/credentials/secret-hash.js';
import { Database } from '../../src/infra/db/database.js';
import { BUCKET_FIELDS } from '../../src/login/login-throttle.js';
import { DatabaseInspector } from '../helpers/database.js';
import {
  LoggedIn,
  login,
  madeUpAddress,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import {
  bearer,
  createPersonalToken,
  listPersonalTokens,
  personalTokenKeyOf,
} from '../helpers/personal-tokens.js';
import { inspectRedis } from '../helpers/redis-inspection.js';
import { AppRedisCommands } from '../helpers/redis-monitor.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/waiting.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';

const DAY_MS = 86_400_000;
/** A request that may not hang (a hang detector, not a latency requirement). */
const HANG_GUARD = { response: 8_000, deadline: 12_000 };

interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
}

const cookieOf = (u: LoggedIn) => ({ Cookie: u.cookie });

describe('personal access tokens', () => {
  const adminName = uniqueName('admin');
  let t: TestApp;
  let t2: TestApp;
  let redis: Redis;
  let database: DatabaseInspector;
  let admin: LoggedIn;

  beforeAll(async () => {
    // Behind a proxy, so a test can give its requests a client address of its own.
    const env = {
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: PASSWORD,
      TRUST_PROXY: '1',
    };
    t = await startApp(env);
    t2 = await startApp(env);
    redis = inspectRedis();
    database = new DatabaseInspector();
    admin = { ...(await login(t.server, adminName)), userId: '' };
    const me = await request(t.server)
      .get('/admin/me')
      .set(bearer(admin.accessToken))
      .expect(200);
    admin.userId = (me.body as { id: string }).id;
  });
  afterAll(async () => {
    await database.close();
    redis.disconnect();
    await t2.close();
    await t.close();
  });

  async function rowOf(id: string): Promise<TokenRow | undefined> {
    const rows = await database.query<TokenRow>(
      'select * from personal_tokens where id = $1',
      [id],
    );
    return rows[0];
  }

  describe('create, list and revoke', () => {
    it('shows the secret once, in the answer to the create', async () => {
      const user = await registerAndLogin(t.server);
      const before = Date.now();
      const res = await request(t.server)
        .post('/auth/personal-tokens')
        .set(cookieOf(user))
        .send({
          name: 'deploy script',
          scopes: ['profile', 'logins'],
          currentPassword: PASSWORD,
        })
        .expect(201);
      const body = res.body as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(
        ['expiresAt', 'id', 'name', 'scopes', 'token'].sort(),
      );
      expect(body).toMatchObject({
        name: 'deploy script',
        scopes: ['profile', 'logins'],
      });
      expect(body.token).toMatch(/^sbat_[0-9A-Za-z]{38}$/);
      // 90 days by default.
      const expiresAt = Date.parse(body.expiresAt as string);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 90 * DAY_MS);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 90 * DAY_MS);
      expect(res.headers['cache-control']).toContain('no-store');

      const listed = await listPersonalTokens(t.server, cookieOf(user));
      expect(listed).toEqual([
        {
          id: body.id,
          name: 'deploy script',
          prefix: (body.token as string).slice(0, 9),
          scopes: ['profile', 'logins'],
          createdAt: expect.any(String) as string,
          lastUsedAt: null,
          expiresAt: body.expiresAt,
        },
      ]);
      const text = JSON.stringify(listed);
      expect(text).not.toContain((body.token as string).slice(9));
      expect(text).not.toContain(hashSecret(body.token as string));
    });

    it('keeps only the SHA-256 of the secret in the database', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      const row = await rowOf(created.id);
      expect(row).toMatchObject({
        user_id: user.userId,
        token_hash: hashSecret(created.token),
        prefix: created.token.slice(0, 9),
      });
      const secretPart = created.token.slice(9);
      expect(JSON.stringify(row)).not.toContain(secretPart);
      expect(
        await database.query(
          "select 1 from personal_tokens where row_to_json(personal_tokens)::text like '%' || $1 || '%'",
          [secretPart],
        ),
      ).toEqual([]);
    });

    it('lists the newest first, with the expiry asked for', async () => {
      const user = await registerAndLogin(t.server);
      const first = await createPersonalToken(t.server, cookieOf(user), {
        name: 'first',
        expiresInDays: 1,
      });
      const second = await createPersonalToken(t.server, cookieOf(user), {
        name: 'second',
        expiresInDays: 365,
      });
      const listed = await listPersonalTokens(t.server, cookieOf(user));
      expect(listed.map((l) => l.id)).toEqual([second.id, first.id]);
      for (const [entry, days] of [
        [listed[0], 365],
        [listed[1], 1],
      ] as const)
        expect(Date.parse(entry.expiresAt) - Date.parse(entry.createdAt)).toBe(
          days * DAY_MS,
        );
    });

    it('revokes a token: 204, then refused, then 404', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      await request(t.server)
        .delete(`/auth/personal-tokens/${created.id}`)
        .set(cookieOf(user))
        .expect(204);
      const refused = await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(401);
      expect(refused.body).toMatchObject({ error: 'invalid_token' });
      expect(refused.headers['www-authenticate']).toContain(
        'error="invalid_token"',
      );
      await request(t.server)
        .delete(`/auth/personal-tokens/${created.id}`)
        .set(cookieOf(user))
        .expect(404);
      expect(await rowOf(created.id)).toBeUndefined();
      expect(await listPersonalTokens(t.server, cookieOf(user))).toEqual([]);
    });

    it("answers 404 for another user's token and leaves it working", async () => {
      const owner = await registerAndLogin(t.server);
      const other = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(owner));
      await request(t.server)
        .delete(`/auth/personal-tokens/${created.id}`)
        .set(cookieOf(other))
        .expect(404);
      await request(t.server)
        .delete(`/auth/personal-tokens/${randomUUID()}`)
        .set(cookieOf(other))
        .expect(404);
      expect(await listPersonalTokens(t.server, cookieOf(other))).toEqual([]);
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
    });

    it('refuses an expired token, and leaves it out of the list', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      await database.query(
        "update personal_tokens set expires_at = now() - interval '1 second' where id = $1",
        [created.id],
      );
      // The cache would answer until its own (short) expiry: this test wants the database's.
      await redis.del(personalTokenKeyOf(created.token));
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(401);
      expect(await listPersonalTokens(t.server, cookieOf(user))).toEqual([]);
    });
  });

  describe('re-authentication', () => {
    it('answers a wrong or missing current password as POST /auth/password does', async () => {
      const user = await registerAndLogin(t.server);
      for (const currentPassword of ['wrong password here', undefined]) {
        const viaToken = await request(t.server)
          .post('/auth/personal-tokens')
          .set(cookieOf(user))
          .send({ name: 'x', scopes: ['profile'], currentPassword });
        const viaPassword = await request(t.server)
          .post('/auth/password')
          .set(cookieOf(user))
          .send({ currentPassword, newPassword: 'a new long passphrase 42' });
        expect(viaToken.status).toBe(400);
        expect({
          status: viaToken.status,
          body: viaToken.body as object,
        }).toEqual({
          status: viaPassword.status,
          body: viaPassword.body as object,
        });
      }
      expect(await listPersonalTokens(t.server, cookieOf(user))).toEqual([]);
    });

    it('counts a wrong current password against the login throttle of the account and address', async () => {
      const user = await registerAndLogin(t.server);
      const address = madeUpAddress();
      const accountBucket = redisKeys.loginFailuresOfAccount(user.username);
      const addressBucket = redisKeys.loginFailuresOfAddress(address);
      await request(t.server)
        .post('/auth/personal-tokens')
        .set(cookieOf(user))
        .set('X-Forwarded-For', address)
        .send({ name: 'x', scopes: ['profile'], currentPassword: 'nope nope' })
        .expect(400);
      expect(await redis.hget(accountBucket, BUCKET_FIELDS.count)).toBe('1');
      expect(await redis.hget(addressBucket, BUCKET_FIELDS.count)).toBe('1');
      // A right password gives its reserved attempt back and counts nothing.
      await request(t.server)
        .post('/auth/personal-tokens')
        .set(cookieOf(user))
        .set('X-Forwarded-For', address)
        .send({ name: 'x', scopes: ['profile'], currentPassword: PASSWORD })
        .expect(201);
      expect(await redis.hget(accountBucket, BUCKET_FIELDS.count)).toBe('1');
      expect(await redis.hget(addressBucket, BUCKET_FIELDS.count)).toBe('1');
    });

    it('refuses while the account cools down after failed logins, with 429 and Retry-After', async () => {
      const user = await registerAndLogin(t.server);
      let last: request.Response | undefined;
      for (let i = 0; i < 20; i++) {
        last = await request(t.server)
          .post('/auth/personal-tokens')
          .set(cookieOf(user))
          .send({
            name: 'x',
            scopes: ['profile'],
            currentPassword: 'wrong!!!',
          });
        if (last.status === 429) break;
        expect(last.status).toBe(400);
      }
      expect(last?.status).toBe(429);
      expect(last?.headers['retry-after']).toMatch(/^\d+$/);
      // Even the right password waits now.
      await request(t.server)
        .post('/auth/personal-tokens')
        .set(cookieOf(user))
        .send({ name: 'x', scopes: ['profile'], currentPassword: PASSWORD })
        .expect(429);
    });
  });

  describe('use as a bearer token', () => {
    it('authenticates through the guard with its own scopes only', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user), {
        scopes: ['profile'],
      });
      const me = await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      expect(me.body).toMatchObject({
        id: user.userId,
        username: user.username,
      });
      const denied = await request(t.server)
        .get('/auth/sessions')
        .set(bearer(created.token))
        .expect(403);
      expect(denied.body).toMatchObject({ error: 'insufficient_scope' });
      expect(denied.headers['www-authenticate']).toContain('scope="logins"');
      await request(t.server)
        .get('/auth/personal-tokens')
        .set(bearer(created.token))
        .expect(403);
    });

    it('never grants more than the roles allow: admin scope is for admins', async () => {
      const user = await registerAndLogin(t.server);
      const res = await request(t.server)
        .post('/auth/personal-tokens')
        .set(cookieOf(user))
        .send({ name: 'x', scopes: ['admin'], currentPassword: PASSWORD })
        .expect(400);
      expect(res.body).toMatchObject({ error: 'validation_failed' });
      const adminToken = await createPersonalToken(t.server, cookieOf(admin), {
        scopes: ['profile', 'admin'],
      });
      await request(t.server)
        .get('/admin/users')
        .set(bearer(adminToken.token))
        .expect(200);
    });

    it('needs the account scope to create, and mints no scope the credential lacks', async () => {
      const user = await registerAndLogin(t.server);
      const profileOnly = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username: user.username,
          password: PASSWORD,
          scope: 'profile',
        })
        .expect(200);
      const denied = await request(t.server)
        .post('/auth/personal-tokens')
        .set(
          bearer((profileOnly.body as { access_token: string }).access_token),
        )
        .send({ name: 'x', scopes: ['profile'], currentPassword: PASSWORD })
        .expect(403);
      expect(denied.body).toMatchObject({ error: 'insufficient_scope' });

      const accountOnly = await createPersonalToken(t.server, cookieOf(user), {
        scopes: ['account'],
      });
      await request(t.server)
        .post('/auth/personal-tokens')
        .set(bearer(accountOnly.token))
        .send({ name: 'x', scopes: ['profile'], currentPassword: PASSWORD })
        .expect(400);
      const narrower = await createPersonalToken(
        t.server,
        bearer(accountOnly.token),
        { scopes: ['account'] },
      );
      expect(narrower.scopes).toEqual(['account']);
    });

    it('refuses a mistyped token without a Redis command or a query', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      const last = created.token.at(-1) === 'a' ? 'b' : 'a';
      const typos = [
        created.token.slice(0, -1) + last,
        created.token.slice(0, 20) + created.token.slice(21) + 'x',
        created.token.slice(0, -1),
        'sbat_' + 'A'.repeat(38),
      ];
      const commands = new AppRedisCommands(t.redis);
      await commands.start();
      try {
        const queries = t.app.get(Database).queryCount;
        for (const typo of typos) {
          const res = await request(t.server)
            .get('/admin/me')
            .set(bearer(typo))
            .expect(401);
          expect(res.body).toMatchObject({ error: 'invalid_token' });
        }
        await commands.flush();
        expect(commands.commands).toEqual([]);
        expect(t.app.get(Database).queryCount).toBe(queries);
      } finally {
        commands.stop();
      }
    });

    describe('cost of a request', () => {
      let commands: AppRedisCommands;
      beforeAll(async () => {
        commands = new AppRedisCommands(t.redis);
        await commands.start();
      });
      afterAll(() => commands.stop());

      async function costOf(send: () => Promise<unknown>) {
        const db = t.app.get(Database);
        await commands.flush();
        commands.clear();
        const queries = db.queryCount;
        await send();
        await commands.flush();
        return {
          redis: commands.commands.map((c) => c[0]),
          queries: db.queryCount - queries,
        };
      }

      const me = (token: string) => () =>
        request(t.server).get('/admin/me').set(bearer(token)).expect(200);

      it('answers a cached token with one GET and no query', async () => {
        const user = await registerAndLogin(t.server);
        const created = await createPersonalToken(t.server, cookieOf(user));
        // The first use fills the cache and records the use.
        await me(created.token)();
        expect(await costOf(me(created.token))).toEqual({
          redis: ['get'],
          queries: 0,
        });
      });

      it('reads PostgreSQL once on a cache miss, then answers from the cache', async () => {
        const user = await registerAndLogin(t.server);
        const created = await createPersonalToken(t.server, cookieOf(user));
        await me(created.token)();
        await redis.del(personalTokenKeyOf(created.token));
        expect(await costOf(me(created.token))).toEqual({
          redis: ['get', 'set'],
          queries: 1,
        });
        expect(
          await redis.pttl(personalTokenKeyOf(created.token)),
        ).toBeGreaterThan(0);
        expect(await costOf(me(created.token))).toEqual({
          redis: ['get'],
          queries: 0,
        });
      });

      it('remembers an unknown well-formed token briefly, so a retry costs no query', async () => {
        const unknown = generatePersonalToken();
        const refuse = () =>
          request(t.server).get('/admin/me').set(bearer(unknown)).expect(401);
        expect(await costOf(refuse)).toEqual({
          redis: ['get', 'set'],
          queries: 1,
        });
        expect(await costOf(refuse)).toEqual({ redis: ['get'], queries: 0 });
        const ttl = await redis.pttl(personalTokenKeyOf(unknown));
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(30_000);
        await redis.del(personalTokenKeyOf(unknown));
      });
    });

    it('records the last use, at most once a minute', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      const first = await eventually(async () => {
        const row = await rowOf(created.id);
        return row?.last_used_at ?? undefined;
      }, 'the use to be recorded');
      // Both instances, several times: the database keeps the first use of the minute.
      for (const app of [t, t2, t, t2])
        await request(app.server)
          .get('/admin/me')
          .set(bearer(created.token))
          .expect(200);
      const [listed] = await listPersonalTokens(t2.server, cookieOf(user));
      expect(listed.lastUsedAt).toBe(first.toISOString());
      expect((await rowOf(created.id))?.last_used_at).toEqual(first);
    });

    it('survives a cache entry lost between instances: a revocation on one is seen by the other at once', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      await request(t2.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      await request(t.server)
        .delete(`/auth/personal-tokens/${created.id}`)
        .set(cookieOf(user))
        .expect(204);
      await request(t2.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(401);
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(401);
    });
  });

  describe('what belongs to a login', () => {
    it('refuses POST /auth/logout with a personal token: it ends no login and stays valid', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user), {
        scopes: ['profile', 'logins'],
      });
      const res = await request(t.server)
        .post('/auth/logout')
        .set(bearer(created.token))
        .expect(403);
      expect(res.body).toMatchObject({ error: 'forbidden' });
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      await request(t.server).get('/admin/me').set(cookieOf(user)).expect(200);
    });

    it('lists the logins with none marked current for a personal token', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user), {
        scopes: ['logins'],
      });
      const res = await request(t.server)
        .get('/auth/sessions')
        .set(bearer(created.token))
        .expect(200);
      const logins = res.body as { current: boolean }[];
      expect(logins).toHaveLength(1);
      expect(logins.every((l) => !l.current)).toBe(true);
    });

    it('keeps personal tokens through a password change and a logout everywhere', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      await request(t.server)
        .post('/auth/password')
        .set(cookieOf(user))
        .send({
          currentPassword: PASSWORD,
          newPassword: 'another long passphrase 7',
        })
        .expect(200);
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      await request(t.server)
        .post('/auth/logout-all')
        .set(cookieOf(user))
        .expect(200);
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      await request(t2.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
    });
  });

  describe('admin', () => {
    it("lists a user's tokens, revokes one, then all", async () => {
      const user = await registerAndLogin(t.server);
      const a = await createPersonalToken(t.server, cookieOf(user), {
        name: 'a',
      });
      const b = await createPersonalToken(t.server, cookieOf(user), {
        name: 'b',
      });
      const c = await createPersonalToken(t.server, cookieOf(user), {
        name: 'c',
      });
      for (const token of [a, b, c])
        await request(t.server)
          .get('/admin/me')
          .set(bearer(token.token))
          .expect(200);
      const listed = await request(t.server)
        .get(`/admin/users/${user.userId}/personal-tokens`)
        .set(cookieOf(admin))
        .expect(200);
      expect((listed.body as { name: string }[]).map((l) => l.name)).toEqual([
        'c',
        'b',
        'a',
      ]);
      expect(JSON.stringify(listed.body)).not.toContain(a.token.slice(9));

      await request(t.server)
        .delete(`/admin/users/${user.userId}/personal-tokens/${a.id}`)
        .set(cookieOf(admin))
        .expect(204);
      await request(t2.server)
        .get('/admin/me')
        .set(bearer(a.token))
        .expect(401);
      await request(t.server)
        .delete(`/admin/users/${admin.userId}/personal-tokens/${b.id}`)
        .set(cookieOf(admin))
        .expect(404);
      const all = await request(t.server)
        .delete(`/admin/users/${user.userId}/personal-tokens`)
        .set(cookieOf(admin))
        .expect(200);
      expect(all.body).toEqual({ revoked: 2 });
      for (const token of [b, c])
        await request(t2.server)
          .get('/admin/me')
          .set(bearer(token.token))
          .expect(401);
      expect(await listPersonalTokens(t.server, cookieOf(user))).toEqual([]);
    });

    describe('refusals', () => {
      let user: LoggedIn;
      beforeAll(async () => {
        user = await registerAndLogin(t.server);
      });

      it.each<{
        what: string;
        method: 'get' | 'delete';
        path: (user: LoggedIn) => string;
        as: 'admin' | 'user';
        status: number;
      }>([
        {
          what: "an unknown user's token list",
          method: 'get',
          path: () => `/admin/users/${randomUUID()}/personal-tokens`,
          as: 'admin',
          status: 404,
        },
        {
          what: "revoking all of an unknown user's tokens",
          method: 'delete',
          path: () => `/admin/users/${randomUUID()}/personal-tokens`,
          as: 'admin',
          status: 404,
        },
        {
          what: 'revoking a token of an unknown user',
          method: 'delete',
          path: () =>
            `/admin/users/${randomUUID()}/personal-tokens/${randomUUID()}`,
          as: 'admin',
          status: 404,
        },
        {
          what: 'a token list under a malformed user id',
          method: 'get',
          path: () => '/admin/users/nope/personal-tokens',
          as: 'admin',
          status: 400,
        },
        {
          what: 'revoking a token by a malformed id',
          method: 'delete',
          path: (u) => `/admin/users/${u.userId}/personal-tokens/nope`,
          as: 'admin',
          status: 400,
        },
        {
          what: 'a non-admin asking for a token list',
          method: 'get',
          path: (u) => `/admin/users/${u.userId}/personal-tokens`,
          as: 'user',
          status: 403,
        },
        {
          what: 'a non-admin revoking all tokens',
          method: 'delete',
          path: (u) => `/admin/users/${u.userId}/personal-tokens`,
          as: 'user',
          status: 403,
        },
      ])('answers $status to $what', async ({ method, path, as, status }) => {
        const agent = request(t.server);
        await agent[method](path(user))
          .set(cookieOf(as === 'admin' ? admin : user))
          .expect(status);
      });
    });

    it("stops a disabled account's tokens at once, on every instance", async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      for (const app of [t, t2])
        await request(app.server)
          .get('/admin/me')
          .set(bearer(created.token))
          .expect(200);
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(cookieOf(admin))
        .send({ disabled: true })
        .expect(200);
      for (const app of [t, t2])
        await request(app.server)
          .get('/admin/me')
          .set(bearer(created.token))
          .expect(401);
      // Enabling the account again does not bring them back.
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(cookieOf(admin))
        .send({ disabled: false })
        .expect(200);
      await redis.del(personalTokenKeyOf(created.token));
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(401);
      expect(await rowOf(created.id)).toBeUndefined();
    });

    it('refuses a disabled account from the database too, whatever the cache held', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      await database.query('update users set disabled = true where id = $1', [
        user.userId,
      ]);
      try {
        await request(t.server)
          .get('/admin/me')
          .set(bearer(created.token))
          .expect(401);
      } finally {
        await database.query(
          'update users set disabled = false where id = $1',
          [user.userId],
        );
        await redis.del(personalTokenKeyOf(created.token));
      }
    });

    it("carries a role change to a cached token's next request, on every instance", async () => {
      const name = uniqueName('promoted');
      const user = await registerAndLogin(t.server, name);
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(cookieOf(admin))
        .send({ roles: ['user', 'admin'] })
        .expect(200);
      const again = await login(t.server, name);
      const created = await createPersonalToken(
        t.server,
        { Cookie: again.cookie },
        { scopes: ['profile', 'admin'] },
      );
      for (const app of [t, t2])
        await request(app.server)
          .get('/admin/users')
          .set(bearer(created.token))
          .expect(200);
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(cookieOf(admin))
        .send({ roles: ['user'] })
        .expect(200);
      for (const app of [t, t2]) {
        await request(app.server)
          .get('/admin/users')
          .set(bearer(created.token))
          .expect(403);
        const me = await request(app.server)
          .get('/admin/me')
          .set(bearer(created.token))
          .expect(200);
        expect(me.body).toMatchObject({ roles: ['user'] });
      }
      // Promoted again, the token's own admin scope holds again.
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(cookieOf(admin))
        .send({ roles: ['user', 'admin'] })
        .expect(200);
      await request(t2.server)
        .get('/admin/users')
        .set(bearer(created.token))
        .expect(200);
    });
  });

  describe('at the same time, on two instances', () => {
    it('creates two tokens from two requests at once', async () => {
      const user = await registerAndLogin(t.server);
      const [a, b] = await Promise.all(
        [t, t2].map((app) =>
          createPersonalToken(app.server, cookieOf(user), { name: 'parallel' }),
        ),
      );
      expect(a.id).not.toBe(b.id);
      expect(a.token).not.toBe(b.token);
      const listed = await listPersonalTokens(t.server, cookieOf(user));
      expect(listed.map((l) => l.id).sort()).toEqual([a.id, b.id].sort());
      for (const token of [a, b])
        await request(t2.server)
          .get('/admin/me')
          .set(bearer(token.token))
          .expect(200);
    });

    it('revokes once for two deletes at once: one 204, one 404', async () => {
      const user = await registerAndLogin(t.server);
      const created = await createPersonalToken(t.server, cookieOf(user));
      await request(t.server)
        .get('/admin/me')
        .set(bearer(created.token))
        .expect(200);
      const statuses = await Promise.all(
        [t, t2].map(
          async (app) =>
            (
              await request(app.server)
                .delete(`/auth/personal-tokens/${created.id}`)
                .set(cookieOf(user))
            ).status,
        ),
      );
      expect(statuses.sort()).toEqual([204, 404]);
      for (const app of [t, t2])
        await request(app.server)
          .get('/admin/me')
          .set(bearer(created.token))
          .expect(401);
    });

    it('leaves no token usable when a revoke-all races uses and creates', async () => {
      const user = await registerAndLogin(t.server);
      const tokens = await Promise.all(
        [1, 2, 3].map(() => createPersonalToken(t.server, cookieOf(user))),
      );
      await Promise.all([
        request(t.server)
          .delete(`/admin/users/${user.userId}/personal-tokens`)
          .set(cookieOf(admin))
          .expect(200),
        ...tokens.map((token) =>
          request(t2.server).get('/admin/me').set(bearer(token.token)),
        ),
      ]);
      for (const token of tokens)
        for (const app of [t, t2])
          await request(app.server)
            .get('/admin/me')
            .set(bearer(token.token))
            .expect(401);
    });
  });

  describe('bad input', () => {
    let user: LoggedIn;
    beforeAll(async () => {
      user = await registerAndLogin(t.server);
    });

    const valid = {
      name: 'ok',
      scopes: ['profile'],
      currentPassword: PASSWORD,
    };
    const cases: [string, object][] = [
      ['no name', { ...valid, name: undefined }],
      ['an empty name', { ...valid, name: '' }],
      ['a blank name', { ...valid, name: '   ' }],
      ['a name with NUL', { ...valid, name: 'a\u0000b' }],
      ['a name with a newline', { ...valid, name: 'a\nb' }],
      ['a name with a direction override', { ...valid, name: '\u202eabc' }],
      ['a name over 100 characters', { ...valid, name: 'x'.repeat(101) }],
      ['a numeric name', { ...valid, name: 42 }],
      ['no scopes', { ...valid, scopes: undefined }],
      ['empty scopes', { ...valid, scopes: [] }],
      ['an unknown scope', { ...valid, scopes: ['everything'] }],
      ['a repeated scope', { ...valid, scopes: ['profile', 'profile'] }],
      ['scopes as a string', { ...valid, scopes: 'profile' }],
      ['a null scope', { ...valid, scopes: [null] }],
      ['an upper-case scope', { ...valid, scopes: ['PROFILE'] }],
      ['expiresInDays 0', { ...valid, expiresInDays: 0 }],
      ['expiresInDays 366', { ...valid, expiresInDays: 366 }],
      ['fractional expiresInDays', { ...valid, expiresInDays: 1.5 }],
      ['expiresInDays as a string', { ...valid, expiresInDays: '30' }],
      ['expiresInDays null', { ...valid, expiresInDays: null }],
      ['huge expiresInDays', { ...valid, expiresInDays: 1e308 }],
      ['a numeric password', { ...valid, currentPassword: 12345678 }],
      ['an empty password', { ...valid, currentPassword: '' }],
      ['an unknown field', { ...valid, userId: randomUUID() }],
    ];

    it.each(cases)('answers 400 to %s and creates nothing', async (_, body) => {
      const res = await request(t.server)
        .post('/auth/personal-tokens')
        .set(cookieOf(user))
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String) as string });
      expect(await listPersonalTokens(t.server, cookieOf(user))).toEqual([]);
    });

    it.each([
      ['a word', 'nope'],
      ['a number', '1'],
      ['a UUID and one character more', `${randomUUID()}x`],
      ['an encoded NUL', '%00'],
    ])('answers 400 to revoking a malformed id: %s', async (_, id) => {
      await request(t.server)
        .delete(`/auth/personal-tokens/${id}`)
        .set(cookieOf(user))
        .expect(400);
    });

    const tokenBody = 'sbat_' + 'x'.repeat(32);
    it.each([
      ['the prefix alone', 'sbat_'],
      ['a non-ASCII character', 'sbat_\u00e9'],
      [
        'a checksummed token with 5000 characters more',
        `${tokenBody}${personalTokenChecksum(tokenBody)}${'0'.repeat(5_000)}`,
      ],
      ['a wrong checksum', `sbat_${'A'.repeat(32)}ZZZZZZ`],
    ])(
      'answers 400 or 401 to a malformed bearer value: %s',
      async (_, value) => {
        await request(t.server)
          .get('/admin/me')
          .set('Authorization', `Bearer ${value}`)
          .expect((res) => expect([400, 401]).toContain(res.status));
      },
    );
  });

  it('counts created, revoked and used tokens in /metrics', async () => {
    const user = await registerAndLogin(t.server);
    const scrape = async () =>
      (
        await request(t.server)
          .get('/metrics')
          .set(bearer(admin.accessToken))
          .expect(200)
      ).text;
    const value = (text: string, series: string) =>
      Number(
        new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(
          text,
        )?.[1] ?? NaN,
      );
    const before = await scrape();
    const created = await createPersonalToken(t.server, cookieOf(user));
    await request(t.server)
      .get('/admin/me')
      .set(bearer(created.token))
      .expect(200);
    await request(t.server)
      .get('/admin/me')
      .set(bearer(created.token))
      .expect(200);
    await request(t.server)
      .delete(`/auth/personal-tokens/${created.id}`)
      .set(cookieOf(user))
      .expect(204);
    const after = await scrape();
    for (const [series, delta] of [
      ['auth_personal_tokens_created_total', 1],
      ['auth_personal_tokens_used_total', 2],
      ['auth_personal_tokens_revoked_total{reason="owner"}', 1],
    ] as const)
      expect({
        series,
        delta: value(after, series) - value(before, series),
      }).toEqual({ series, delta });
  });
});

describe('personal access tokens when Redis loses its data or goes away', () => {
  let redisProcess: RedisProcess;
  let t: TestApp;
  let user: LoggedIn;

  const adminName = uniqueName('admin');

  beforeAll(async () => {
    redisProcess = await RedisProcess.start();
    t = await startApp({
      REDIS_URL: redisProcess.url,
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: PASSWORD,
    });
    user = await registerAndLogin(t.server);
  });
  afterAll(async () => {
    redisProcess?.thaw();
    await t?.close();
    await redisProcess?.kill();
  });
  /** Personal tokens work without Redis, so /health tells when it is back. */
  const redisBack = () =>
    eventually(async () => {
      const res = await request(t.server).get('/health').timeout(HANG_GUARD);
      return res.status === 200 ? true : undefined;
    }, 'Redis to be back');
  afterEach(async () => {
    redisProcess.thaw();
    if (!redisProcess.running) await redisProcess.start();
    await redisBack();
  });

  async function newToken(): Promise<string> {
    // The user's login lives in this Redis: log in again if a flush or restart lost it.
    const fresh = await login(t.server, user.username);
    user = { ...user, ...fresh };
    return (await createPersonalToken(t.server, cookieOf(user))).token;
  }

  const meWith = (token: string) =>
    request(t.server).get('/admin/me').set(bearer(token)).timeout(HANG_GUARD);

  it('keeps tokens working after FLUSHDB', async () => {
    const token = await newToken();
    await meWith(token).expect(200);
    const admin = inspectRedis(redisProcess.url);
    try {
      await admin.flushdb();
    } finally {
      admin.disconnect();
    }
    await meWith(token).expect(200);
    // Sessions did not survive; the token did, and is cached again.
    await request(t.server).get('/admin/me').set(cookieOf(user)).expect(401);
  });

  it('keeps tokens working from PostgreSQL while Redis is down, and refuses revoked ones', async () => {
    const token = await newToken();
    const revoked = await createPersonalToken(t.server, cookieOf(user));
    await meWith(revoked.token).expect(200);
    await request(t.server)
      .delete(`/auth/personal-tokens/${revoked.id}`)
      .set(cookieOf(user))
      .expect(204);
    await meWith(token).expect(200);
    await redisProcess.kill();
    for (let i = 0; i < 3; i++) {
      const res = await meWith(token).expect(200);
      expect(res.body).toMatchObject({ username: user.username });
    }
    await meWith(revoked.token).expect(401);
    await meWith(generatePersonalToken()).expect(401);
    // Sessions need Redis: 503.
    await request(t.server)
      .get('/admin/me')
      .set(cookieOf(user))
      .timeout(HANG_GUARD)
      .expect(503);
    await redisProcess.start();
    await redisBack();
    // The restarted Redis is empty: the token is read from PostgreSQL and cached again.
    await meWith(token).expect(200);
    await meWith(revoked.token).expect(401);
  });

  it('keeps tokens working while Redis is frozen', async () => {
    const token = await newToken();
    await meWith(token).expect(200);
    redisProcess.freeze();
    for (let i = 0; i < 3; i++) await meWith(token).expect(200);
  });

  it('refuses to revoke while Redis is down (503), so no cached token outlives its revocation', async () => {
    const token = await newToken();
    const [listed] = await listPersonalTokens(t.server, cookieOf(user)).then(
      (l) => l.filter((entry) => entry.prefix === token.slice(0, 9)),
    );
    await meWith(token).expect(200);
    const bearerAccount = await createPersonalToken(t.server, cookieOf(user), {
      scopes: ['account'],
    });
    await redisProcess.kill();
    await request(t.server)
      .delete(`/auth/personal-tokens/${listed.id}`)
      .set(bearer(bearerAccount.token))
      .timeout(HANG_GUARD)
      .expect(503);
    await redisProcess.start();
    await redisBack();
    await request(t.server)
      .delete(`/auth/personal-tokens/${listed.id}`)
      .set(bearer(bearerAccount.token))
      .expect(204);
    await meWith(token).expect(401);
  });

  it('disables nothing while Redis is down (503), so no cached token outlives a disable', async () => {
    const token = await newToken();
    await meWith(token).expect(200);
    const admin = await login(t.server, adminName);
    const adminToken = await createPersonalToken(
      t.server,
      bearer(admin.accessToken),
      {
        scopes: ['admin'],
      },
    );
    const database = new DatabaseInspector();
    try {
      await redisProcess.kill();
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(bearer(adminToken.token))
        .send({ disabled: true })
        .timeout(HANG_GUARD)
        .expect(503);
      expect((await database.userById(user.userId))?.disabled).toBe(false);
      await redisProcess.start();
      await redisBack();
      await meWith(token).expect(200);
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(bearer(adminToken.token))
        .send({ disabled: true })
        .expect(200);
      expect((await database.userById(user.userId))?.disabled).toBe(true);
      await meWith(token).expect(401);
    } finally {
      await database.close();
    }
  });
});
