import { Redis } from 'ioredis';
import {
  LOGIN_FIELD_PREFIXES,
  LOGIN_FIELDS,
} from '../../src/credentials/login.store.js';
import { hashSecret } from '../../src/credentials/secret-hash.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import type { Credentials } from './logins.js';
import { sessionIdOf } from './cookies.js';

/** A separate client on the test database (or `url`), for inspecting what the app wrote. */
export function inspectRedis(url = process.env.REDIS_URL!): Redis {
  return new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
  });
}

/** Redis's own clock in ms, as the scripts read it with `TIME`. */
export async function redisTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** What the session store names the session of this cookie. */
export function sessionKeyOf(cookie: string): string {
  return redisKeys.session(hashSecret(sessionIdOf(cookie)));
}

export function tokenKeyOf(accessToken: string): string {
  return redisKeys.token(hashSecret(accessToken));
}

/** Every Redis key the service keeps for one user (logins, sessions, tokens); the account is in the database. */
export async function keysOfUser(
  redis: Redis,
  user: { userId: string },
): Promise<string[]> {
  const keys = [redisKeys.logins(user.userId)];
  const loginIds = await redis.zrange(redisKeys.logins(user.userId), 0, -1);
  for (const loginId of loginIds) {
    const loginKey = redisKeys.login(user.userId, loginId);
    keys.push(loginKey);
    const fields = await redis.hgetall(loginKey);
    const session = fields[LOGIN_FIELDS.session];
    if (session) keys.push(redisKeys.session(session));
    keys.push(
      ...tokenHashesOf(fields, LOGIN_FIELD_PREFIXES.accessToken).map(
        redisKeys.token,
      ),
      ...tokenHashesOf(fields, LOGIN_FIELD_PREFIXES.refreshToken).map(
        redisKeys.refreshToken,
      ),
    );
  }
  const existing: string[] = [];
  for (const key of keys) if (await redis.exists(key)) existing.push(key);
  return existing;
}

/** The token hashes a login record's fields name under `prefix` (LOGIN_FIELD_PREFIXES). */
export function tokenHashesOf(
  fields: Record<string, string>,
  prefix: string,
): string[] {
  return Object.keys(fields)
    .filter((field) => field.startsWith(prefix))
    .map((field) => field.slice(prefix.length));
}

/** Every key under the user's `{u:<id>}` hash tag: login records and their index. */
export async function userLoginKeys(
  redis: Redis,
  userId: string,
): Promise<string[]> {
  // The login epoch is the account's, not a login's: it outlives the logins it ended.
  const epoch = redisKeys.loginEpoch(userId);
  return (await scanKeys(redis, `auth:{u:${userId}}:*`))
    .filter((key) => key !== epoch)
    .sort();
}

/** The id of the login record naming this session and/or token, read straight from Redis. */
export async function loginIdOf(
  redis: Redis,
  userId: string,
  c: Partial<Credentials>,
): Promise<string> {
  const prefix = redisKeys.login(userId, '');
  for (const key of await userLoginKeys(redis, userId)) {
    if (!key.startsWith(prefix)) continue;
    const fields = await redis.hgetall(key);
    const hasSession =
      c.cookie === undefined ||
      redisKeys.session(fields[LOGIN_FIELDS.session]) ===
        sessionKeyOf(c.cookie);
    const hasToken =
      c.accessToken === undefined ||
      `${LOGIN_FIELD_PREFIXES.accessToken}${hashSecret(c.accessToken)}` in
        fields;
    if (hasSession && hasToken) return fields[LOGIN_FIELDS.id];
  }
  throw new Error('no login record names these credentials');
}

/** The stored content of a key as text, whatever its type. */
export async function dumpKey(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    default:
      return '';
  }
}

/** Keys whose name matches the glob `pattern` (SCAN, not KEYS). */
export async function scanKeys(
  redis: Redis,
  pattern: string,
): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(
      cursor,
      'MATCH',
      pattern,
      'COUNT',
      500,
    );
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}
