import request from 'supertest';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { setCookies } from '../helpers/cookies.js';
import {
  madeUpAddress,
  PASSWORD,
  register,
  uniqueName,
} from '../helpers/logins.js';
import { inspectRedis } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';

/** Limits high enough that the logins in flight of one storm never meet the throttle. */
const UNTHROTTLED = {
  TRUST_PROXY: '1',
  LOGIN_FREE_FAILURES_PER_ACCOUNT: '1000',
  LOGIN_FREE_FAILURES_PER_ADDRESS: '1000',
};

interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfter?: string;
  cookies: string[];
}

async function storm(
  t: TestApp,
  username: string,
  count: number,
  from: string,
): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const res = await request(t.server)
        .post('/auth/token')
        .set('X-Forwarded-For', from)
        .type('form')
        .send({ grant_type: 'password', username, password: PASSWORD });
      return {
        status: res.status,
        body: res.body as Record<string, unknown>,
        retryAfter: res.headers['retry-after'],
        cookies: setCookies(res),
      };
    }),
  );
}

/** Every answer is a login, or a 503 `overloaded` with Retry-After and nothing else. */
function expectTokenOrShed(answers: Answer[]) {
  for (const answer of answers) {
    if (answer.status === 200) {
      expect(answer.body.access_token).toEqual(expect.any(String));
      expect(answer.cookies).toHaveLength(1);
    } else {
      expect(answer).toMatchObject({
        status: 503,
        body: { error: 'overloaded' },
        retryAfter: expect.stringMatching(/^[1-9]\d*$/),
        cookies: [],
      });
    }
  }
}

describe('a login storm against the bounded hashing queue', () => {
  let shedding: TestApp;
  let patient: TestApp;
  const redis = inspectRedis();

  beforeAll(async () => {
    // A wait far shorter than one hash: whoever finds the hashing threads busy is shed.
    shedding = await startApp({ ...UNTHROTTLED, LOGIN_MAX_WAIT_MS: '1' });
    patient = await startApp(UNTHROTTLED);
  });
  afterAll(async () => {
    redis.disconnect();
    await shedding.close();
    await patient.close();
  });

  it('sheds the logins that cannot start hashing in time with a 503, Retry-After and no cookie', async () => {
    const { username } = await register(patient.server, uniqueName('storm'));
    const answers = await storm(shedding, username, 30, madeUpAddress());
    expectTokenOrShed(answers);
    const statuses = answers.map((a) => a.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
  });

  it('counts no failure against the throttle for a shed login', async () => {
    const { username } = await register(patient.server, uniqueName('storm'));
    const from = madeUpAddress();
    const answers = await storm(shedding, username, 30, from);
    expect(answers.map((a) => a.status)).toContain(503);
    // Every reservation was given back: neither bucket holds a failure or an attempt in flight.
    expect(
      await redis.exists(
        redisKeys.loginFailuresOfAccount(username),
        redisKeys.loginFailuresOfAddress(from),
      ),
    ).toBe(0);
  });

  it('answers 60 simultaneous logins on one instance each with a token or a fast 503', async () => {
    const { username } = await register(patient.server, uniqueName('flood'));
    const answers = await storm(patient, username, 60, madeUpAddress());
    expectTokenOrShed(answers);
    expect(answers.map((a) => a.status)).toContain(200);
  });

  it('sheds registrations the same way: a 503 to retry, and no account half-made', async () => {
    const names = Array.from({ length: 20 }, () => uniqueName('burst'));
    const answers = await Promise.all(
      names.map((username) =>
        request(shedding.server)
          .post('/auth/register')
          .send({ username, password: PASSWORD }),
      ),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    expect(statuses).toContain(503);
    // A shed registration left no account behind: the same name registers afterwards.
    const shed = names.filter((_, i) => statuses[i] === 503);
    await register(patient.server, shed[0]);
  });
});
