import { redisKeys } from '../../../src/infra/redis/redis-keys.js';
import {
  defineScripts,
  runScript,
} from '../../../src/infra/redis/redis-scripts.js';
import { takeResetAllowance } from '../../../src/login/password-reset.scripts.js';
import { removedAfterEach } from '../../helpers/cleanup.js';
import { uniqueName } from '../../helpers/logins.js';
import { inspectRedis } from '../../helpers/redis-inspection.js';

/** The password-reset throttle's script, branch by branch, on the harness's redis-server. */
const redis = inspectRedis();
const forget = removedAfterEach(redis);
defineScripts(redis, [takeResetAllowance]);
afterAll(() => redis.quit());

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

function newBucket(): [string, string] {
  const login = `${uniqueName('reset')}@example.test`;
  const keys: [string, string] = [
    redisKeys.passwordResetRequestsOfLogin(login, 'minute'),
    redisKeys.passwordResetRequestsOfLogin(login, 'hour'),
  ];
  forget(...keys);
  return keys;
}

function take(keys: [string, string], perMinute = 1, perHour = 5) {
  return runScript(
    redis,
    takeResetAllowance,
    keys,
    perMinute,
    perHour,
    MINUTE_MS,
    HOUR_MS,
  );
}

describe('takeResetAllowance', () => {
  it('takes one in both windows of a new bucket, each counter expiring with its window', async () => {
    const keys = newBucket();
    expect(await take(keys)).toBe(true);
    expect(await redis.mget(...keys)).toEqual(['1', '1']);
    const [minuteTtl, hourTtl] = await Promise.all(
      keys.map((k) => redis.pttl(k)),
    );
    expect(minuteTtl).toBeGreaterThan(MINUTE_MS - 5000);
    expect(minuteTtl).toBeLessThanOrEqual(MINUTE_MS);
    expect(hourTtl).toBeGreaterThan(HOUR_MS - 5000);
  });

  it('refuses while the minute is full, changing neither counter', async () => {
    const keys = newBucket();
    await take(keys);
    expect(await take(keys)).toBe(false);
    expect(await redis.mget(...keys)).toEqual(['1', '1']);
  });

  it('refuses while the hour is full even in a fresh minute, changing neither counter', async () => {
    const keys = newBucket();
    await redis.set(keys[1], '5', 'PX', HOUR_MS);
    expect(await take(keys)).toBe(false);
    expect(await redis.mget(...keys)).toEqual([null, '5']);
  });

  it('keeps a window fixed: a later take does not move its expiry', async () => {
    const keys = newBucket();
    await redis.set(keys[1], '2', 'PX', 10_000);
    expect(await take(keys)).toBe(true);
    expect(await redis.get(keys[1])).toBe('3');
    expect(await redis.pttl(keys[1])).toBeLessThanOrEqual(10_000);
  });

  it('lets exactly the limit through when many take at once', async () => {
    const keys = newBucket();
    const taken = await Promise.all(
      Array.from({ length: 30 }, () => take(keys, 20, 200)),
    );
    expect(taken.filter(Boolean)).toHaveLength(20);
  });
});
