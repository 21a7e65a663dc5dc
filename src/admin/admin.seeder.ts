import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { UsersService } from '../users/users.service.js';

/** Creates the configured admin account at boot if it does not exist yet. */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminSeeder');

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { adminUsername, adminPassword } = this.config;
    if (!adminUsername || !adminPassword) return;
    const outcome = await this.users.ensureAdmin(adminUsername, adminPassword);
    if (outcome === 'created')
      this.logger.log(`Created admin account ${adminUsername}`);
  }
}
