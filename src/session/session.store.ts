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
      ttl: (sess: SessionData) =>
        Math.ceil(this.ttlMs(sess.auth?.expiresAt ?? null) / 1000),
    });
  }

  static key(sessionId: string): string {
    return redisKeys.session(hashSecret(sessionId));
  }

  private ttlMs(deadline: number | null): number {
    if (deadline === null) return 0;
    return Math.min(this.idleSeconds * 1000, deadline - Date.now());
  }

  override async get(sid: string, cb?: Callback): Promise<unknown> {
    const ttl = this.ttlMs(sessionDeadline(sid));
    if (ttl <= 0) return cb?.(null, null);
    try {
      const raw = await this.redis.getex(SessionStore.key(sid), 'PX', ttl);
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
    return super.set(hashSecret(sid), sess, cb);
  }

  override async destroy(sid: string, cb?: Callback): Promise<unknown> {
    return super.destroy(hashSecret(sid), cb);
  }
}
