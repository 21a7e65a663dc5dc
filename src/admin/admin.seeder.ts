import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { isRedisUnavailable } from '../redis/redis-client.factory.js';
import { REDIS } from '../redis/redis.constants.js';
import { UsersService } from '../users/users.service.js';

/**
 * Creates the configured admin account if it does not exist yet: at boot, or, when Redis is
 * not there at boot, as soon as the connection is ready. Boot never waits for Redis.
 */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminSeeder');

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { adminUsername, adminPassword } = this.config;
    if (!adminUsername || !adminPassword) return;
    if (this.redis.status === 'ready' || this.redis.status === undefined)
      return this.seed(adminUsername, adminPassword);
    this.seedWhenReady(adminUsername, adminPassword);
  }

  private async seed(username: string, password: string): Promise<void> {
    try {
      const outcome = await this.users.ensureAdmin(username, password);
      if (outcome === 'created')
        this.logger.log(`Created admin account ${username}`);
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      this.seedWhenReady(username, password);
    }
  }

  private seedWhenReady(username: string, password: string): void {
    this.logger.warn(
      `Redis is not available: admin account ${username} will be ensured once it is`,
    );
    this.redis.once('ready', () => {
      this.seed(username, password).catch((err: unknown) =>
        this.logger.error(
          `Could not ensure admin account ${username}: ${(err as Error).message}`,
        ),
      );
    });
  }
}
