import { createHmac } from 'node:crypto';
import type request from 'supertest';
import { newSessionId } from '../../src/credentials/session-id.js';

/** Signs the cookies of every app a test starts; shared, so instances can read each other's cookies. */
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789-abcdefghij';

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

/** `name=value` of the cookie the response sets, ready for a Cookie header. */
export function sessionCookie(
  res: request.Response,
  name = 'session',
): string | undefined {
  return setCookieFor(res, name)?.split(';')[0];
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
