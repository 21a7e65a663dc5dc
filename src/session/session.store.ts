import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import type { Redis } from 'ioredis';
import { hashSecret } from '../common/secret-hash.js';
import { redisKeys } from '../redis/redis-keys.js';
import { sessionDeadline } from './session-id.js';

// connect-redis types its callbacks loosely; `any` matches express-session's Store signature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Callback = (err?: any, data?: any) => any;

/**
 * connect-redis with three changes:
 * - keys hold the SHA-256 of the session id, never the id itself;
 * - a read is one GETEX that also slides the idle TTL, so there is no separate touch;
 * - no TTL ever passes the login's absolute deadline, carried in the session id.
 */
export class SessionStore extends RedisStore {
  constructor(
    private readonly redis: Redis,
    private readonly idleSeconds: number,
  ) {
    super({
      client: redis,
      prefix: redisKeys.session(''),
      disableTouch: true,
    });
  }

  static key(sessionId: string): string {
    return redisKeys.session(hashSecret(sessionId));
  }

  /** When the key should expire (epoch ms): one idle timeout from now, but never past the deadline. */
  private expireAt(deadline: number | null): number | null {
    if (deadline === null) return null;
    const at = Math.min(Date.now() + this.idleSeconds * 1000, deadline);
    return at > Date.now() ? at : null;
  }

  override async get(sid: string, cb?: Callback): Promise<unknown> {
    // PXAT, an absolute time, so the key cannot outlive the deadline by a round trip or a rounding.
    const at = this.expireAt(sessionDeadline(sid));
    if (at === null) return cb?.(null, null);
    try {
      const raw = await this.redis.getex(SessionStore.key(sid), 'PXAT', at);
      return cb?.(null, raw ? await this.serializer.parse(raw) : null);
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
      const raw = this.serializer.stringify(sess);
      await this.redis.set(SessionStore.key(sid), raw, 'PXAT', at);
      return cb?.(null);
    } catch (err) {
      return cb?.(err);
    }
  }

  override async destroy(sid: string, cb?: Callback): Promise<unknown> {
    return super.destroy(hashSecret(sid), cb);
  }
}
