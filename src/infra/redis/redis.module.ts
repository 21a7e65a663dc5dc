import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { createRedisClient } from './redis-client.factory.js';
import { REDIS } from './redis.constants.js';

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createRedisClient(config),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // quit() lets pending writes finish; on a dead connection it would wait, so it is skipped.
    if (this.redis.status === 'ready')
      await this.redis.quit().catch(() => undefined);
    // Also closes what quit() leaves open: Sentinel's failover-detector connections, and the
    // reconnect timer of a client that is down.
    this.redis.disconnect();
  }
}
