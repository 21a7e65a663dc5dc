import type { Redis } from 'ioredis';
import { loadConfig } from '../../../src/infra/config/app-config.js';
import {
  createRedisClient,
  isEmbeddedStore,
} from '../../../src/infra/redis/redis-client.factory.js';
import { redisKeys } from '../../../src/infra/redis/redis-keys.js';
import {
  defineScripts,
  runScript,
} from '../../../src/infra/redis/redis-scripts.js';
import { BUCKET_FIELDS } from '../../../src/login/login-throttle.js';
import {
  recordFailure,
  refundAttempt,
  reserveAttempt,
} from '../../../src/login/login-throttle.scripts.js';
import { removedAfterEach } from '../../helpers/cleanup.js';
import { uniqueName } from '../../helpers/logins.js';
import { inspectRedis, redisTimeMs } from '../../helpers/redis-inspection.js';

/** The login throttle's scripts, branch by branch, on the harness's redis-server. */
const redis = inspectRedis();
const forget = removedAfterEach(redis);
defineScripts(redis, [reserveAttempt, refundAttempt, recordFailure]);
afterAll(() => redis.quit());

const FREE = 3;
const WINDOW_MS = 60_000;
const MAX_DELAY_MS = 15 * 60_000;
/** '': the scripts read Redis's own clock, as they do on every real Redis. */
const REDIS_CLOCK = '';

function newBucket(): string {
  const bucket = redisKeys.loginFailuresOfAccount(uniqueName());
  forget(bucket);
  return bucket;
}

/** A bucket holding `count` attempts, the latest at `last`, with `ttlMs` left. */
async function bucketWith(
  count: number,
  last?: number,
  ttlMs = WINDOW_MS,
): Promise<string> {
  const bucket = newBucket();
  await redis.hset(bucket, BUCKET_FIELDS.count, count);
  if (last !== undefined) await redis.hset(bucket, BUCKET_FIELDS.last, last);
  await redis.pexpire(bucket, ttlMs);
  return bucket;
}

const reserve = (
  client: Redis,
  bucket: string,
  clockMs = REDIS_CLOCK,
  maxDelayMs = MAX_DELAY_MS,
) =>
  runScript(
    client,
    reserveAttempt,
    [bucket],
    FREE,
    WINDOW_MS,
    maxDelayMs,
    BUCKET_FIELDS,
    clockMs,
  );

const fieldsOf = (bucket: string) =>
  redis.hmget(bucket, BUCKET_FIELDS.count, BUCKET_FIELDS.last);

/** Asserts that the bucket lives for the whole failure window from about now. */
async function expectWholeWindow(bucket: string): Promise<void> {
  const ttl = await redis.pttl(bucket);
  expect(ttl).toBeGreaterThan(WINDOW_MS - 5_000);
  expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
}

