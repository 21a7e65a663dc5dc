import { DatabaseInspector } from '../helpers/database.js';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  AUTH_MODES,
  authAs,
  Credentials,
  expectEnded,
  expectLive,
  furtherToken,
  LoggedIn,
  login,
  meStatus,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import {
  inspectRedis,
  sessionKeyOf,
  tokenKeyOf,
  userLoginKeys,
} from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';

interface PublicUser {
  id: string;
  username: string;
  roles: string[];
  disabled: boolean;
  createdAt: string;
}

interface UserPage {
  items: PublicUser[];
  nextCursor: string | null;
}

const USER_FIELDS = [
  'createdAt',
  'disabled',
  'email',
  'emailVerified',
  'id',
  'roles',
  'username',
];

describe('admin', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let t: TestApp;
  let redis: Redis;
  let admin: Credentials;

  beforeAll(async () => {
    t = await startApp({
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
    });
    redis = inspectRedis();
    admin = await login(t.server, adminName, adminPassword);
  });
  afterAll(async () => {
    await t.close();
    redis.disconnect();
  });

  function asAdmin(
    method: 'get' | 'patch' | 'delete',
    path: string,
    mode: 'session' | 'bearer' = 'session',
  ): request.Test {
    return request(t.server)[method](path).set(authAs(mode, admin));
  }

  async function rolesSeenBy(
    mode: 'session' | 'bearer',
    c: Credentials,
  ): Promise<number> {
    return (await request(t.server).get('/admin/users').set(authAs(mode, c)))
      .status;
  }

  it('creates the configured admin account at boot with the admin role', async () => {
    for (const mode of AUTH_MODES) {
      const me = await request(t.server)
        .get('/admin/me')
        .set(authAs(mode, admin))
        .expect(200);
      expect(me.body).toMatchObject({ username: adminName });
      expect((me.body as PublicUser).roles).toContain('admin');
    }
  });

  it('gives a new account the roles ["user"] and nothing more', async () => {
    const user = await registerAndLogin(t.server);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    expect((me.body as PublicUser).roles).toEqual(['user']);
  });

  it.each(AUTH_MODES)(
    'refuses a plain user the admin routes with 403 but serves /admin/me (%s)',
    async (mode) => {
      const user = await registerAndLogin(t.server);
      const as = authAs(mode, user);
      await request(t.server).get('/admin/users').set(as).expect(403);
      await request(t.server)
        .patch(`/admin/users/${user.userId}`)
        .set(as)
        .send({ roles: ['user', 'admin'] })
        .expect(403);
      await request(t.server)
        .delete(`/admin/users/${user.userId}/sessions`)
        .set(as)
        .expect(403);
      await request(t.server).get('/admin/me').set(as).expect(200);
      // Still only a user, and still logged in.
      const me = await request(t.server).get('/admin/me').set(as).expect(200);
      expect((me.body as PublicUser).roles).toEqual(['user']);
      await expectLive(t.server, user);
    },
  );

  it('refuses the admin routes without a session or token', async () => {
    await request(t.server).get('/admin/users').expect(401);
    await request(t.server)
      .patch(`/admin/users/${randomUUID()}`)
      .send({ disabled: true })
      .expect(401);
    await request(t.server)
      .delete(`/admin/users/${randomUUID()}/sessions`)
      .expect(401);
  });

  /** Every page of `/admin/users?<query>`, following nextCursor to the end. */
  async function allPages(query: string, mode: 'session' | 'bearer') {
    const pages: UserPage[] = [];
    let after = '';
    do {
      const page = (
        await asAdmin(
          'get',
          `/admin/users?${query}${after ? `&after=${after}` : ''}`,
          mode,
        ).expect(200)
      ).body as UserPage;
      pages.push(page);
      after = page.nextCursor ?? '';
    } while (after && pages.length < 1000);
    return pages;
  }

  it.each(AUTH_MODES)(
    'pages through users oldest first with nextCursor, never showing a hash (%s)',
    async (mode) => {
      // Ten, so the pages below fit in the list even on a database that held no users before.
      const prefix = uniqueName('page');
      const mine: string[] = [];
      for (let i = 0; i < 10; i++)
        mine.push((await registerAndLogin(t.server, `${prefix}-${i}`)).userId);

      const pages = await allPages(`q=${prefix}&limit=2`, mode);
      expect(pages.map((p) => p.items.length)).toEqual([2, 2, 2, 2, 2]);
      expect(pages.map((p) => p.nextCursor === null)).toEqual([
        false,
        false,
        false,
        false,
        true,
      ]);
      expect(pages.flatMap((p) => p.items.map((u) => u.id))).toEqual(mine);

      // The whole listing: every user once, oldest first.
      const everyone = (await allPages('limit=100', mode)).flatMap(
        (p) => p.items,
      );
      const ids = everyone.map((u) => u.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expect.arrayContaining([...mine]));
      const times = everyone.map((u) => Date.parse(u.createdAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));

      for (const item of everyone)
        expect(Object.keys(item).sort()).toEqual(USER_FIELDS);
      const raw = (await asAdmin('get', '/admin/users?limit=100', mode)).text;
      expect(raw).not.toMatch(/scrypt|passwordHash|hash/i);
    },
  );

  it('keeps pages stable while users are added: no user twice, none skipped', async () => {
    const prefix = uniqueName('stable');
    const first = [0, 1, 2].map((i) => `${prefix}-${i}`);
    for (const name of first) await registerAndLogin(t.server, name);
    const page1 = (
      await asAdmin('get', `/admin/users?q=${prefix}&limit=2`).expect(200)
    ).body as UserPage;
    const late = (await registerAndLogin(t.server, `${prefix}-late`)).username;
    const page2 = (
      await asAdmin(
        'get',
        `/admin/users?q=${prefix}&limit=2&after=${page1.nextCursor}`,
      ).expect(200)
    ).body as UserPage;
    expect([...page1.items, ...page2.items].map((u) => u.username)).toEqual([
      ...first,
      late,
    ]);
    expect(page2.nextCursor).toBeNull();
  });

  it('matches q as a literal, case-insensitive username prefix: "_" and "." are no wildcards', async () => {
    const prefix = uniqueName('like').replace(/-/g, '');
    const names = [`${prefix}_x`, `${prefix}ax`, `${prefix}.y`, `${prefix}by`];
    for (const name of names) await registerAndLogin(t.server, name);
    const found = async (q: string) =>
      (
        (await asAdmin('get', `/admin/users?q=${q}`).expect(200))
          .body as UserPage
      ).items
        .map((u) => u.username)
        .sort();
    expect(await found(`${prefix}_`)).toEqual([`${prefix}_x`]);
    expect(await found(`${prefix}.`)).toEqual([`${prefix}.y`]);
    expect(await found(prefix.toUpperCase())).toEqual([...names].sort());
  });

  it('refuses bad paging parameters with 400', async () => {
    const notOurs = Buffer.from(
      JSON.stringify(['2026-01-01T00:00:00.000Z', 'not-a-uuid']),
    ).toString('base64url');
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=-5',
      'limit=ten',
      'offset=20',
      'page=2',
      'after=garbage',
      `after=${notOurs}`,
      `after=${'A'.repeat(201)}`,
      'q=%25',
      'q=a%20b',
      'q=',
      `q=${'a'.repeat(65)}`,
    ]) {
      const res = await asAdmin('get', `/admin/users?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body).toMatchObject({ error: 'validation_failed' });
    }
  });

  it('refuses a PATCH with unknown roles or fields with 400, and an unknown id with 404', async () => {
    const user = await registerAndLogin(t.server);
    for (const body of [
      { roles: ['superuser'] },
      { roles: ['user', 'root'] },
      { roles: 'admin' },
      { roles: ['user', 'user'] },
      { disabled: 'yes' },
      { username: 'renamed' },
      { roles: ['user'], passwordHash: 'x' },
    ]) {
      const res = await asAdmin('patch', `/admin/users/${user.userId}`).send(
        body,
      );
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const after = await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(after.body).toMatchObject({
      username: user.username,
      roles: ['user'],
    });

    await asAdmin('patch', `/admin/users/${randomUUID()}`)
      .send({ roles: ['user'] })
      .expect(404);
    await asAdmin('patch', '/admin/users/not-a-user-id')
      .send({ roles: ['user'] })
      .expect(400);
  });

  it("applies a granted and a revoked role on the very next request of the user's existing session and token (a granted role never widens a token's scope)", async () => {
    const user = await registerAndLogin(t.server);
    // A second login of the same user, used by token only.
    const other = await login(t.server, user.username);
    const credentials = [user, other];
    for (const c of credentials) {
      expect(await rolesSeenBy('session', c)).toBe(403);
      expect(await rolesSeenBy('bearer', c)).toBe(403);
    }
    const before = await redis.pttl(tokenKeyOf(user.accessToken));

    const granted = await asAdmin('patch', `/admin/users/${user.userId}`)
      .send({ roles: ['user', 'admin'] })
      .expect(200);
    expect(granted.body).toMatchObject({
      id: user.userId,
      roles: ['user', 'admin'],
      disabled: false,
    });
    for (const c of credentials) {
      expect(await rolesSeenBy('session', c)).toBe(200);
      // The role is there, but the token was granted its scopes before it: no "admin".
      const res = await request(t.server)
        .get('/admin/users')
        .set(authAs('bearer', c))
        .expect(403);
      expect(res.body).toMatchObject({ error: 'insufficient_scope' });
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="auth", error="insufficient_scope", scope="admin"',
      );
    }
    // The rewrite kept each key's expiry.
    const after = await redis.pttl(tokenKeyOf(user.accessToken));
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(before);
    expect(await redis.pttl(sessionKeyOf(user.cookie))).toBeGreaterThan(0);
    // A token issued later by the session carries the new roles too.
    const further = (await furtherToken(t.server, user)).access_token;
    expect(
      (
        await request(t.server)
          .get('/admin/users')
          .set('Authorization', `Bearer ${further}`)
      ).status,
    ).toBe(200);

    await asAdmin('patch', `/admin/users/${user.userId}`, 'bearer')
      .send({ roles: ['user'] })
      .expect(200);
    for (const c of [...credentials, { ...user, accessToken: further }]) {
      expect(await rolesSeenBy('session', c)).toBe(403);
      expect(await rolesSeenBy('bearer', c)).toBe(403);
    }
    // Revoking a role ends nothing.
    await expectLive(t.server, user);
    await expectLive(t.server, other);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${other.accessToken}`)
      .expect(200);
    expect((me.body as PublicUser).roles).toEqual(['user']);
  });

  it.each(AUTH_MODES)(
    'disables an account: its logins end and it cannot log in, as with a bad password (%s)',
    async (mode) => {
      const user = await registerAndLogin(t.server);
      const second = await login(t.server, user.username);
      const bystander = await registerAndLogin(t.server);

      const res = await asAdmin('patch', `/admin/users/${user.userId}`, mode)
        .send({ disabled: true })
        .expect(200);
      expect(res.body).toMatchObject({ id: user.userId, disabled: true });
      for (const c of [user, second]) {
        await expectEnded(t.server, c);
        expect(await redis.exists(sessionKeyOf(c.cookie))).toBe(0);
        expect(await redis.exists(tokenKeyOf(c.accessToken))).toBe(0);
      }
      expect(await userLoginKeys(redis, user.userId)).toEqual([]);
      await expectLive(t.server, bystander);

      const disabled = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username: user.username,
          password: PASSWORD,
        });
      const badPassword = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username: bystander.username,
          password: 'not the right password',
        });
      expect(disabled.status).toBe(400);
      expect(disabled.body).toEqual(badPassword.body);
      expect(disabled.body).toMatchObject({ error: 'invalid_grant' });
      expect(sessionCookieNames(disabled)).toEqual([]);

      const enabled = await asAdmin(
        'patch',
        `/admin/users/${user.userId}`,
        mode,
      )
        .send({ disabled: false })
        .expect(200);
      // Disabling and enabling again leaves the roles as they were.
      expect(enabled.body).toMatchObject({ roles: ['user'], disabled: false });
      const back = await login(t.server, user.username);
      await expectLive(t.server, back);
      const me = await request(t.server)
        .get('/admin/me')
        .set('Cookie', back.cookie)
        .expect(200);
      expect((me.body as PublicUser).roles).toEqual(['user']);
      await request(t.server)
        .get('/admin/users')
        .set('Cookie', back.cookie)
        .expect(403);
    },
  );

  it('changes only the fields a PATCH names', async () => {
    const user = await registerAndLogin(t.server);
    await asAdmin('patch', `/admin/users/${user.userId}`)
      .send({ roles: ['user', 'admin'] })
      .expect(200);
    const page = await asAdmin('patch', `/admin/users/${user.userId}`)
      .send({})
      .expect(200);
    expect(page.body).toMatchObject({
      roles: ['user', 'admin'],
      disabled: false,
    });
    const db = new DatabaseInspector();
    try {
      const stored = await db.userById(user.userId);
      expect(stored).toMatchObject({
        roles: ['user', 'admin'],
        disabled: false,
      });
      expect(stored?.password_hash).toMatch(/^\$argon2id\$/);
      expect(stored!.updated_at.getTime()).toBeGreaterThan(
        stored!.created_at.getTime() - 1,
      );
    } finally {
      await db.close();
    }
  });

  it.each(AUTH_MODES)(
    'ends every login of a user through DELETE /admin/users/:id/sessions (%s)',
    async (mode) => {
      const user: LoggedIn = await registerAndLogin(t.server);
      const second = await login(t.server, user.username);
      const bystander = await registerAndLogin(t.server);
      const res = await asAdmin(
        'delete',
        `/admin/users/${user.userId}/sessions`,
        mode,
      ).expect(200);
      expect(res.body).toEqual({ ended: 2 });
      await expectEnded(t.server, user);
      await expectEnded(t.server, second);
      expect(await userLoginKeys(redis, user.userId)).toEqual([]);
      await expectLive(t.server, bystander);
      await expectLive(t.server, admin);
      // The account itself is untouched.
      await expectLive(t.server, await login(t.server, user.username));

      await asAdmin(
        'delete',
        `/admin/users/${randomUUID()}/sessions`,
        mode,
      ).expect(404);
    },
  );

  it('keeps /admin/me open to any logged-in user in both modes', async () => {
    const user = await registerAndLogin(t.server);
    expect(await meStatus(t.server, 'session', user)).toBe(200);
    expect(await meStatus(t.server, 'bearer', user)).toBe(200);
  });

  it('documents the admin routes in Swagger with their security and errors', async () => {
    const doc = (await request(t.server).get('/docs-json').expect(200))
      .body as {
      paths: Record<
        string,
        Record<
          string,
          {
            security?: Record<string, unknown>[];
            responses: Record<string, unknown>;
            parameters?: { name: string; in: string }[];
          }
        >
      >;
    };
    const routes: [string, string, string[]][] = [
      ['/admin/users', 'get', ['200', '400', '401', '403']],
      ['/admin/users/{id}', 'patch', ['200', '400', '401', '403', '404']],
      [
        '/admin/users/{id}/sessions',
        'delete',
        ['200', '400', '401', '403', '404'],
      ],
      ['/admin/me', 'get', ['200', '401']],
    ];
    for (const [path, method, statuses] of routes) {
      const op = doc.paths[path]?.[method];
      expect(op).toBeDefined();
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      expect(schemes).toEqual(expect.arrayContaining(['oauth2', 'session']));
      expect({ path, statuses: Object.keys(op.responses) }).toEqual({
        path,
        statuses: expect.arrayContaining(statuses),
      });
    }
    const paging = doc.paths['/admin/users'].get.parameters ?? [];
    expect(
      paging
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['after', 'limit', 'q']);
    // Only a bearer token without the "profile" scope is refused there.
    expect(
      (doc.paths['/admin/me'].get.responses['403'] as { description?: string })
        ?.description,
    ).toMatch(/scope "profile"/);
  });
});

