import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import type { Role } from '../users/user.js';
import type { TokenRecord } from './principal.js';
import { hashSecret } from './secret-hash.js';

/**
 * Access tokens: `auth:tok:<sha256>` holding everything a request authenticated by the token
 * needs (so checking one is a single GET), expiring with the token. Sole owner of those keys.
 * Each key stands alone (its own hash slot), so no command here spans two of them.
 */
@Injectable()
export class AccessTokenStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Writes a token's record, ending at its expiry (an absolute PXAT). */
  async write(tokenHash: string, record: TokenRecord): Promise<void> {
    await this.redis.set(
      redisKeys.token(tokenHash),
      JSON.stringify(record),
      'PXAT',
      record.expiresAt,
    );
  }

  async find(accessToken: string): Promise<TokenRecord | null> {
    const raw = await this.redis.get(redisKeys.token(hashSecret(accessToken)));
    return raw ? (JSON.parse(raw) as TokenRecord) : null;
  }

  async exists(tokenHash: string): Promise<boolean> {
    return (await this.redis.exists(redisKeys.token(tokenHash))) === 1;
  }

  /** True when the token was still stored. */
  async delete(tokenHash: string): Promise<boolean> {
    return (await this.redis.del(redisKeys.token(tokenHash))) === 1;
  }

  /** The roles a live token carries, rewritten in place (its TTL kept); a gone token stays gone. */
  async rewriteRoles(tokenHash: string, roles: Role[]): Promise<void> {
    const key = redisKeys.token(tokenHash);
    const raw = await this.redis.get(key);
    if (!raw) return;
    const record = { ...(JSON.parse(raw) as TokenRecord), roles };
    await this.redis.set(key, JSON.stringify(record), 'KEEPTTL', 'XX');
  }
}