describe('reserveAttempt', () => {
  it('counts an attempt below the free ones, without a time, for the failure window', async () => {
    const bucket = newBucket();
    await expect(reserve(redis, bucket)).resolves.toBe(0);
    expect(await fieldsOf(bucket)).toEqual(['1', null]);
    await expectWholeWindow(bucket);
  });

  it('writes Redis’s time with the attempt that takes the last free place', async () => {
    const bucket = await bucketWith(FREE - 1, undefined, 1_000);
    const before = await redisTimeMs(redis);
    await expect(reserve(redis, bucket)).resolves.toBe(0);
    const after = await redisTimeMs(redis);
    const [count, last] = await fieldsOf(bucket);
    expect(count).toBe(String(FREE));
    expect(Number(last)).toBeGreaterThanOrEqual(before);
    expect(Number(last)).toBeLessThanOrEqual(after);
    await expectWholeWindow(bucket);
  });

  it.each([
    [0, 1_000],
    [1, 2_000],
    [2, 4_000],
  ])(
    'refuses an attempt %i past the free ones until %i ms after the latest, changing nothing',
    async (past, delay) => {
      const last = await redisTimeMs(redis);
      const bucket = await bucketWith(FREE + past, last, 30_000);
      const wait = await reserve(redis, bucket);
      expect(wait).toBeGreaterThan(delay - 500);
      expect(wait).toBeLessThanOrEqual(delay);
      expect(await fieldsOf(bucket)).toEqual([
        String(FREE + past),
        String(last),
      ]);
      expect(await redis.pttl(bucket)).toBeLessThanOrEqual(30_000);
    },
  );

  it('caps the wait at the longest delay', async () => {
    const bucket = await bucketWith(FREE + 40, await redisTimeMs(redis));
    const wait = await reserve(redis, bucket, REDIS_CLOCK, 5_000);
    expect(wait).toBeGreaterThan(4_500);
    expect(wait).toBeLessThanOrEqual(5_000);
  });

  it('reserves once the wait has passed, and the next wait runs from this attempt', async () => {
    const bucket = await bucketWith(
      FREE + 1,
      (await redisTimeMs(redis)) - 2_500,
      1_000,
    );
    const before = await redisTimeMs(redis);
    await expect(reserve(redis, bucket)).resolves.toBe(0);
    const [count, last] = await fieldsOf(bucket);
    expect(count).toBe(String(FREE + 2));
    expect(Number(last)).toBeGreaterThanOrEqual(before);
    await expectWholeWindow(bucket);
  });

  it('measures on the clock it is given instead of Redis’s, when it is given one', async () => {
    const bucket = await bucketWith(FREE - 1);
    await expect(reserve(redis, bucket, '1000000')).resolves.toBe(0);
    expect(await fieldsOf(bucket)).toEqual([String(FREE), '1000000']);
    await expect(reserve(redis, bucket, '1000250')).resolves.toBe(750);
    await expect(reserve(redis, bucket, '1001000')).resolves.toBe(0);
    expect(await fieldsOf(bucket)).toEqual([String(FREE + 1), '1001000']);
  });

  it('on the embedded development store (ioredis-mock), measures waits on the process clock it is given', async () => {
    const store = await createRedisClient(loadConfig({ REDIS_URL: '' }));
    try {
      expect(isEmbeddedStore(store)).toBe(true);
      defineScripts(store, [reserveAttempt]);
      // Its keyspace is the process's, not the harness's Redis: this name is its own all the same.
      const bucket = redisKeys.loginFailuresOfAccount(uniqueName());
      const now = Date.now();
      for (let i = 0; i < FREE; i++)
        await expect(reserve(store, bucket, String(now))).resolves.toBe(0);
      await expect(reserve(store, bucket, String(now + 250))).resolves.toBe(
        750,
      );
      await expect(reserve(store, bucket, String(now + 1_000))).resolves.toBe(
        0,
      );
      await expect(reserve(store, bucket, String(now + 1_000))).resolves.toBe(
        2_000,
      );
      await store.del(bucket);
    } finally {
      store.disconnect();
    }
  });
});

describe('refundAttempt', () => {
  const refund = (bucket: string) =>
    runScript(redis, refundAttempt, [bucket], BUCKET_FIELDS);

  it('gives one of several attempts back, keeping the latest’s time and the window', async () => {
    const bucket = await bucketWith(FREE + 1, 1_000_000, 30_000);
    await refund(bucket);
    expect(await fieldsOf(bucket)).toEqual([String(FREE), '1000000']);
    const ttl = await redis.pttl(bucket);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('deletes the bucket when it gives back its only attempt', async () => {
    const bucket = await bucketWith(1);
    await refund(bucket);
    expect(await redis.exists(bucket)).toBe(0);
  });

  it('leaves a bucket that is gone (its window passed) gone', async () => {
    const bucket = newBucket();
    await refund(bucket);
    expect(await redis.exists(bucket)).toBe(0);
  });
});

describe('recordFailure', () => {
  const fail = (bucket: string, clockMs = REDIS_CLOCK) =>
    runScript(
      redis,
      recordFailure,
      [bucket],
      WINDOW_MS,
      BUCKET_FIELDS,
      clockMs,
    );

  it('starts the wait from now, on Redis’s clock, and renews the failure window', async () => {
    const bucket = await bucketWith(FREE, 1_000_000, 1_000);
    const before = await redisTimeMs(redis);
    await fail(bucket);
    const after = await redisTimeMs(redis);
    const [count, last] = await fieldsOf(bucket);
    expect(count).toBe(String(FREE));
    expect(Number(last)).toBeGreaterThanOrEqual(before);
    expect(Number(last)).toBeLessThanOrEqual(after);
    await expectWholeWindow(bucket);
  });

  it('starts the wait from the time it is given, when it is given one', async () => {
    const bucket = await bucketWith(FREE, 1_000_000);
    await fail(bucket, '1005000');
    expect(await fieldsOf(bucket)).toEqual([String(FREE), '1005000']);
  });

  it('writes nothing for a bucket that is gone (its window passed)', async () => {
    const bucket = newBucket();
    await fail(bucket);
    expect(await redis.exists(bucket)).toBe(0);
  });
});
