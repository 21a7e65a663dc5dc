import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DomainError } from '../infra/http/domain-error.js';
import { AppConfig } from '../infra/config/app-config.js';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { defineScripts, runScript } from '../infra/redis/redis-scripts.js';
import { isEmbeddedStore } from '../infra/redis/redis-client.factory.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import {
  recordFailure,
  refundAttempt,
  reserveAttempt,
} from './login-throttle.scripts.js';

const MAX_DELAY_MS = 15 * 60_000;

/** A bucket's fields (a hash): attempts counted, and when the latest began or failed (Redis time, ms). */
export const BUCKET_FIELDS = { count: 'count', last: 'last' } as const;

/** The attempt a caller holds until it knows whether the password was right. */
export interface Reservation {
  /** The password was wrong: the attempt stays counted and the wait runs from now. */
  failed(): Promise<void>;
  /** The password was right, or never checked: the attempt is given back. */
  release(): Promise<void>;
}

/**
 * Login-attempt buckets in Redis, shared by every instance: one per account (slows guessing
 * one password) and one per client address (slows spraying many accounts).
 *
 * An attempt is reserved in both buckets, each in one atomic step, before its password is
 * checked: a bucket that has had its free attempts refuses further ones until a wait has
 * passed, whatever number of them arrives at once and through however many instances. A
 * wrong password keeps its reservation as a failure; a right one gives it back.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {
    defineScripts(redis, [reserveAttempt, refundAttempt, recordFailure]);
  }

  /** Reserves an attempt in both buckets, or throws `too_many_attempts` with the wait. */
  async reserve(username: string, address: string): Promise<Reservation> {
    const account = redisKeys.loginFailuresOfAccount(username);
    const client = redisKeys.loginFailuresOfAddress(address);
    // Both at once, in one round trip; a bucket that reserved while the other refused gives its attempt back.
    const [byAccount, byAddress] = await Promise.allSettled([
      this.take(account, this.config.loginFreeFailuresPerAccount),
      this.take(client, this.config.loginFreeFailuresPerAddress),
    ]);
    if (byAccount.status === 'rejected' || byAddress.status === 'rejected') {
      await Promise.all([
        byAccount.status === 'fulfilled' && this.refund(account),
        byAddress.status === 'fulfilled' && this.refund(client),
      ]).catch(() => undefined);
      throw byAccount.status === 'rejected'
        ? byAccount.reason
        : (byAddress as PromiseRejectedResult).reason;
    }
    return {
      failed: async () => {
        await Promise.all(
          [account, client].map((bucket) =>
            runScript(
              this.redis,
              recordFailure,
              [bucket],
              this.windowMs,
              BUCKET_FIELDS,
              this.clock(),
            ),
          ),
        );
      },
      release: async () => {
        await Promise.all([this.refund(account), this.refund(client)]);
      },
    };
  }

  /**
   * Forgets the account's failed logins (a password reset: the person proved they hold the
   * mailbox); the address buckets stay, they are about the callers, not the account.
   */
  async clearAccount(username: string): Promise<void> {
    await this.redis.del(redisKeys.loginFailuresOfAccount(username));
  }

  /** '' (Redis's own clock), except on the embedded development store. */
  private clock(): string {
    return isEmbeddedStore(this.redis) ? String(Date.now()) : '';
  }

  private get windowMs(): number {
    return this.config.loginFailureWindowSeconds * 1000;
  }

  private async take(bucket: string, free: number): Promise<void> {
    const wait = await runScript(
      this.redis,
      reserveAttempt,
      [bucket],
      free,
      this.windowMs,
      MAX_DELAY_MS,
      BUCKET_FIELDS,
      this.clock(),
    );
    if (wait > 0)
      throw new DomainError(
        'too_many_attempts',
        'Too many failed logins; retry later',
        { retryAfterSeconds: Math.ceil(wait / 1000) },
      );
  }

  private refund(bucket: string): Promise<void> {
    return runScript(this.redis, refundAttempt, [bucket], BUCKET_FIELDS);
  }
}
