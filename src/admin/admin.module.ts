import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { EventsModule } from '../events/events.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';
import { AdminSeeder } from './admin.seeder.js';

@Module({
  imports: [CredentialsModule, UsersModule, EventsModule],
  controllers: [AdminController],
  providers: [AdminService, AdminSeeder],
})
export class AdminModule {}
