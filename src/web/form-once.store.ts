import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { REDIS } from '../infra/redis/redis.constants.js';

/** Long enough for any page left open; a form older than this counts as never sent. */
const FORM_SENT_TTL_MS = 24 * 3_600_000;

/**
 * Once-only forms: each rendering of a form gets a fresh id, and the first post that claims
 * it wins (one SET NX), so a reload or double click that sends the same form again, at once
 * or later and through any instance, is told so instead of acting twice. Sole owner of the
 * `form-sent` keys.
 */
@Injectable()
export class FormOnceStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** A fresh id for a form about to be shown. */
  issue(): string {
    return randomBytes(16).toString('base64url');
  }

  /** True for the first post of this form by this user; false for any later one. */
  async claim(userId: string, formId: string): Promise<boolean> {
    const set = await this.redis.set(
      redisKeys.formSent(userId, formId),
      '1',
      'PX',
      FORM_SENT_TTL_MS,
      'NX',
    );
    return set === 'OK';
  }
}
