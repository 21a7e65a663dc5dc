import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Server } from 'node:http';
import request from 'supertest';
import { hashSecret } from '../../src/common/secret-hash.js';
import { redisKeys } from '../../src/redis/redis-keys.js';
import { newSessionId } from '../../src/session/session-id.js';
import { TEST_SESSION_SECRET } from './test-app.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A request by method name, for tables of routes. */
export function call(
  server: Server,
  method: string,
  path: string,
): request.Test {
  const agent = request(server);
  switch (method.toUpperCase()) {
    case 'GET':
      return agent.get(path);
    case 'POST':
      return agent.post(path);
    case 'PUT':
      return agent.put(path);
    case 'PATCH':
      return agent.patch(path);
    case 'DELETE':
      return agent.delete(path);
    case 'HEAD':
      return agent.head(path);
    default:
      throw new Error(`no request helper for method ${method}`);
  }
}

/** Polls `check` until it holds; throws with `what` when it never does within `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await sleep(intervalMs);
  }
}

export function setCookies(res: request.Response): string[] {
  const raw = res.headers['set-cookie'] as unknown;
  if (raw === undefined) return [];
  if (Array.isArray(raw)) return raw as string[];
  return typeof raw === 'string' ? [raw] : [];
}

/** The Set-Cookie header for cookie `name`, if the response has one. */
export function setCookieFor(
  res: request.Response,
  name = 'session',
): string | undefined {
  return setCookies(res).find((c) => c.startsWith(`${name}=`));
}

/** True when the response tells the browser to drop cookie `name`: empty value and a past expiry. */
export function clearsCookie(res: request.Response, name = 'session'): boolean {
  const header = setCookieFor(res, name);
  if (!header) return false;
  const [pair, ...attrs] = header.split(';').map((p) => p.trim());
  if (pair !== `${name}=`) return false;
  return attrs.some((attr) => {
    const [key, value] = attr.split('=');
    if (key.toLowerCase() === 'expires') return Date.parse(value) < Date.now();
    if (key.toLowerCase() === 'max-age') return Number(value) <= 0;
    return false;
  });
}

/** The raw session id inside a signed `name=s%3A<id>.<signature>` cookie pair. */
export function sessionIdOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  if (!value.startsWith('s:'))
    throw new Error(`not a signed cookie: ${cookie}`);
  return value.slice(2, value.lastIndexOf('.'));
}

/** What the session store names the session of this cookie. */
export function sessionKeyOf(cookie: string): string {
  return redisKeys.session(hashSecret(sessionIdOf(cookie)));
}

export function tokenKeyOf(accessToken: string): string {
  return redisKeys.token(hashSecret(accessToken));
}

/** A cookie signed like express-session signs it (cookie-signature), for a session id of our choosing. */
export function signedCookie(
  sessionId: string,
  secret = TEST_SESSION_SECRET,
  name = 'session',
): string {
  const signature = createHmac('sha256', secret)
    .update(sessionId)
    .digest('base64')
    .replace(/=+$/, '');
  return `${name}=${encodeURIComponent(`s:${sessionId}.${signature}`)}`;
}

/** A correctly signed cookie for a well-formed session id that no store has ever held. */
export function unknownSessionCookie(name = 'session'): string {
  return signedCookie(newSessionId(3600), TEST_SESSION_SECRET, name);
}

/** A cookie for a well-formed session id whose signature is made with the wrong secret. */
export function forgedSessionCookie(name = 'session'): string {
  return signedCookie(
    newSessionId(3600),
    'not-the-secret-not-the-secret-not-the-secret',
    name,
  );
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
    for (const [field, value] of Object.entries(fields)) {
      if (field === 'sid') keys.push(redisKeys.session(value));
      if (field.startsWith('tok:')) keys.push(redisKeys.token(field.slice(4)));
    }
  }
  const existing: string[] = [];
  for (const key of keys) if (await redis.exists(key)) existing.push(key);
  return existing;
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
