import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { newSecurityEvent } from '../../src/events/security-event.js';
import { SecurityEventRetention } from '../../src/events/security-event-retention.js';
import { SecurityEventStore } from '../../src/events/security-event.store.js';
import { SecurityEvents } from '../../src/events/security-events.js';
import { DatabaseInspector } from '../helpers/database.js';
import {
  LoggedIn,
  login,
  PASSWORD,
  register,
  registerAndLogin,
} from '../helpers/logins.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import {
  eventOf,
  eventsOf,
  metricOf,
  typesOf,
  waitForEmptyBuffer,
} from '../helpers/security-events.js';
import { instanceOf, startApp, TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';

const DAY_MS = 86_400_000;

function logout(t: TestApp, user: LoggedIn) {
  return request(t.server)
    .post('/auth/logout')
    .set('Authorization', `Bearer ${user.accessToken}`)
    .expect(200);
}

describe('a PostgreSQL outage during logins', () => {
  let pg: PostgresProcess;
  let t: TestApp;
  beforeAll(async () => {
    pg = await PostgresProcess.create();
    t = await startApp({ DATABASE_URL: pg.url });
  });
  afterAll(async () => {
    pg?.thaw();
    await t?.close();
    await pg?.destroy();
  });
  afterEach(async () => {
    pg.thaw();
    await pg.start().catch(() => undefined);
  });

  it.each([
    ['stopped', () => pg.stop()],
    ['frozen (SIGSTOP)', () => Promise.resolve(pg.freeze())],
  ])(
    '%s: loses no event that fits the buffer; they are written once it returns',
    async (_, outage) => {
      const dropped = await metricOf(t, 'auth_security_events_dropped_total');
      const users: LoggedIn[] = [];
      for (let i = 0; i < 5; i++) users.push(await registerAndLogin(t.server));
      // The last logins' events may still be in memory when the database goes.
      await outage();
      // Logouts need Redis only: served, and their events wait for PostgreSQL.
      for (const user of users) await logout(t, user);
      await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username: users[0].username,
          password: PASSWORD,
        })
        .expect(503);
      const held = instanceOf(t, SecurityEvents).depth;
      expect(held).toBeGreaterThanOrEqual(users.length);
      expect(await metricOf(t, 'auth_security_events_buffered')).toBe(held);
      pg.thaw();
      await pg.start().catch(() => undefined);
      for (const user of users)
        await eventOf(t, user.userId, 'logout', undefined, 30_000);
      await waitForEmptyBuffer(t);
      for (const user of users)
        expect(await typesOf(t, user.userId)).toEqual([
          'account.registered',
          'login.succeeded',
          'logout',
        ]);
      expect(await metricOf(t, 'auth_security_events_dropped_total')).toBe(
        dropped,
      );
      expect(await metricOf(t, 'auth_security_events_buffered')).toBe(0);
    },
  );
});

describe('past SECURITY_EVENTS_BUFFER', () => {
  let pg: PostgresProcess;
  let t: TestApp;
  beforeAll(async () => {
    pg = await PostgresProcess.create();
    t = await startApp({ DATABASE_URL: pg.url, SECURITY_EVENTS_BUFFER: '3' });
  });
  afterAll(async () => {
    await t?.close();
    await pg?.destroy();
  });

  it('drops the events that do not fit and counts them; the rest are written', async () => {
    const users: LoggedIn[] = [];
    for (let i = 0; i < 5; i++) users.push(await registerAndLogin(t.server));
    await waitForEmptyBuffer(t);
    const dropped = () => metricOf(t, 'auth_security_events_dropped_total');
    const before = await dropped();
    await pg.stop();
    for (const user of users) await logout(t, user);
    expect(instanceOf(t, SecurityEvents).depth).toBe(3);
    expect((await dropped()) - before).toBe(2);
    await pg.start();
    await waitUntil(
      async () => instanceOf(t, SecurityEvents).depth === 0,
      'the buffer to be written',
      30_000,
    );
    const loggedOut = [];
    for (const user of users)
      if ((await typesOf(t, user.userId)).includes('logout'))
        loggedOut.push(user.userId);
    // The first three, in order; the two that came once it was full are gone.
    expect(loggedOut).toEqual(users.slice(0, 3).map((u) => u.userId));
  });
});

