import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DatabaseInspector } from '../helpers/database.js';
import {
  AUTH_MODES,
  authAs,
  login,
  registerAndLogin,
  uniqueName,
  type Credentials,
  type LoggedIn,
} from '../helpers/logins.js';
import { newSecurityEvent } from '../../src/events/security-event.js';
import { SecurityEventStore } from '../../src/events/security-event.store.js';
import { instanceOf, startApp, type TestApp } from '../helpers/test-app.js';

interface ListedEvent {
  id: string;
  type: string;
  at: string;
  ip: string | null;
  userAgent: string | null;
  device: string | null;
  loginId: string | null;
  byAdmin: boolean;
  count: number;
  details: Record<string, unknown>;
  userId?: string | null;
  actorId?: string | null;
}

interface EventPage {
  items: ListedEvent[];
  nextCursor: string | null;
}

const FIREFOX_ON_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
/** Seeded events are years old: whatever the running app records itself is newer. */
const SEEDED_FROM = Date.parse('2021-03-01T12:00:00.000Z');
const SEEDED_TYPES = ['login.succeeded', 'login.failed', 'logout'] as const;

/**
 * Reading the record: GET /auth/events (the caller's own) and GET /admin/events (any
 * account's, filtered). The events are seeded straight into the table, so every answer can be
 * checked against what PostgreSQL holds, whatever else the app records meanwhile.
 */
