import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  newSecurityEvent,
  type SecurityEventInput,
  type SecurityEventRow,
} from '../../src/events/security-event.js';
import { SecurityEventStore } from '../../src/events/security-event.store.js';
import { Database } from '../../src/infra/db/database.js';
import { startApp, TestApp } from '../helpers/test-app.js';

const pgliteDir = mkdtempSync(join(tmpdir(), 'auth-events-'));
afterAll(() => rmSync(pgliteDir, { recursive: true, force: true }));

const DATABASES: [string, () => Record<string, string>][] = [
  ['PostgreSQL', () => ({})],
  [
    'PGlite',
    () => ({ DATABASE_URL: '', DATABASE_DIR: join(pgliteDir, 'pglite') }),
  ],
];

/** Rows for a user of their own, at given times (ms since a fixed point far in the past). */
function eventsAt(
  userId: string,
  offsets: number[],
  input: Partial<SecurityEventInput> = {},
): SecurityEventRow[] {
  return offsets.map((ms) =>
    newSecurityEvent(
      { type: 'login.succeeded', userId, ...input },
      new Date(Date.UTC(2001, 0, 1) + ms),
    ),
  );
}

describe.each(DATABASES)('SecurityEventStore on %s', (_name, env) => {
  let t: TestApp;
  let store: SecurityEventStore;
  beforeAll(async () => {
    t = await startApp(env());
    store = t.app.get(SecurityEventStore);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists a user’s events newest first, one keyset page after another', async () => {
    const userId = randomUUID();
    // Two rows share a time: the id orders them.
    const rows = eventsAt(userId, [1000, 2000, 2000, 3000, 4000]);
    await store.insertBatch(rows);
    const expected = [...rows]
      .sort(
        (a, b) =>
          b.occurredAt.getTime() - a.occurredAt.getTime() ||
          (a.id < b.id ? 1 : -1),
      )
      .map((row) => row.id);
    const seen: string[] = [];
    let after: { occurredAt: Date; id: string } | undefined;
    for (;;) {
      const page = await store.list({ userId, limit: 2, after });
      seen.push(...page.map((e) => e.id));
      if (page.length < 2) break;
      const last = page[page.length - 1];
      after = { occurredAt: last.occurredAt, id: last.id };
    }
    expect(seen).toEqual(expected);
  });

  it('answers every column as written', async () => {
    const userId = randomUUID();
    const actorId = randomUUID();
    const [row] = eventsAt(userId, [10], {
      type: 'admin.roles_changed',
      actorId,
      client: { ip: '2001:db8::1', userAgent: 'x'.repeat(1000) },
      loginId: 'login-1',
      details: { old: ['user'], new: ['user', 'admin'] },
    });
    await store.insertBatch([row]);
    const [listed] = await store.list({ userId, limit: 10 });
    expect(listed).toEqual({
      id: row.id,
      occurredAt: row.occurredAt,
      type: 'admin.roles_changed',
      userId,
      actorId,
      ip: '2001:db8::1',
      userAgent: 'x'.repeat(256),
      loginId: 'login-1',
      details: { old: ['user'], new: ['user', 'admin'] },
      count: 1,
    });
  });

  it('filters by type and by a time window (since inclusive, until exclusive)', async () => {
    const userId = randomUUID();
    const logins = eventsAt(userId, [1000, 2000, 3000]);
    const [logout] = eventsAt(userId, [2500], { type: 'logout' });
    await store.insertBatch([...logins, logout]);
    const types = await store.list({ userId, type: 'logout', limit: 10 });
    expect(types.map((e) => e.id)).toEqual([logout.id]);
    const window = await store.list({
      userId,
      since: logins[1].occurredAt,
      until: logins[2].occurredAt,
      limit: 10,
    });
    expect(window.map((e) => e.id)).toEqual([logout.id, logins[1].id]);
    expect(await store.list({ userId, limit: 1 })).toHaveLength(1);
  });

  it('matches nothing for a user id or cursor id that is not a uuid', async () => {
    expect(await store.list({ userId: 'nope', limit: 10 })).toEqual([]);
    expect(
      await store.list({
        limit: 10,
        after: { occurredAt: new Date(), id: "1' or '1'='1" },
      }),
    ).toEqual([]);
  });

  it('writes a retried batch once', async () => {
    const userId = randomUUID();
    const rows = eventsAt(userId, [1, 2, 3]);
    await store.insertBatch(rows);
    await store.insertBatch(rows);
    await Promise.all([store.insertBatch(rows), store.insertBatch(rows)]);
    expect(await store.list({ userId, limit: 10 })).toHaveLength(3);
  });

  it('folds rows with one coalesce key into one, adding their counts', async () => {
    const userId = randomUUID();
    const key = `login.throttled:${userId}:test`;
    const folded = (count: number): SecurityEventRow => ({
      ...eventsAt(userId, [5], { type: 'login.throttled' })[0],
      count,
      coalesceKey: key,
    });
    await store.insertBatch([folded(3)]);
    await Promise.all([
      store.insertBatch([folded(4)]),
      store.insertBatch([folded(5)]),
    ]);
    const rows = await store.list({ userId, limit: 10 });
    expect(rows.map((e) => [e.type, e.count])).toEqual([
      ['login.throttled', 12],
    ]);
  });

  it('writes inside the caller’s transaction: rolled back with it', async () => {
    const userId = randomUUID();
    const [kept] = eventsAt(userId, [1]);
    const [lost] = eventsAt(userId, [2]);
    const { db } = t.app.get(Database);
    await db.transaction((tx) => store.insert(tx, [kept]));
    await expect(
      db.transaction(async (tx) => {
        await store.insert(tx, [lost]);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect((await store.list({ userId, limit: 10 })).map((e) => e.id)).toEqual([
      kept.id,
    ]);
  });

  it('deletes only rows older than the cutoff, in batches, oldest first', async () => {
    const userId = randomUUID();
    // Far older than any other test's rows (the retention tests' are of the 1980s): the
    // cutoff leaves theirs alone.
    const base = Date.UTC(1900, 0, 1);
    const old = [0, 1, 2, 3, 4].map((ms) =>
      newSecurityEvent({ type: 'logout', userId }, new Date(base + ms * 1000)),
    );
    const young = newSecurityEvent(
      { type: 'logout', userId },
      new Date(base + 10_000),
    );
    await store.insertBatch([...old, young]);
    const cutoff = new Date(base + 10_000);
    expect(await store.deleteOlderThan(cutoff, 2)).toBe(2);
    expect(
      (await store.list({ userId, limit: 10 })).map((e) => e.id).sort(),
    ).toEqual([old[2].id, old[3].id, old[4].id, young.id].sort());
    // Two at once: one holds the lock and deletes, the other deletes nothing; no error.
    const [a, b] = await Promise.all([
      store.deleteOlderThan(cutoff, 10),
      store.deleteOlderThan(cutoff, 10),
    ]);
    expect(a + b).toBe(3);
    expect((await store.list({ userId, limit: 10 })).map((e) => e.id)).toEqual([
      young.id,
    ]);
    // Nothing of this test's is left for another's retention run to count.
    expect(await store.deleteOlderThan(new Date(base + 20_000), 10)).toBe(1);
  });
});
