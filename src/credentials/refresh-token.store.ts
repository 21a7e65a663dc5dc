import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import { hashSecret } from './secret-hash.js';

export interface RefreshRecord {
  userId: string;
  loginId: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Refresh tokens: `auth:rt:<sha256>` naming the login they belong to, kept after rotation so a
 * rotated token presented again is recognised (which token is current is the login record's
 * business). Sole owner of those keys; each stands alone in its hash slot.
 */
@Injectable()
export class RefreshTokenStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async write(tokenHash: string, record: RefreshRecord): Promise<void> {
    await this.redis.set(
      redisKeys.refreshToken(tokenHash),
      JSON.stringify(record),
      'PXAT',
      record.expiresAt,
    );
  }

  /** The record of a stored refresh token (current or rotated), else null. */
  async find(refreshToken: string): Promise<RefreshRecord | null> {
    const raw = await this.redis.get(
      redisKeys.refreshToken(hashSecret(refreshToken)),
    );
    return raw ? (JSON.parse(raw) as RefreshRecord) : null;
  }

  async exists(tokenHash: string): Promise<boolean> {
    return (await this.redis.exists(redisKeys.refreshToken(tokenHash))) === 1;
  }

  async delete(tokenHash: string): Promise<boolean> {
    return (await this.redis.del(redisKeys.refreshToken(tokenHash))) === 1;
  }
}
