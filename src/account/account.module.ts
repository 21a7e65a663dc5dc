import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { AccountPageController } from './account-page.controller.js';
import { BrowserSessionGuard } from './browser-session.guard.js';

@Module({
  imports: [AuthModule],
  controllers: [AccountPageController],
  providers: [BrowserSessionGuard],
})
export class AccountModule {}
