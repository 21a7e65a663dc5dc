import type { Redis } from 'ioredis';
import type { Server } from 'node:http';
import request from 'supertest';
import { redisKeys } from '../../src/redis/redis-keys.js';
import { hashSecret } from '../../src/common/secret-hash.js';
import { sessionCookie } from './test-app.js';
import { sessionIdOf, sessionKeyOf, sleep, tokenKeyOf } from './e2e.js';

export { sessionIdOf, sessionKeyOf, sleep, tokenKeyOf };

/** The two ways a client authenticates: the session cookie, or the bearer token. */
export type AuthMode = 'session' | 'bearer';
export const AUTH_MODES: AuthMode[] = ['session', 'bearer'];

export interface Credentials {
  cookie: string;
  accessToken: string;
}

/** Headers that authenticate as `c` in one mode only. */
export function authAs(mode: AuthMode, c: Credentials): Record<string, string> {
  return mode === 'session'
    ? { Cookie: c.cookie }
    : { Authorization: `Bearer ${c.accessToken}` };
}

/** Every key under the user's `{u:<id>}` hash tag: login records and their index. */
/** One entry of GET /auth/sessions. */
export interface ListedLogin {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string;
  ip: string;
  scope: string;
  current: boolean;
}

/** The caller's live logins, as GET /auth/sessions lists them. */
export async function listLogins(
  server: Server,
  mode: AuthMode,
  c: Credentials,
): Promise<ListedLogin[]> {
  const res = await request(server)
    .get('/auth/sessions')
    .set(authAs(mode, c))
    .expect(200);
  return res.body as ListedLogin[];
}

export async function userLoginKeys(
  redis: Redis,
  userId: string,
): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(
      cursor,
      'MATCH',
      `auth:{u:${userId}}:*`,
      'COUNT',
      1000,
    );
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
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
      redisKeys.session(fields.sid) === sessionKeyOf(c.cookie);
    const hasToken =
      c.accessToken === undefined ||
      `tok:${hashSecret(c.accessToken)}` in fields;
    if (hasSession && hasToken) return fields.id;
  }
  throw new Error('no login record names these credentials');
}

/** Status of GET /admin/me (open to any logged-in user) with one credential. */
export async function meStatus(
  server: Server,
  mode: AuthMode,
  c: Credentials,
): Promise<number> {
  return (await request(server).get('/admin/me').set(authAs(mode, c))).status;
}

/** Asserts that neither the session nor the token of `c` is accepted any more. */
export async function expectEnded(
  server: Server,
  c: Credentials,
): Promise<void> {
  const viaSession = await request(server)
    .get('/admin/me')
    .set('Cookie', c.cookie);
  expect(viaSession.status).toBe(401);
  const viaToken = await request(server)
    .get('/admin/me')
    .set('Authorization', `Bearer ${c.accessToken}`);
  expect(viaToken.status).toBe(401);
  expect(viaToken.body).toMatchObject({ error: 'invalid_token' });
  expect(viaToken.headers['www-authenticate']).toContain(
    'error="invalid_token"',
  );
}

/** Asserts that both the session and the token of `c` are accepted. */
export async function expectLive(
  server: Server,
  c: Credentials,
): Promise<void> {
  expect(await meStatus(server, 'session', c)).toBe(200);
  expect(await meStatus(server, 'bearer', c)).toBe(200);
}

/** Logs in through the HTML login page form; returns the session cookie. */
export async function loginThroughPage(
  server: Server,
  username: string,
  password: string,
  userAgent = 'page-browser',
): Promise<string> {
  const res = await request(server)
    .post('/auth/token')
    .set('Accept', 'text/html')
    .set('User-Agent', userAgent)
    .type('form')
    .send({ username, password })
    .expect(303);
  const cookie = sessionCookie(res);
  if (!cookie) throw new Error('login page set no session cookie');
  return cookie;
}

/** Polls `probe` every `intervalMs` until it returns a value other than undefined, or fails after `limitMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  limitMs = 10_000,
  intervalMs = 200,
): Promise<T> {
  const giveUp = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
    await sleep(intervalMs);
  }
}
