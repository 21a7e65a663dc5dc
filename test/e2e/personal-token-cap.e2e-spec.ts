import { jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { PersonalTokenPurge } from '../../src/credentials/personal-token-purge.js';
import { PasswordHasher } from '../../src/users/password-hasher.js';
import { DatabaseInspector } from '../helpers/database.js';
import { LoggedIn, PASSWORD, registerAndLogin } from '../helpers/logins.js';
import {
  bearer,
  createPersonalToken,
  listPersonalTokens,
} from '../helpers/personal-tokens.js';
import { instanceOf, startApp, TestApp } from '../helpers/test-app.js';

const LIMIT = 3;
const CAP_MESSAGE = `at most ${LIMIT} personal access tokens per account; revoke one first`;

const create = (t: TestApp, user: LoggedIn) =>
  request(t.server)
    .post('/auth/personal-tokens')
    .set(bearer(user.accessToken))
    .send({ name: 'ci', scopes: ['profile'], currentPassword: PASSWORD });

function expectCapped(res: request.Response): void {
  expect({ status: res.status, body: res.body as object }).toEqual({
    status: 400,
    body: expect.objectContaining({
      error: 'validation_failed',
      details: [CAP_MESSAGE],
    }),
  });
}

/**
 * Holds every password check on the given apps (the real PasswordHasher's `verify`, called
 * through) until `count` have passed, then lets them all go on at once: the creates they
 * belong to reach PostgreSQL together.
 */
function gatherPasswordChecks(apps: TestApp[], count: number): void {
  let arrived = 0;
  let open!: () => void;
  const gathered = new Promise<void>((resolve) => (open = resolve));
  for (const t of apps) {
    const hasher = instanceOf(t, PasswordHasher);
    const verify = hasher.verify.bind(hasher);
    jest
      .spyOn(hasher, 'verify')
      .mockImplementation(async (password, stored) => {
        const check = await verify(password, stored);
        if (++arrived === count) open();
        await gathered;
        return check;
      });
  }
}

describe('the cap on personal tokens per account (PERSONAL_TOKENS_PER_USER)', () => {
  let t: TestApp;
  let t2: TestApp;
  let database: DatabaseInspector;

  beforeAll(async () => {
    const env = {
      PERSONAL_TOKENS_PER_USER: String(LIMIT),
      // Parallel creates re-check the password at once: each is a login attempt in flight.
      LOGIN_FREE_FAILURES_PER_ACCOUNT: '100',
    };
    t = await startApp(env);
    t2 = await startApp(env);
    database = new DatabaseInspector();
  });
  afterAll(async () => {
    await database?.close();
    await t2?.close();
    await t?.close();
  });
  afterEach(() => jest.restoreAllMocks());

  it('refuses one more than the limit with a 400 naming it, and counts only live tokens', async () => {
    const user = await registerAndLogin(t.server);
    const made = [];
    for (let i = 0; i < LIMIT; i++)
      made.push(await createPersonalToken(t.server, bearer(user.accessToken)));
    expectCapped(await create(t, user));
    expectCapped(await create(t2, user));
    expect(
      await listPersonalTokens(t.server, bearer(user.accessToken)),
    ).toHaveLength(LIMIT);

    // A revoked token frees its place, and so does an expired one.
    await request(t.server)
      .delete(`/auth/personal-tokens/${made[0].id}`)
      .set(bearer(user.accessToken))
      .expect(204);
    await create(t, user).expect(201);
    expectCapped(await create(t, user));
    await database.query(
      "update personal_tokens set expires_at = now() - interval '1 second' where id = $1",
      [made[1].id],
    );
    await create(t2, user).expect(201);
    expectCapped(await create(t2, user));
  });

  it('lets exactly one of many creates at once, over two instances, take the last place', async () => {
    const user = await registerAndLogin(t.server);
    for (let i = 0; i < LIMIT - 1; i++)
      await createPersonalToken(t.server, bearer(user.accessToken));
    const parallel = 6;
    gatherPasswordChecks([t, t2], parallel);
    const answers = await Promise.all(
      Array.from({ length: parallel }, (_, i) =>
        create(i % 2 === 0 ? t : t2, user).then((res) => res),
      ),
    );
    jest.restoreAllMocks();
    expect(answers.map((res) => res.status).sort()).toEqual([
      201,
      ...Array<number>(parallel - 1).fill(400),
    ]);
    for (const res of answers.filter((r) => r.status !== 201))
      expectCapped(res);
    expect(
      await listPersonalTokens(t.server, bearer(user.accessToken)),
    ).toHaveLength(LIMIT);
  });
});

describe('the purge of long-expired personal tokens', () => {
  let t: TestApp;
  let database: DatabaseInspector;

  beforeAll(async () => {
    t = await startApp();
    database = new DatabaseInspector();
  });
  afterAll(async () => {
    await database?.close();
    await t?.close();
  });

  /** A token row of `userId` that expires (or expired) `days` days from now. */
  async function insertToken(userId: string, days: number): Promise<string> {
    const id = randomUUID();
    await database.query(
      `insert into personal_tokens (id, user_id, name, token_hash, prefix, scopes, created_at, expires_at)
       values ($1, $2, 'old', $3, 'sbat_test', '{profile}', now() - interval '400 days',
               now() + make_interval(days => $4))`,
      [id, userId, randomBytes(32).toString('hex'), days],
    );
    return id;
  }

  it('deletes tokens expired more than 30 days ago, batch after batch, and keeps the rest', async () => {
    const user = await registerAndLogin(t.server);
    const old = [];
    for (const days of [-31, -45, -90, -365, -400])
      old.push(await insertToken(user.userId, days));
    const kept = [
      await insertToken(user.userId, -29),
      await insertToken(user.userId, -1),
      await insertToken(user.userId, 30),
      (await createPersonalToken(t.server, bearer(user.accessToken))).id,
    ];

    // Batches of two: five old rows take three of them.
    const deleted = await t.app.get(PersonalTokenPurge).purge(2);
    expect(deleted).toBeGreaterThanOrEqual(old.length);

    const rows = await database.query<{ id: string }>(
      'select id from personal_tokens where user_id = $1',
      [user.userId],
    );
    expect(rows.map((row) => row.id).sort()).toEqual([...kept].sort());
  });
});
