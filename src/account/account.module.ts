import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { EventsModule } from '../events/events.module.js';
import { LoginModule } from '../login/login.module.js';
import { AccountController } from './account.controller.js';
import { AccountService } from './account.service.js';
import { PersonalTokensController } from './personal-tokens.controller.js';

/** Self-service JSON routes: the caller's logins and personal access tokens. */
@Module({
  imports: [CredentialsModule, LoginModule, EventsModule],
  controllers: [AccountController, PersonalTokensController],
  providers: [AccountService],
  exports: [AccountService],
})
export class AccountModule {}
