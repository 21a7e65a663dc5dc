import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { redisKeys, type ResetWindow } from '../infra/redis/redis-keys.js';
import { defineScripts, runScript } from '../infra/redis/redis-scripts.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import { takeResetAllowance } from './password-reset.scripts.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Requests one client address may make, a minute and an hour. */
const RESET_REQUESTS_PER_ADDRESS = { minute: 20, hour: 200 } as const;
/** Reset mails one login (whether or not an account has it), and one account, may get. */
const RESET_MAILS_PER_ACCOUNT = { minute: 1, hour: 5 } as const;

/**
 * The silent limits of `POST /auth/password/forgot`, in Redis, shared by every instance: per
 * client address, per login as typed (before anyone knows whether an account has it, so the
 * limit says nothing about existence), and per account (its username and its address are two
 * logins of one account). A request over a limit gets the same answer as any other; only no
 * mail goes out. Each bucket takes its allowance in one script.
 */
@Injectable()
export class PasswordResetThrottle {
  constructor(@Inject(REDIS) private readonly redis: Redis) {
    defineScripts(redis, [takeResetAllowance]);
  }

  fromAddress(address: string): Promise<boolean> {
    return this.take(
      (w) => redisKeys.passwordResetRequestsOfAddress(address, w),
      RESET_REQUESTS_PER_ADDRESS,
    );
  }

  forLogin(login: string): Promise<boolean> {
    return this.take(
      (w) => redisKeys.passwordResetRequestsOfLogin(login, w),
      RESET_MAILS_PER_ACCOUNT,
    );
  }

  forAccount(userId: string): Promise<boolean> {
    return this.take(
      (w) => redisKeys.passwordResetMailsOfAccount(userId, w),
      RESET_MAILS_PER_ACCOUNT,
    );
  }

  private take(
    key: (window: ResetWindow) => string,
    limits: { minute: number; hour: number },
  ): Promise<boolean> {
    return runScript(
      this.redis,
      takeResetAllowance,
      [key('minute'), key('hour')],
      limits.minute,
      limits.hour,
      MINUTE_MS,
      HOUR_MS,
    );
  }
}