describe('security events: reading them', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let t: TestApp;
  let db: DatabaseInspector;
  let admin: Credentials & { userId: string };
  let alice: LoggedIn;
  let bob: LoggedIn;

  /** Inserts events of `userId`, one minute apart from `from`, and their ids. */
  async function seed(
    userId: string,
    rows: {
      type?: string;
      at?: number;
      actorId?: string;
      ip?: string;
      userAgent?: string;
    }[],
  ): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, row] of rows.entries()) {
      const id = randomUUID();
      ids.push(id);
      await db.query(
        `insert into security_events (id, occurred_at, type, user_id, actor_id, ip, user_agent, details)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          id,
          new Date(row.at ?? SEEDED_FROM + i * 60_000),
          row.type ?? SEEDED_TYPES[i % SEEDED_TYPES.length],
          userId,
          row.actorId ?? null,
          row.ip ?? '192.0.2.1',
          row.userAgent ?? 'curl/8.5.0',
          { seeded: i },
        ],
      );
    }
    return ids;
  }

  /** What PostgreSQL holds for a filter, in the listing's order. */
  async function storedIds(
    where: string,
    values: unknown[],
  ): Promise<string[]> {
    const rows = await db.query<{ id: string }>(
      `select id from security_events where ${where} order by occurred_at desc, id desc`,
      values,
    );
    return rows.map((row) => row.id);
  }

  /** Every page of a listing, following `nextCursor`, with the page sizes seen. */
  async function allPages(
    path: string,
    headers: Record<string, string>,
  ): Promise<{ ids: string[]; pages: number[]; events: ListedEvent[] }> {
    const events: ListedEvent[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await request(t.server)
        .get(cursor ? `${path}${sep}after=${cursor}` : path)
        .set(headers)
        .expect(200);
      const page = res.body as EventPage;
      pages.push(page.items.length);
      events.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 50);
    return { ids: events.map((e) => e.id), pages, events };
  }

  beforeAll(async () => {
    t = await startApp({
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
    });
    db = new DatabaseInspector();
    const adminLogin = await login(t.server, adminName, adminPassword);
    const adminRow = await db.userByName(adminName);
    admin = { ...adminLogin, userId: adminRow!.id };
    alice = await registerAndLogin(t.server);
    bob = await registerAndLogin(t.server);
    await seed(alice.userId, [
      ...Array.from({ length: 22 }, () => ({})),
      {
        type: 'password.changed',
        ip: '::ffff:198.51.100.20',
        userAgent: FIREFOX_ON_WINDOWS,
      },
      {
        type: 'admin.account_disabled',
        actorId: admin.userId,
        ip: '::ffff:203.0.113.7',
        userAgent: FIREFOX_ON_WINDOWS,
      },
    ]);
    // Two at the very same time: the id orders them, and paging must not lose either.
    const tie = SEEDED_FROM - 3_600_000;
    await seed(alice.userId, [{ at: tie }, { at: tie }]);
    await seed(
      bob.userId,
      Array.from({ length: 5 }, () => ({})),
    );
  });
  afterAll(async () => {
    await db.query('delete from security_events where user_id = any($1)', [
      [alice.userId, bob.userId, admin.userId],
    ]);
    await db.close();
    await t.close();
  });

  it.each(AUTH_MODES)(
    'lists the caller’s own events newest first, page by page, and nobody else’s (%s)',
    async (mode) => {
      const listed = await allPages(
        '/auth/events?limit=7',
        authAs(mode, alice),
      );
      expect(listed.ids).toEqual(
        await storedIds('user_id = $1', [alice.userId]),
      );
      expect(listed.ids.length).toBeGreaterThanOrEqual(26);
      expect(listed.pages.slice(0, -1).every((n) => n === 7)).toBe(true);
      expect(new Set(listed.ids).size).toBe(listed.ids.length);
      const bobs = await storedIds('user_id = $1', [bob.userId]);
      expect(listed.ids.filter((id) => bobs.includes(id))).toEqual([]);
    },
  );

  it('shows the owner an event as people read it: a device, a plain address; of an admin’s act only that an admin acted', async () => {
    const { events } = await allPages(
      '/auth/events?limit=100',
      authAs('session', alice),
    );
    const changed = events.find((e) => e.type === 'password.changed')!;
    expect(changed).toMatchObject({
      ip: '198.51.100.20',
      device: 'Firefox on Windows',
      userAgent: FIREFOX_ON_WINDOWS,
      byAdmin: false,
      count: 1,
      details: { seeded: 22 },
    });
    expect(changed.at).toBe(new Date(SEEDED_FROM + 22 * 60_000).toISOString());
    // Which admin, and the admin's own address and browser, are not the owner's to see.
    const disabled = events.find((e) => e.type === 'admin.account_disabled')!;
    expect(disabled).toMatchObject({
      byAdmin: true,
      ip: null,
      userAgent: null,
      device: null,
    });
    for (const event of events) {
      expect(event).not.toHaveProperty('actorId');
      expect(event).not.toHaveProperty('userId');
    }
    const own = events.find((e) => e.type === 'logout')!;
    expect(own).toMatchObject({
      byAdmin: false,
      device: 'curl',
      ip: '192.0.2.1',
    });
  });

  it('needs a login: 401 without one, 403 for a token without the logins scope', async () => {
    await request(t.server).get('/auth/events').expect(401);
    const narrow = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: bob.username,
        password: bob.password,
        scope: 'profile',
      })
      .expect(200);
    await request(t.server)
      .get('/auth/events')
      .set(
        'Authorization',
        `Bearer ${(narrow.body as { access_token: string }).access_token}`,
      )
      .expect(403);
  });

  it('lets an admin read any account’s events, filtered by account, type and time', async () => {
    const asAdmin = authAs('bearer', admin);
    const byUser = await allPages(
      `/admin/events?user=${alice.userId}&limit=9`,
      asAdmin,
    );
    expect(byUser.ids).toEqual(await storedIds('user_id = $1', [alice.userId]));
    const disabled = byUser.events.find(
      (e) => e.type === 'admin.account_disabled',
    )!;
    expect(disabled).toMatchObject({
      userId: alice.userId,
      actorId: admin.userId,
      byAdmin: true,
      ip: '203.0.113.7',
      device: 'Firefox on Windows',
    });

    const logouts = await allPages(
      `/admin/events?user=${alice.userId}&type=logout&limit=3`,
      asAdmin,
    );
    expect(logouts.ids).toEqual(
      await storedIds('user_id = $1 and type = $2', [alice.userId, 'logout']),
    );
    // Every third of the 23 plain seeded events (indexes 2, 5, ... 20).
    expect(logouts.ids.length).toBe(7);

    // since is inclusive, until exclusive: minutes 5 to 9 of the seeded run.
    const since = new Date(SEEDED_FROM + 5 * 60_000).toISOString();
    const until = new Date(SEEDED_FROM + 10 * 60_000).toISOString();
    const window = await allPages(
      `/admin/events?user=${alice.userId}&since=${since}&until=${until}&limit=2`,
      asAdmin,
    );
    expect(window.ids).toEqual(
      await storedIds(
        'user_id = $1 and occurred_at >= $2 and occurred_at < $3',
        [alice.userId, since, until],
      ),
    );
    expect(window.ids.length).toBe(5);

    // The filters stay with the cursor: type and time across the whole table.
    const everyLogout = await allPages(
      `/admin/events?type=logout&until=${until}&limit=50`,
      asAdmin,
    );
    expect(everyLogout.ids).toEqual(
      await storedIds('type = $1 and occurred_at < $2', ['logout', until]),
    );
    expect(everyLogout.events.every((e) => e.type === 'logout')).toBe(true);
  });

  it('answers an unknown account with an empty page, not an error', async () => {
    const res = await request(t.server)
      .get(`/admin/events?user=${randomUUID()}`)
      .set(authAs('session', admin))
      .expect(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });

  it('keeps the admin listing from anyone without the admin role', async () => {
    for (const mode of AUTH_MODES)
      await request(t.server)
        .get('/admin/events')
        .set(authAs(mode, alice))
        .expect(403);
    await request(t.server).get('/admin/events').expect(401);
  });

  // Titles name the case by number: one of them is 10 kB long.
  it.each([
    ['type', 'type[$ne]=logout'],
    ['type', 'type=login.hacked'],
    ['type', 'type=logout&type=logout_all'],
    ['user', `user=${'a'.repeat(10_000)}`],
    ['user', 'user=not-a-uuid'],
    ['user', "user=' or 1=1 --"],
    ['since', 'since=yesterday'],
    ['since', 'since=2026-13-45T00:00:00Z'],
    ['until', 'until[$gt]=2026-01-01'],
    ['until', 'until=1700000000'],
    ['limit', 'limit=0'],
    ['limit', 'limit=101'],
    ['limit', 'limit=ten'],
    ['after', 'after=%%%'],
    [
      'after',
      `after=${Buffer.from('["2026-01-01T00:00:00.000Z","x"]').toString('base64url')}`,
    ],
    ['actor', 'actor=someone'],
  ])(
    'refuses a bad %s (case %#) with a 400 naming it',
    async (field, query) => {
      const res = await request(t.server)
        .get(`/admin/events?${query}`)
        .set(authAs('session', admin));
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body).toMatchObject({ error: 'validation_failed' });
      expect((res.body as { details: string[] }).details.join(' ')).toContain(
        field,
      );
    },
  );

  it.each([
    ['limit=0', 'limit'],
    ['after=nonsense', 'after'],
    [`user=${randomUUID()}`, 'user'],
  ])(
    'refuses %s on the owner’s listing with a 400 naming %s',
    async (query, field) => {
      const res = await request(t.server)
        .get(`/auth/events?${query}`)
        .set(authAs('session', alice));
      expect(res.status).toBe(400);
      expect((res.body as { details: string[] }).details.join(' ')).toContain(
        field,
      );
    },
  );
});

describe('security events: reading them from the embedded PGlite', () => {
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'events-read-'));
    t = await startApp({ DATABASE_URL: '', DATABASE_DIR: join(dir, 'pglite') });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages the owner’s events newest first there too', async () => {
    const user = await registerAndLogin(t.server);
    const from = Date.parse('2021-01-01T00:00:00.000Z');
    const seeded = Array.from({ length: 5 }, (_, i) =>
      newSecurityEvent(
        {
          type: 'login.succeeded',
          userId: user.userId,
          client: { ip: '::ffff:198.51.100.4', userAgent: 'curl/8.5.0' },
        },
        new Date(from + i * 1000),
      ),
    );
    await instanceOf(t, SecurityEventStore).insertBatch(seeded);
    const seen: string[] = [];
    let after = '';
    for (;;) {
      const res = await request(t.server)
        .get(`/auth/events?limit=2${after}`)
        .set(authAs('bearer', user))
        .expect(200);
      const page = res.body as EventPage;
      seen.push(...page.items.map((e) => e.id));
      if (page.nextCursor === null) break;
      after = `&after=${page.nextCursor}`;
    }
    const oldestFirst = seeded.map((e) => e.id);
    // Whatever the app recorded itself is newer than the seeded events, so it comes first.
    expect(seen.slice(-5)).toEqual(oldestFirst.reverse());
  });
});
