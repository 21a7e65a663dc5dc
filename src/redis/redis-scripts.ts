import type { Redis } from 'ioredis';
import { redisKeys } from './redis-keys.js';

type Arg = string | number;

/**
 * A Lua script: its source, the keys it touches (from the facts that name them) and how its
 * arguments and reply are typed. Every key of one script must share a hash slot, so each
 * runs on a Redis Cluster too; redis-scripts.spec.ts checks that for every script.
 */
interface Script<Facts extends unknown[], Args extends unknown[], Result> {
  lua: string;
  numberOfKeys: number;
  keys: (...facts: Facts) => string[];
  argv: (...args: Args) => Arg[];
  reply: (raw: unknown) => Result;
}

function script<Facts extends unknown[], Args extends unknown[], Result>(
  definition: Script<Facts, Args, Result>,
): Script<Facts, Args, Result> {
  return definition;
}

const nothing = (): void => undefined;
const asNumber = (raw: unknown): number => Number(raw);

/** HGETALL's flat `[field, value, ...]` reply, as an object. */
function pairs(raw: unknown): Record<string, string> {
  const flat = Array.isArray(raw) ? (raw as string[]) : [];
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}

/** Every Lua script the service runs, in one place; registered once per client (EVALSHA). */
export const SCRIPTS = {
  /**
   * Writes a login record expiring at its deadline, naming its credentials (written just
   * before, known to no one yet), and adds it to the user's index, which lives as long as the
   * user's longest login.
   */
  createLogin: script({
    numberOfKeys: 2,
    keys: (userId: string, loginId: string) => [
      redisKeys.logins(userId),
      redisKeys.login(userId, loginId),
    ],
    argv: (
      deadline: number,
      loginId: string,
      fields: Record<string, string>,
    ) => [deadline, loginId, ...Object.entries(fields).flat()],
    lua: `
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`,
    reply: nothing,
  }),

  /** Updates a live login's last-seen time; never recreates an ended login's hash. */
  markSeen: script({
    numberOfKeys: 1,
    keys: (userId: string, loginId: string) => [
      redisKeys.login(userId, loginId),
    ],
    argv: (seenAt: string) => [seenAt],
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1]) end
return 0`,
    reply: nothing,
  }),

  /** Names a credential on a login that still exists; never recreates an ended login's hash. 1 when named. */
  nameOnLogin: script({
    numberOfKeys: 1,
    keys: (userId: string, loginId: string) => [
      redisKeys.login(userId, loginId),
    ],
    argv: (field: string, value: string | number) => [field, value],
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`,
    reply: (raw: unknown) => raw === 1,
  }),

  /**
   * Reads and deletes a login record and its refresh grace entry, and drops it from the
   * index, in one step.
   */
  takeLogin: script({
    numberOfKeys: 3,
    keys: (userId: string, loginId: string) => [
      redisKeys.login(userId, loginId),
      redisKeys.logins(userId),
      redisKeys.refreshGrace(userId, loginId),
    ],
    argv: (loginId: string) => [loginId],
    lua: `
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return fields`,
    reply: pairs,
  }),

  /** Makes a refresh token the current one of a live login (field `rt`) and names it (`rt:<hash>`). 1 when done. */
  nameRefresh: script({
    numberOfKeys: 1,
    keys: (userId: string, loginId: string) => [
      redisKeys.login(userId, loginId),
    ],
    argv: (tokenHash: string, expiresAt: number) => [tokenHash, expiresAt],
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'rt', ARGV[1], 'rt:' .. ARGV[1], ARGV[2])
return 1`,
    reply: (raw: unknown) => raw === 1,
  }),

  /**
   * Rotates a login's refresh token, atomically: when the presented token is the current one,
   * its successor becomes current, the successor's access token is named on the login, and
   * the encrypted successor pair is kept for the grace window. The previous token within that
   * window gets the pair back; any other token the login issued is a reuse.
   * Replies `[outcome, blob?]`: rotated, grace (with the blob), reuse, ended, unknown.
   */
  rotateRefresh: script({
    numberOfKeys: 2,
    keys: (userId: string, loginId: string) => [
      redisKeys.login(userId, loginId),
      redisKeys.refreshGrace(userId, loginId),
    ],
    argv: (rotation: {
      presented: string;
      next: string;
      nextExpiresAt: number;
      accessField: string;
      accessExpiresAt: number;
      graceMs: number;
      blob: string;
    }) => [
      rotation.presented,
      rotation.next,
      rotation.nextExpiresAt,
      rotation.accessField,
      rotation.accessExpiresAt,
      rotation.graceMs,
      rotation.blob,
    ],
    lua: `
local current = redis.call('HGET', KEYS[1], 'rt')
-- Every login with refresh tokens names its current one: no current token, no login.
if not current then return {'ended'} end
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'rt:' .. ARGV[2], ARGV[3], 'rtPrev', ARGV[1], ARGV[4], ARGV[5])
  if tonumber(ARGV[6]) > 0 then
    redis.call('SET', KEYS[2], ARGV[7], 'PX', ARGV[6])
  else
    redis.call('DEL', KEYS[2])
  end
  return {'rotated'}
