import { redisKeys } from '../infra/redis/redis-keys.js';
import { defineScript, replyNumber } from '../infra/redis/redis-scripts.js';

/**
 * Rewrites a personal token's cache entry with fresher facts (a role change), unless it holds
 * the tombstone of a revocation: a revoked token must stay refused. 1 when written.
 */
export const rewritePersonalToken = defineScript({
  name: 'rewritePersonalToken',
  numberOfKeys: 1,
  keys: (tokenHash: string) => [redisKeys.personalToken(tokenHash)],
  argv: (value: string, ttlMs: number, tombstone: string) => [
    value,
    ttlMs,
    tombstone,
  ],
  lua: `
local entry = KEYS[1]
local value, ttlMs, tombstone = ARGV[1], ARGV[2], ARGV[3]
if redis.call('GET', entry) == tombstone then return 0 end
redis.call('SET', entry, value, 'PX', ttlMs)
return 1`,
  reply: replyNumber,
});