// Its own apps: the bearer strategy is registered on passport's process-wide instance, so
// closing a second app would leave the first one checking tokens on a closed Redis client.
describe('admin account seeding', () => {
  it('creates the admin once and keeps its password when restarted with a different ADMIN_PASSWORD', async () => {
    const username = uniqueName('admin');
    const original = `admin ${uniqueName('secret')} phrase`;
    const first = await startApp({
      ADMIN_USERNAME: username,
      ADMIN_PASSWORD: original,
    });
    await first.close();
    const restarted = await startApp({
      ADMIN_USERNAME: username,
      ADMIN_PASSWORD: `other ${uniqueName('secret')} phrase`,
    });
    try {
      const refused = await request(restarted.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username,
          password: restarted.config.adminPassword,
        });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'invalid_grant' });
      const again = await login(restarted.server, username, original);
      const me = await request(restarted.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${again.accessToken}`)
        .expect(200);
      expect((me.body as PublicUser).roles).toContain('admin');
      await request(restarted.server)
        .get('/admin/users')
        .set('Cookie', again.cookie)
        .expect(200);
    } finally {
      await restarted.close();
    }
  });

  it('creates no admin when only one of ADMIN_USERNAME and ADMIN_PASSWORD is set', async () => {
    const username = uniqueName('admin');
    const app = await startApp({
      ADMIN_USERNAME: username,
      ADMIN_PASSWORD: '',
    });
    try {
      const res = await request(app.server)
        .post('/auth/register')
        .send({ username, password: PASSWORD })
        .expect(201);
      expect(res.body).toMatchObject({ username });
    } finally {
      await app.close();
    }
  });
});

function sessionCookieNames(res: request.Response): string[] {
  const raw = (res.headers['set-cookie'] as unknown as string[]) ?? [];
  return raw
    .filter((c) => c.startsWith('session=') && !c.startsWith('session=;'))
    .map((c) => c.split('=')[0]);
}