end
if redis.call('HGET', KEYS[1], 'rtPrev') == ARGV[1] then
  local blob = redis.call('GET', KEYS[2])
  if blob then return {'grace', blob} end
end
if redis.call('HEXISTS', KEYS[1], 'rt:' .. ARGV[1]) == 1 then return {'reuse'} end
return {'unknown'}`,
    reply: (raw: unknown) => {
      const [outcome, blob] = raw as [string, string | undefined];
      return {
        outcome: outcome as 'rotated' | 'grace' | 'reuse' | 'ended' | 'unknown',
        blob,
      };
    },
  }),

  /**
   * Rewrites a personal token's cache entry with fresher facts (a role change), unless it holds
   * the tombstone of a revocation: a revoked token must stay refused. 1 when written.
   */
  rewritePersonalToken: script({
    numberOfKeys: 1,
    keys: (tokenHash: string) => [redisKeys.personalToken(tokenHash)],
    argv: (value: string, ttlMs: number, tombstone: string) => [
      value,
      ttlMs,
      tombstone,
    ],
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
    reply: asNumber,
  }),

  /**
   * Reserves one login attempt in a throttle bucket (hash: count, last), or refuses it. The
   * count holds failures and attempts still being checked: after `free` of them, each further
   * attempt must wait 1 s, 2 s, 4 s ... (capped) after the latest. Replies 0 when reserved,
   * otherwise the wait in ms.
   */
  reserveAttempt: script({
    numberOfKeys: 1,
    keys: (bucket: string) => [bucket],
    argv: (free: number, now: number, windowMs: number, maxDelayMs: number) => [
      free,
      now,
      windowMs,
      maxDelayMs,
    ],
    lua: `
local state = redis.call('HMGET', KEYS[1], 'count', 'last')
local count = tonumber(state[1]) or 0
local last = tonumber(state[2]) or 0
local free = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if count >= free then
  local delay = math.min(1000 * 2 ^ (count - free), tonumber(ARGV[4]))
  local wait = math.ceil(last + delay - now)
  if wait > 0 then return wait end
end
redis.call('HSET', KEYS[1], 'count', count + 1, 'last', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0`,
    reply: asNumber,
  }),

  /** Gives a reserved attempt back (the password was right, or never checked). */
  refundAttempt: script({
    numberOfKeys: 1,
    keys: (bucket: string) => [bucket],
    argv: () => [],
    lua: `
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if count == nil then return 0 end
if count <= 1 then redis.call('DEL', KEYS[1]) else redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 1`,
    reply: nothing,
  }),

  /** A reserved attempt failed: the wait runs from now, when the wrong password was found. */
  recordFailure: script({
    numberOfKeys: 1,
    keys: (bucket: string) => [bucket],
    argv: (now: number, windowMs: number) => [now, windowMs],
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
    reply: nothing,
  }),
};

type Scripts = typeof SCRIPTS;
export type ScriptName = keyof Scripts;
export type ScriptFacts<N extends ScriptName> = Parameters<Scripts[N]['keys']>;
type ScriptArgs<N extends ScriptName> = Parameters<Scripts[N]['argv']>;
type ScriptResult<N extends ScriptName> = ReturnType<Scripts[N]['reply']>;

type ScriptCommand = (...keysAndArgs: Arg[]) => Promise<unknown>;

/** Registers every script on a client (ioredis `defineCommand`: EVALSHA, EVAL once on NOSCRIPT). */
export function registerScripts<T extends Redis>(client: T): T {
  for (const [name, { lua, numberOfKeys }] of Object.entries(SCRIPTS))
    client.defineCommand(name, { lua, numberOfKeys });
  return client;
}

/** Runs a registered script with its keys named by `facts`. */
export function runScript<N extends ScriptName>(
  client: Redis,
  name: N,
  facts: ScriptFacts<N>,
  ...args: ScriptArgs<N>
): Promise<ScriptResult<N>> {
  // The definitions differ per script; each one's own types are enforced by the signature.
  const definition = SCRIPTS[name] as unknown as Script<
    unknown[],
    unknown[],
    ScriptResult<N>
  >;
  const command = (client as unknown as Record<string, ScriptCommand>)[name];
  return command
    .call(client, ...definition.keys(...facts), ...definition.argv(...args))
    .then(definition.reply);
}
