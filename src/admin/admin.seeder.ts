import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config.js';
import { isDatabaseUnavailable } from '../infra/db/database-errors.js';
import { UsersService } from '../users/users.service.js';

const RETRY_MS = 2000;

/**
 * Creates the configured admin account if it does not exist yet: at boot, or, when the
 * database is not there at boot, as soon as it answers. Boot never waits for the database.
 */
@Injectable()
export class AdminSeeder
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('AdminSeeder');
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { adminUsername, adminPassword } = this.config;
    if (!adminUsername || !adminPassword) return;
    await this.seed(adminUsername, adminPassword, true);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private async seed(
    username: string,
    password: string,
    first: boolean,
  ): Promise<void> {
    try {
      const outcome = await this.users.ensureAdmin(username, password);
      if (outcome === 'created')
        this.logger.log(`Created admin account ${username}`);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      if (first)
        this.logger.warn(
          `The database is not available: admin account ${username} will be ensured once it is`,
        );
      if (this.stopped) return;
      this.retry = setTimeout(() => {
        this.seed(username, password, false).catch((e: unknown) =>
          this.logger.error(
            `Could not ensure admin account ${username}: ${(e as Error).message}`,
          ),
        );
      }, RETRY_MS);
      this.retry.unref();
    }
  }
}
