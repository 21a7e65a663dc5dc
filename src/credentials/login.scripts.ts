import { redisKeys } from '../infra/redis/redis-keys.js';
import { defineScript, replyPairs } from '../infra/redis/redis-scripts.js';

/**
 * The login store's scripts. Every key is under the user's `{u:<userId>}` tag, and every field
 * name comes in as an argument from the store's constants, so the store is their one source.
 */

/**
 * Writes a login record expiring at its deadline, naming its credentials (written just before,
 * known to no one yet), and adds it to the user's index, which lives as long as the user's
 * longest login. Refused (0) when the account's login epoch has moved since the login's
 * password was checked: its logins were all ended meanwhile. 1 when recorded.
 */
export const createLogin = defineScript({
  name: 'createLogin',
  numberOfKeys: 3,
  keys: (userId: string, loginId: string) => [
    redisKeys.logins(userId),
    redisKeys.login(userId, loginId),
    redisKeys.loginEpoch(userId),
  ],
  argv: (
    deadline: number,
    loginId: string,
    epoch: string,
    fields: Record<string, string>,
  ) => [deadline, loginId, epoch, ...Object.entries(fields).flat()],
  lua: `
local index, login, epochKey = KEYS[1], KEYS[2], KEYS[3]
local deadline, loginId, epoch = ARGV[1], ARGV[2], ARGV[3]
if (redis.call('GET', epochKey) or '') ~= epoch then return 0 end
redis.call('HSET', login, unpack(ARGV, 4))
redis.call('PEXPIREAT', login, deadline)
redis.call('ZADD', index, deadline, loginId)
local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', index, last[2])
return 1`,
  reply: (raw: unknown) => raw === 1,
});

/** Raises the account's login epoch (see createLogin), keeping it for `ttlMs`. */
export const raiseLoginEpoch = defineScript({
  name: 'raiseLoginEpoch',
  numberOfKeys: 1,
  keys: (userId: string) => [redisKeys.loginEpoch(userId)],
  argv: (ttlMs: number) => [ttlMs],
  lua: `
local epochKey = KEYS[1]
local ttlMs = ARGV[1]
local epoch = redis.call('INCR', epochKey)
redis.call('PEXPIRE', epochKey, ttlMs)
return epoch`,
  reply: (raw: unknown) => String(raw),
});

/** Sets a field of a login that still exists; never recreates an ended login's hash. 1 when set. */
export const setLoginField = defineScript({
  name: 'setLoginField',
  numberOfKeys: 1,
  keys: (userId: string, loginId: string) => [redisKeys.login(userId, loginId)],
  argv: (field: string, value: string | number) => [field, value],
  lua: `
local login = KEYS[1]
local field, value = ARGV[1], ARGV[2]
if redis.call('EXISTS', login) == 0 then return 0 end
redis.call('HSET', login, field, value)
return 1`,
  reply: (raw: unknown) => raw === 1,
});

/**
 * Reads and deletes a login record and its refresh grace entry, and drops it from the index,
 * in one step. Replies the record's fields (none when it was gone).
 */
export const takeLogin = defineScript({
  name: 'takeLogin',
  numberOfKeys: 3,
  keys: (userId: string, loginId: string) => [
    redisKeys.login(userId, loginId),
    redisKeys.logins(userId),
    redisKeys.refreshGrace(userId, loginId),
  ],
  argv: (loginId: string) => [loginId],
  lua: `
local login, index, grace = KEYS[1], KEYS[2], KEYS[3]
local loginId = ARGV[1]
local fields = redis.call('HGETALL', login)
redis.call('DEL', login, grace)
redis.call('ZREM', index, loginId)
return fields`,
  reply: replyPairs,
});

export interface Rotation {
  presented: string;
  next: string;
  nextExpiresAt: number;
  accessField: string;
  accessExpiresAt: number;
  graceMs: number;
  blob: string;
}

/** The login record's fields that rotation reads and writes, from the store's constants. */
export interface RotationFields {
  current: string;
  previous: string;
  refreshPrefix: string;
}

type RotationOutcome = 'rotated' | 'grace' | 'reuse' | 'ended' | 'unknown';

/**
 * Rotates a login's refresh token, atomically: when the presented token is the current one,
 * its successor becomes current, the successor's access token is named on the login, and the
 * encrypted successor pair is kept for the grace window. The previous token within that
 * window gets the pair back; any other token the login issued is a reuse.
 * Replies `[outcome, blob?]`.
 */
export const rotateRefresh = defineScript({
  name: 'rotateRefresh',
  numberOfKeys: 2,
  keys: (userId: string, loginId: string) => [
    redisKeys.login(userId, loginId),
    redisKeys.refreshGrace(userId, loginId),
  ],
  argv: (rotation: Rotation, fields: RotationFields) => [
    rotation.presented,
    rotation.next,
    rotation.nextExpiresAt,
    rotation.accessField,
    rotation.accessExpiresAt,
    rotation.graceMs,
    rotation.blob,
    fields.current,
    fields.previous,
    fields.refreshPrefix,
  ],
  lua: `
local login, grace = KEYS[1], KEYS[2]
local presented, nextToken, nextExpiresAt = ARGV[1], ARGV[2], ARGV[3]
local accessField, accessExpiresAt = ARGV[4], ARGV[5]
local graceMs, blob = tonumber(ARGV[6]), ARGV[7]
local currentField, previousField, refreshPrefix = ARGV[8], ARGV[9], ARGV[10]
local current = redis.call('HGET', login, currentField)
-- Every login with refresh tokens names its current one: no current token, no login.
if not current then return {'ended'} end
if current == presented then
  redis.call('HSET', login, currentField, nextToken, refreshPrefix .. nextToken, nextExpiresAt,
    previousField, presented, accessField, accessExpiresAt)
  if graceMs > 0 then
    redis.call('SET', grace, blob, 'PX', graceMs)
  else
    redis.call('DEL', grace)
  end
  return {'rotated'}
end
if redis.call('HGET', login, previousField) == presented then
  local earlier = redis.call('GET', grace)
  if earlier then return {'grace', earlier} end
end
if redis.call('HEXISTS', login, refreshPrefix .. presented) == 1 then return {'reuse'} end
return {'unknown'}`,
  reply: (raw: unknown) => {
    const [outcome, blob] = raw as [string, string | undefined];
    return { outcome: outcome as RotationOutcome, blob };
  },
});
