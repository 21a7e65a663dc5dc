import { Inject, Injectable } from '@nestjs/common';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import type { Redis } from 'ioredis';
import { hashSecret } from './secret-hash.js';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import type { Role } from '../users/user.js';
import type { SessionAuth } from './session-auth.js';
import { sessionDeadline } from './session-id.js';

/** The idle timeout the store slides session TTLs by (SESSION_IDLE_SECONDS). */
export const SESSION_IDLE_SECONDS = Symbol('SESSION_IDLE_SECONDS');

// connect-redis types its callbacks loosely; `any` matches express-session's Store signature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Callback = (err?: any, data?: any) => any;

/** A stored session, or null for none or a damaged entry. */
function parseSession(raw: string | null): SessionData | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as SessionData;
  } catch {
    return null;
  }
}

/**
 * The only code that touches session keys. connect-redis with three changes:
 * - keys hold the SHA-256 of the session id, never the id itself;
 * - a read is one GETEX that also slides the idle TTL, so there is no separate touch;
 * - no TTL ever passes the login's absolute deadline, carried in the session id.
 *
 * Other stores name a session by its reference (`refOf`), never by its key or its id.
 */
@Injectable()
export class SessionStore extends RedisStore {
  /** What each session object was last written as, for as long as the object lives. */
  private readonly written = new WeakMap<SessionData, string>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SESSION_IDLE_SECONDS) private readonly idleSeconds: number,
  ) {
    super({
      client: redis,
      prefix: redisKeys.session(''),
      disableTouch: true,
      // read() and set() parse and serialise JSON themselves, without a promise in between.
      serializer: JSON,
    });
  }

  private static key(sessionId: string): string {
    return redisKeys.session(hashSecret(sessionId));
  }

  /** How other stores name a session: the SHA-256 of its id, never the id itself. */
  refOf(sessionId: string): string {
    return hashSecret(sessionId);
  }

  async existsByRef(ref: string): Promise<boolean> {
    return (await this.redis.exists(redisKeys.session(ref))) === 1;
  }

  /** Deletes a session by reference; true when it was there. */
  async destroyByRef(ref: string): Promise<boolean> {
    return (await this.redis.del(redisKeys.session(ref))) === 1;
  }

  /**
   * Rewrites the roles a live session holds, keeping its TTL; a session gone meanwhile stays
   * gone (SET XX). Sessions are written at login only, so nothing else races this write.
   */
  async rewriteRoles(ref: string, roles: Role[]): Promise<void> {
    const key = redisKeys.session(ref);
    const session = parseSession(await this.redis.get(key));
    if (!session?.auth) return;
    session.auth.roles = roles;
    await this.redis.set(key, JSON.stringify(session), 'KEEPTTL', 'XX');
  }

  /** When the key should expire (epoch ms): one idle timeout from now, but never past the deadline. */
  private expireAt(deadline: number | null): number | null {
    if (deadline === null) return null;
    const at = Math.min(Date.now() + this.idleSeconds * 1000, deadline);
    return at > Date.now() ? at : null;
  }

  /**
   * The session's stored data, read and its idle TTL slid in one GETEX; null when there is no
   * live session under this id. PXAT, an absolute time, so the key cannot outlive the deadline
   * by a round trip or a rounding. Rejects only when Redis does: a damaged entry is no session.
   */
  read(sid: string): Promise<SessionData | null> {
    const at = this.expireAt(sessionDeadline(sid));
    if (at === null) return Promise.resolve(null);
    return this.redis
      .getex(SessionStore.key(sid), 'PXAT', at)
      .then(parseSession);
  }

  /** The logged-in state behind a session id, in one Redis command. */
  readAuth(sid: string): Promise<SessionAuth | null> {
    return this.read(sid).then((data) => data?.auth ?? null);
  }

  override async get(sid: string, cb?: Callback): Promise<unknown> {
    try {
      return cb?.(null, await this.read(sid));
    } catch (err) {
      return cb?.(err, null);
    }
  }

  override async set(
    sid: string,
    sess: SessionData,
    cb?: Callback,
  ): Promise<unknown> {
    const at = this.expireAt(sess.auth?.expiresAt ?? null);
    if (at === null) return this.destroy(sid, cb);
    try {
      const raw = JSON.stringify(sess);
      // express-session saves a regenerated session again at the end of the request, even
      // when the login already saved it (explicitly, to order it before the login record).
      if (this.written.get(sess) === raw) return cb?.(null);
      await this.redis.set(SessionStore.key(sid), raw, 'PXAT', at);
      this.written.set(sess, raw);
      return cb?.(null);
    } catch (err) {
      return cb?.(err);
    }
  }

  override async destroy(sid: string, cb?: Callback): Promise<unknown> {
    return super.destroy(hashSecret(sid), cb);
  }
}
