import {
  defineScript,
  replyNothing,
  replyNumber,
} from '../infra/redis/redis-scripts.js';

/**
 * The login throttle's scripts, one bucket (a hash) each. Time comes from Redis (`TIME`), so
 * every instance measures waits on the same clock; the bucket's field names come in from the
 * throttle's constants.
 */

export interface BucketFields {
  count: string;
  last: string;
}

/**
 * `nowMs()`: Redis's clock in ms, unless the caller passed one (`clockMs`, only for the embedded
 * development store, whose TIME is unreliable). 1000.0: that store's Lua has 32-bit integers,
 * and seconds in ms overflow them.
 */
const NOW_MS = `
local function nowMs()
  if tonumber(clockMs) then return tonumber(clockMs) end
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000.0 + math.floor(tonumber(clock[2]) / 1000)
end`;

/**
 * Reserves one login attempt in a bucket, or refuses it. The count holds failures and attempts
 * still being checked: after `free` of them, each further attempt must wait 1 s, 2 s, 4 s ...
 * (capped) after the latest, whose time is kept once the count gets there. Replies 0 when
 * reserved, otherwise the wait in ms.
 */
export const reserveAttempt = defineScript({
  name: 'reserveAttempt',
  numberOfKeys: 1,
  keys: (bucket: string) => [bucket],
  argv: (
    free: number,
    windowMs: number,
    maxDelayMs: number,
    fields: BucketFields,
    clockMs: string,
  ) => [free, windowMs, maxDelayMs, fields.count, fields.last, clockMs],
  lua: `
local bucket = KEYS[1]
local free, windowMs, maxDelayMs = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local countField, lastField, clockMs = ARGV[4], ARGV[5], ARGV[6]
${NOW_MS}
local state = redis.call('HMGET', bucket, countField, lastField)
local count = tonumber(state[1]) or 0
local last = tonumber(state[2]) or 0
local now
if count >= free then
  now = nowMs()
  local delay = math.min(1000 * 2 ^ (count - free), maxDelayMs)
  local wait = math.ceil(last + delay - now)
  if wait > 0 then return wait end
end
-- The time is needed only once the next attempt can be made to wait: read it no earlier.
if count + 1 >= free then
  redis.call('HSET', bucket, countField, count + 1, lastField, now or nowMs())
else
  redis.call('HSET', bucket, countField, count + 1)
end
redis.call('PEXPIRE', bucket, windowMs)
return 0`,
  reply: replyNumber,
});

/** Gives a reserved attempt back (the password was right, or never checked). */
export const refundAttempt = defineScript({
  name: 'refundAttempt',
  numberOfKeys: 1,
  keys: (bucket: string) => [bucket],
  argv: (fields: BucketFields) => [fields.count],
  lua: `
local bucket = KEYS[1]
local countField = ARGV[1]
local count = tonumber(redis.call('HGET', bucket, countField))
if count == nil then return 0 end
if count <= 1 then redis.call('DEL', bucket) else redis.call('HINCRBY', bucket, countField, -1) end
return 1`,
  reply: replyNothing,
});

/** A reserved attempt failed: the wait runs from now, when the wrong password was found. */
export const recordFailure = defineScript({
  name: 'recordFailure',
  numberOfKeys: 1,
  keys: (bucket: string) => [bucket],
  argv: (windowMs: number, fields: BucketFields, clockMs: string) => [
    windowMs,
    fields.last,
    clockMs,
  ],
  lua: `
local bucket = KEYS[1]
local windowMs, lastField, clockMs = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', bucket) == 0 then return 0 end
${NOW_MS}
redis.call('HSET', bucket, lastField, nowMs())
redis.call('PEXPIRE', bucket, windowMs)
return 1`,
  reply: replyNothing,
});
