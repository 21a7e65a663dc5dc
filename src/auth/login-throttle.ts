import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DomainError } from '../common/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { redisKeys } from '../redis/redis-keys.js';
import { REDIS } from '../redis/redis.constants.js';

const MAX_DELAY_MS = 15 * 60_000;

/**
 * How long a bucket must wait before its next attempt: nothing for the first `free` failures,
 * then 1 s, 2 s, 4 s ... up to 15 minutes after the latest failure.
 */
export function throttleDelayMs(
  failures: number,
  lastFailureAt: number,
  free: number,
  now: number,
): number {
  if (failures < free) return 0;
  const delay = Math.min(1000 * 2 ** (failures - free), MAX_DELAY_MS);
  return Math.max(0, lastFailureAt + delay - now);
}

/**
 * Failed-login counters in Redis, shared by every instance: one bucket per account (slows
 * guessing one password) and one per client address (slows spraying many accounts). An
 * attack on one account never touches another account's bucket.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  /** Throws `too_many_attempts` with the wait when either bucket is cooling down. */
  async check(username: string, address: string): Promise<void> {
    const [account, client] = await Promise.all([
      this.redis.hmget(
        redisKeys.loginFailuresOfAccount(username),
        'count',
        'last',
      ),
      this.redis.hmget(
        redisKeys.loginFailuresOfAddress(address),
        'count',
        'last',
      ),
    ]);
    const now = Date.now();
    const wait = Math.max(
      throttleDelayMs(
        Number(account[0] ?? 0),
        Number(account[1] ?? 0),
        this.config.loginFreeFailuresPerAccount,
        now,
      ),
      throttleDelayMs(
        Number(client[0] ?? 0),
        Number(client[1] ?? 0),
        this.config.loginFreeFailuresPerAddress,
        now,
      ),
    );
    if (wait > 0) {
      throw new DomainError(
        'too_many_attempts',
        'Too many failed logins; retry later',
        {
          retryAfterSeconds: Math.ceil(wait / 1000),
        },
      );
    }
  }

  async recordFailure(username: string, address: string): Promise<void> {
    const now = Date.now();
    const windowMs = this.config.loginFailureWindowSeconds * 1000;
    const multi = this.redis.multi();
    for (const key of [
      redisKeys.loginFailuresOfAccount(username),
      redisKeys.loginFailuresOfAddress(address),
    ]) {
      multi
        .hincrby(key, 'count', 1)
        .hset(key, 'last', now)
        .pexpire(key, windowMs);
    }
    await multi.exec();
  }

  /** A success clears the account's bucket; the address keeps its count, so spraying stays slow. */
  async recordSuccess(username: string): Promise<void> {
    await this.redis.del(redisKeys.loginFailuresOfAccount(username));
  }
}