describe('graceful shutdown', () => {
  let db: DatabaseInspector;
  beforeAll(() => {
    db = new DatabaseInspector();
  });
  afterAll(async () => {
    await db.close();
  });

  const logoutsOf = async (userId: string) =>
    db.query(
      "select id from security_events where user_id = $1 and type = 'logout'",
      [userId],
    );

  it('writes what is buffered before the database closes', async () => {
    const t = await startApp();
    const user = await registerAndLogin(t.server);
    await logout(t, user);
    // Still in memory: the next batch would go within a second.
    expect(instanceOf(t, SecurityEvents).depth).toBeGreaterThan(0);
    await t.close();
    expect(await logoutsOf(user.userId)).toHaveLength(1);
  });

  it('gives up on what PostgreSQL cannot take, counts it as dropped, and closes', async () => {
    const pg = await PostgresProcess.create();
    const t = await startApp({ DATABASE_URL: pg.url });
    try {
      const user = await registerAndLogin(t.server);
      await waitForEmptyBuffer(t);
      await pg.stop();
      await logout(t, user);
      await t.close();
      expect(await metricOf(t, 'auth_security_events_dropped_total')).toBe(1);
    } finally {
      await pg.destroy();
    }
  });
});

describe('two instances writing at once', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { LOGIN_FREE_FAILURES_PER_ACCOUNT: '3' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('duplicate nothing: each login is one row', async () => {
    const accounts = await Promise.all(
      Array.from({ length: 6 }, () => register(a.server)),
    );
    await Promise.all(
      accounts.flatMap((account) => [
        login(a.server, account.username),
        login(b.server, account.username),
      ]),
    );
    await Promise.all([waitForEmptyBuffer(a), waitForEmptyBuffer(b)]);
    for (const account of accounts)
      expect(await typesOf(a, account.id)).toEqual([
        'account.registered',
        'login.succeeded',
        'login.succeeded',
      ]);
  });

  it('fold throttled attempts of one account into one row a minute, counting them all', async () => {
    const account = await register(a.server);
    for (let i = 0; i < 3; i++)
      await request(a.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username: account.username,
          password: 'a wrong guess',
        })
        .expect(400);
    const attempts = 10;
    await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        request((i % 2 === 0 ? a : b).server)
          .post('/auth/token')
          .type('form')
          .send({
            grant_type: 'password',
            username: account.username,
            password: PASSWORD,
          })
          .expect(429),
      ),
    );
    await Promise.all([waitForEmptyBuffer(a), waitForEmptyBuffer(b)]);
    const rows = (await eventsOf(a, account.id)).filter(
      (e) => e.type === 'login.throttled',
    );
    // One minute, or two when the attempts straddle one.
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.reduce((sum, e) => sum + e.count, 0)).toBe(attempts);
  });

  it('run retention one at a time: together they delete each old row once', async () => {
    const userId = randomUUID();
    const now = new Date(Date.UTC(1985, 5, 1));
    const old = Array.from({ length: 7 }, (_, i) =>
      newSecurityEvent(
        { type: 'logout', userId },
        new Date(now.getTime() - 100 * DAY_MS + i),
      ),
    );
    await instanceOf(a, SecurityEventStore).insertBatch(old);
    const [fromA, fromB] = await Promise.all([
      instanceOf(a, SecurityEventRetention).run(now, 2),
      instanceOf(b, SecurityEventRetention).run(now, 2),
    ]);
    expect(fromA + fromB).toBe(old.length);
    expect(await eventsOf(a, userId)).toEqual([]);
  });
});

const pgliteDir = mkdtempSync(join(tmpdir(), 'auth-retention-'));
afterAll(() => rmSync(pgliteDir, { recursive: true, force: true }));

describe.each([
  ['PostgreSQL', {}],
  ['PGlite', { DATABASE_URL: '', DATABASE_DIR: join(pgliteDir, 'pglite') }],
])('retention on %s', (_name, env: Record<string, string>) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ ...env, SECURITY_EVENTS_RETENTION_DAYS: '30' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('deletes only what is older than the window, in batches', async () => {
    const userId = randomUUID();
    // Far in the past, with `now` passed in: no other test's rows are that old.
    const now = new Date(Date.UTC(1980, 0, 1));
    const at = (days: number) => new Date(now.getTime() - days * DAY_MS);
    const older = [31, 40, 400].map((days) =>
      newSecurityEvent({ type: 'login.succeeded', userId }, at(days)),
    );
    const kept = [29, 1, 0].map((days) =>
      newSecurityEvent({ type: 'login.succeeded', userId }, at(days)),
    );
    const store = instanceOf(t, SecurityEventStore);
    await store.insertBatch([...older, ...kept]);
    expect(await instanceOf(t, SecurityEventRetention).run(now, 2)).toBe(
      older.length,
    );
    expect((await eventsOf(t, userId)).map((e) => e.id).sort()).toEqual(
      kept.map((e) => e.id).sort(),
    );
    // Nothing of this test's is left for another's retention run to count.
    await store.deleteOlderThan(new Date(now.getTime() + DAY_MS), 100);
    expect(await eventsOf(t, userId)).toEqual([]);
  });
});
