import { randomBytes } from 'node:crypto';
import { rewritePersonalToken } from '../../../src/credentials/personal-token.scripts.js';
import { redisKeys } from '../../../src/infra/redis/redis-keys.js';
import {
  defineScripts,
  runScript,
} from '../../../src/infra/redis/redis-scripts.js';
import { removedAfterEach } from '../../helpers/cleanup.js';
import { inspectRedis } from '../../helpers/redis-inspection.js';

/** The personal-token store's script, branch by branch, on the harness's redis-server. */
const redis = inspectRedis();
const forget = removedAfterEach(redis);
defineScripts(redis, [rewritePersonalToken]);
afterAll(() => redis.quit());

/** The script is told what a tombstone looks like; any value the store chooses works alike. */
const TOMBSTONE = '-';
const TTL_MS = 300_000;
const facts = (roles: string[]) => JSON.stringify({ userId: 'u', roles });

/** A token's hash and the key of its cache entry, removed after the test. */
function newToken(): { hash: string; key: string } {
  const hash = randomBytes(32).toString('base64url');
  const key = redisKeys.personalToken(hash);
  forget(key);
  return { hash, key };
}

const rewrite = (tokenHash: string, value: string) =>
  runScript(redis, rewritePersonalToken, [tokenHash], value, TTL_MS, TOMBSTONE);

async function expectTtlAbout(key: string, ttlMs: number): Promise<void> {
  const ttl = await redis.pttl(key);
  expect(ttl).toBeGreaterThan(ttlMs - 5_000);
  expect(ttl).toBeLessThanOrEqual(ttlMs);
}

describe('rewritePersonalToken', () => {
  it('leaves the tombstone of a revoked token, and its expiry, as they are', async () => {
    const { hash, key } = newToken();
    await redis.set(key, TOMBSTONE, 'PX', 60_000);
    await expect(rewrite(hash, facts(['admin']))).resolves.toBe(0);
    expect(await redis.get(key)).toBe(TOMBSTONE);
    await expectTtlAbout(key, 60_000);
  });

  it('replaces cached facts with the fresh ones, for the TTL given', async () => {
    const { hash, key } = newToken();
    await redis.set(key, facts(['user']), 'PX', 60_000);
    await expect(rewrite(hash, facts(['admin']))).resolves.toBe(1);
    expect(await redis.get(key)).toBe(facts(['admin']));
    await expectTtlAbout(key, TTL_MS);
  });

  it('writes the fresh facts of a token not cached yet, for the TTL given', async () => {
    const { hash, key } = newToken();
    await expect(rewrite(hash, facts(['admin']))).resolves.toBe(1);
    expect(await redis.get(key)).toBe(facts(['admin']));
    await expectTtlAbout(key, TTL_MS);
  });
});
