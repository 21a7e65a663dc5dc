import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { Database } from '../../src/infra/db/database.js';
import { MIGRATIONS_FOLDER } from '../../src/infra/db/migrations.js';
import { migratePostgres } from '../../src/infra/db/postgres.driver.js';
import { DatabaseInspector } from '../helpers/database.js';
import {
  LoggedIn,
  login,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { inspectRedis } from '../helpers/redis-inspection.js';
import { AppRedisCommands } from '../helpers/redis-monitor.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';

/** What one request cost: statements PostgreSQL logged for the app, and Redis commands. */
interface Cost {
  statements: string[];
  counted: number;
  redis: string[];
}

describe('database and Redis work per request', () => {
  let pg: PostgresProcess;
  let t: TestApp;
  let commands: AppRedisCommands;
  let user: LoggedIn;

  beforeAll(async () => {
    // The server logs every statement with the sender's application_name: a count from
    // PostgreSQL itself, not from the app.
    pg = await PostgresProcess.create(undefined, [
      'log_statement=all',
      'log_line_prefix=app=%a:',
    ]);
    t = await startApp({ DATABASE_URL: pg.url });
    user = await registerAndLogin(t.server);
    commands = new AppRedisCommands(t.redis);
    await commands.start();
  });
  afterAll(async () => {
    commands?.stop();
    await t?.close();
    await pg?.destroy();
  });

  function appStatements(): string[] {
    return pg
      .log()
      .split('\n')
      .filter((line) => line.startsWith('app=session-bearer-auth:'))
      .filter((line) => /LOG: {2}(statement|execute)/.test(line));
  }

  async function costOf(send: () => Promise<unknown>): Promise<Cost> {
    const database = t.app.get(Database);
    const before = appStatements().length;
    const counted = database.queryCount;
    await commands.flush();
    commands.clear();
    await send();
    await commands.flush();
    return {
      statements: appStatements().slice(before),
      counted: database.queryCount - counted,
      redis: commands.commands.map((c) => c[0]),
    };
  }

  it.each([
    ['session', (u: LoggedIn) => ({ Cookie: u.cookie })],
    ['bearer', (u: LoggedIn) => ({ Authorization: `Bearer ${u.accessToken}` })],
  ])(
    'answers an authenticated request by %s with one Redis command and no database query',
    async (_, headers) => {
      // A steady request: the first of a login may also note its last-seen time.
      await request(t.server).get('/admin/me').set(headers(user)).expect(200);
      const cost = await costOf(() =>
        request(t.server).get('/admin/me').set(headers(user)).expect(200),
      );
      expect(cost.statements).toEqual([]);
      expect(cost.counted).toBe(0);
      expect(cost.redis).toHaveLength(1);
    },
  );

  it('logs in with one database query, by username', async () => {
    const cost = await costOf(() => login(t.server, user.username));
    expect(cost.statements).toHaveLength(1);
    expect(cost.statements[0]).toMatch(/select .* from "users" where lower/i);
    expect(cost.counted).toBe(1);
  });

  it('registers with one insert', async () => {
    const cost = await costOf(() =>
      request(t.server)
        .post('/auth/register')
        .send({ username: uniqueName(), password: PASSWORD })
        .expect(201),
    );
    expect(cost.statements).toHaveLength(1);
    expect(cost.statements[0]).toMatch(/insert into "users"/i);
    expect(cost.counted).toBe(1);
    expect(cost.redis).toEqual([]);
  });

  it('refuses a taken name with the same one insert and no second statement', async () => {
    const cost = await costOf(() =>
      request(t.server)
        .post('/auth/register')
        .send({ username: user.username.toUpperCase(), password: PASSWORD })
        .expect(409),
    );
    expect(cost.statements).toHaveLength(1);
    expect(cost.statements[0]).toMatch(/on conflict do nothing/i);
  });
});

describe('simultaneous registrations over two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let db: DatabaseInspector;
  beforeAll(async () => {
    [a, b] = await Promise.all([startApp(), startApp()]);
    db = new DatabaseInspector();
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.close();
  });

  it('creates the name once: one 201 and one 409 username_taken, whatever the case, never a 500', async () => {
    for (let round = 0; round < 8; round++) {
      const name = uniqueName('race');
      const other = round % 2 === 0 ? name.toUpperCase() : name;
      const results = await Promise.all([
        request(a.server)
          .post('/auth/register')
          .send({ username: name, password: PASSWORD }),
        request(b.server)
          .post('/auth/register')
          .send({ username: other, password: PASSWORD }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const refused = results.find((r) => r.status === 409)!;
      expect(refused.body).toMatchObject({ error: 'username_taken' });
      const rows = await db.query(
        'select id from users where lower(username) = lower($1)',
        [name],
      );
      expect(rows).toHaveLength(1);
    }
  });
});

describe('Redis emptied (FLUSHALL)', () => {
  let redis: RedisProcess;
  let t: TestApp;
  let db: DatabaseInspector;
  beforeAll(async () => {
    redis = await RedisProcess.start();
    t = await startApp({ REDIS_URL: redis.url });
    db = new DatabaseInspector();
  });
  afterAll(async () => {
    await t?.close();
    await redis?.kill();
    await db?.close();
  });

  it('logs everyone out and loses no account: each logs in again with the same password', async () => {
    const users = [
      await registerAndLogin(t.server),
      await registerAndLogin(t.server),
    ];
    const before = await Promise.all(users.map((u) => db.userById(u.userId)));
    const client = inspectRedis(redis.url);
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    for (const u of users) {
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', u.cookie)
        .expect(401);
      await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${u.accessToken}`)
        .expect(401);
    }
    expect(await Promise.all(users.map((u) => db.userById(u.userId)))).toEqual(
      before,
    );
    for (const u of users) {
      const again = await login(t.server, u.username);
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', again.cookie)
        .expect(200);
    }
  });
});

/** How many migrations drizzle-kit has generated: each is applied once. */
const MIGRATIONS = (
  JSON.parse(
    readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as { entries: unknown[] }
).entries.length;

describe('migrations at boot', () => {
  const name = `auth_migrate_${process.pid}_${Date.now()}`;
  let server: DatabaseInspector;
  let url: string;
  beforeAll(async () => {
    const serverUrl = new URL(process.env.DATABASE_URL!);
    serverUrl.pathname = '/postgres';
    server = new DatabaseInspector(serverUrl.toString());
    await server.query(`create database ${name}`);
    serverUrl.pathname = `/${name}`;
    url = serverUrl.toString();
  });
  afterAll(async () => {
    await server.query(`drop database if exists ${name} with (force)`);
    await server.close();
  });

  it('migrates once when three migrations run at once on an empty database, under the advisory lock', async () => {
    await Promise.all([0, 1, 2].map(() => migratePostgres(url)));
    const db = new DatabaseInspector(url);
    try {
      expect(
        await db.query('select hash from drizzle.__drizzle_migrations'),
      ).toHaveLength(MIGRATIONS);
    } finally {
      await db.close();
    }
  });

  it('lets three instances boot on that database and serve it', async () => {
    const apps = await Promise.all(
      [0, 1, 2].map(() => startApp({ DATABASE_URL: url })),
    );
    try {
      for (const app of apps)
        await request(app.server)
          .get('/health')
          .expect(200, { status: 'ok', redis: 'up', database: 'up' });
      const user = await registerAndLogin(apps[0].server);
      await login(apps[2].server, user.username);
      const db = new DatabaseInspector(url);
      try {
        expect(
          await db.query('select hash from drizzle.__drizzle_migrations'),
        ).toHaveLength(MIGRATIONS);
      } finally {
        await db.close();
      }
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });
});
