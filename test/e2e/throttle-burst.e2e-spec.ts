import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { PASSWORD, register, uniqueName } from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';

const FREE_PER_ACCOUNT = 5;
const FREE_PER_ADDRESS = 5;
const BURST = 40;

/**
 * Parallel guessing through two instances sharing one Redis. A 400 `invalid_grant` means the
 * password was hashed and compared; a 429 means the attempt was refused before any hashing.
 */
describe('login throttle under a parallel burst', () => {
  let a: TestApp;
  let b: TestApp;
  const env = {
    TRUST_PROXY: '1',
    LOGIN_FREE_FAILURES_PER_ACCOUNT: String(FREE_PER_ACCOUNT),
    LOGIN_FREE_FAILURES_PER_ADDRESS: String(FREE_PER_ADDRESS),
  };
  beforeAll(async () => {
    a = await startApp(env);
    b = await startApp(env);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  // Documentation-range addresses, unique per run: buckets outlive a run by the failure window.
  const run = randomBytes(2).toString('hex');
  let address = 0;
  const freshAddress = () => `2001:db8:${run}::${(++address).toString(16)}`;
  const attempt = (
    i: number,
    username: string,
    password: string,
    from: string,
  ) =>
    request((i % 2 === 0 ? a : b).server)
      .post('/auth/token')
      .set('X-Forwarded-For', from)
      .type('form')
      .send({ grant_type: 'password', username, password });

  /** Fires every attempt at once and tallies what came back. */
  async function burst(
    attempts: (() => request.Test)[],
  ): Promise<{ checked: number; refused: number; other: number[] }> {
    const responses = await Promise.all(attempts.map((send) => send()));
    const tally = { checked: 0, refused: 0, other: [] as number[] };
    for (const res of responses) {
      if (res.status === 400) {
        expect(res.body).toMatchObject({ error: 'invalid_grant' });
        tally.checked++;
      } else if (res.status === 429) {
        expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
        tally.refused++;
      } else tally.other.push(res.status);
    }
    return tally;
  }

  it(`checks at most ${FREE_PER_ACCOUNT} of ${BURST} parallel wrong passwords against one account, from ${BURST} addresses`, async () => {
    const username = uniqueName();
    await register(a.server, username);
    const tally = await burst(
      Array.from(
        { length: BURST },
        (_, i) => () => attempt(i, username, `wrong-${i}`, freshAddress()),
      ),
    );
    expect(tally.other).toEqual([]);
    expect(tally.checked).toBeGreaterThanOrEqual(1);
    expect(tally.checked).toBeLessThanOrEqual(FREE_PER_ACCOUNT);
    expect(tally.refused).toBe(BURST - tally.checked);
  });

  it(`checks at most ${FREE_PER_ADDRESS} of ${BURST} parallel wrong passwords from one address, against ${BURST} accounts`, async () => {
    const from = freshAddress();
    const tally = await burst(
      Array.from(
        { length: BURST },
        (_, i) => () => attempt(i, uniqueName(), 'wrong-password', from),
      ),
    );
    expect(tally.other).toEqual([]);
    expect(tally.checked).toBeGreaterThanOrEqual(1);
    expect(tally.checked).toBeLessThanOrEqual(FREE_PER_ADDRESS);
    expect(tally.refused).toBe(BURST - tally.checked);
  });

  it('refuses the right password with 429 while the account cools down, on either instance', async () => {
    const username = uniqueName();
    await register(a.server, username);
    await burst(
      Array.from(
        { length: FREE_PER_ACCOUNT + 3 },
        (_, i) => () => attempt(i, username, `wrong-${i}`, freshAddress()),
      ),
    );
    for (const i of [0, 1]) {
      const res = await attempt(i, username, PASSWORD, freshAddress());
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ error: 'too_many_attempts' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
  });

  it('gives the reservation of a right password back, so parallel right passwords are not held against the account', async () => {
    const username = uniqueName();
    await register(a.server, username);
    const n = FREE_PER_ACCOUNT * 3;
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        attempt(i, username, PASSWORD, freshAddress()),
      ),
    );
    // Reservations are held while passwords are checked, so a parallel burst of right
    // passwords may see a few 429s; but never more than the burst minus the free attempts.
    const ok = responses.filter((r) => r.status === 200).length;
    const refused = responses.filter((r) => r.status === 429).length;
    expect(ok + refused).toBe(n);
    expect(ok).toBeGreaterThanOrEqual(FREE_PER_ACCOUNT);
    // Once they are all answered, every reservation is back: the next login succeeds.
    await attempt(0, username, PASSWORD, freshAddress()).expect(200);
  });
});
