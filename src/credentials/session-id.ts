import { randomBytes } from 'node:crypto';

/**
 * Session ids carry their absolute deadline in front of 256 random bits:
 * `<deadline ms, base 36>.<random>`. The cookie is signed, so the deadline cannot be
 * altered, and the store can slide the idle TTL without passing the deadline in the same
 * single GETEX that reads the session.
 */
export function newSessionId(
  absoluteSeconds: number,
  now = Date.now(),
): string {
  return `${(now + absoluteSeconds * 1000).toString(36)}.${randomBytes(32).toString('base64url')}`;
}

/** The absolute deadline (epoch ms) of a session id, or null when the id is not one of ours. */
export function sessionDeadline(sessionId: string): number | null {
  const match = /^([0-9a-z]{1,12})\.[A-Za-z0-9_-]{43}$/.exec(sessionId);
  if (!match) return null;
  const deadline = parseInt(match[1], 36);
  return Number.isSafeInteger(deadline) ? deadline : null;
}
