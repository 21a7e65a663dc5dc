import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Database } from '../db/database.js';
import { REDIS } from '../redis/redis.constants.js';

export type ComponentState = 'up' | 'down';

/** Whether each store answers; both checks at once, each bounded by its client's timeout (1.5 s). */
@Injectable()
export class HealthService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly database: Database,
  ) {}

  async check(): Promise<{ redis: ComponentState; database: ComponentState }> {
    const [redis, database] = await Promise.all([
      state(this.redis.ping()),
      state(this.database.ping()),
    ]);
    return { redis, database };
  }
}

function state(check: Promise<unknown>): Promise<ComponentState> {
  return check.then(
    () => 'up',
    () => 'down',
  );
}
