import { Module } from '@nestjs/common';
import { AccountModule } from '../account/account.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';
import { AdminSeeder } from './admin.seeder.js';

@Module({
  imports: [AuthModule, AccountModule, UsersModule],
  controllers: [AdminController],
  providers: [AdminService, AdminSeeder],
})
export class AdminModule {}
