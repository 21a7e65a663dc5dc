import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import request from 'supertest';
import { sessionCookie } from './cookies.js';

export const PASSWORD = 'correct horse battery staple';

/**
 * Part of every name a test file makes up with `uniqueName`, so that the accounts, throttle
 * buckets and logins the file created can be found and removed after it (test/helpers/cleanup.ts).
 * Jest loads this module afresh for each file.
 */
export const FILE_MARK = randomBytes(3).toString('hex');

export function uniqueName(prefix = 'user'): string {
  return `${prefix}-${FILE_MARK}${randomBytes(4).toString('hex')}`;
}

/** The documentation-range IPv6 prefix of the client addresses this file makes up. */
export const MADE_UP_ADDRESS_PREFIX = `2001:db8:${FILE_MARK.slice(0, 4)}:${FILE_MARK.slice(4)}::`;
let madeUpAddresses = 0;

/** A client address of this file's own (sent as X-Forwarded-For), with throttle buckets of its own. */
export function madeUpAddress(): string {
  return `${MADE_UP_ADDRESS_PREFIX}${(++madeUpAddresses).toString(16)}`;
}

export interface LoggedIn {
  username: string;
  password: string;
  userId: string;
  accessToken: string;
  /** `name=value` of the session cookie, ready for a Cookie header. */
  cookie: string;
}

export async function register(
  server: Server,
  username = uniqueName(),
  password = PASSWORD,
): Promise<{ id: string; username: string }> {
  const res = await request(server)
    .post('/auth/register')
    .send({ username, password })
    .expect(201);
  return res.body as { id: string; username: string };
}

export async function login(
  server: Server,
  username: string,
  password = PASSWORD,
  userAgent = 'jest',
): Promise<Omit<LoggedIn, 'userId'>> {
  const res = await request(server)
    .post('/auth/token')
    .set('User-Agent', userAgent)
    .type('form')
    .send({ grant_type: 'password', username, password })
    .expect(200);
  const cookie = sessionCookie(res);
  if (!cookie) throw new Error('login set no session cookie');
  return {
    username,
    password,
    accessToken: (res.body as { access_token: string }).access_token,
    cookie,
  };
}

export interface FurtherToken {
  message: string;
  access_token: string;
  token_type: string;
  expires_in: number;
}

/**
 * A further token for a logged-in session: POST /auth/token with its cookie, which answers
 * "Already logged in" and a new token of the same login (the password is not checked then).
 */
export async function furtherToken(
  server: Server,
  user: Pick<LoggedIn, 'cookie' | 'username'>,
): Promise<FurtherToken> {
  const res = await request(server)
    .post('/auth/token')
    .set('Cookie', user.cookie)
    .type('form')
    .send({
      grant_type: 'password',
      username: user.username,
      password: PASSWORD,
    })
    .expect(200);
  const body = res.body as FurtherToken;
  if (body.message !== 'Already logged in')
    throw new Error(`the session was not logged in: ${JSON.stringify(body)}`);
  return body;
}

export async function registerAndLogin(
  server: Server,
  username = uniqueName(),
  password = PASSWORD,
): Promise<LoggedIn> {
  const user = await register(server, username, password);
  return { ...(await login(server, username, password)), userId: user.id };
}

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
