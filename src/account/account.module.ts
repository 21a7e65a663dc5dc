import { forwardRef, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { AccountPageController } from './account-page.controller.js';
import { BrowserSessionGuard } from './browser-session.guard.js';
import { FormOnceStore } from './form-once.store.js';
import { PersonalTokenStore } from './personal-token.store.js';
import { PersonalTokensController } from './personal-tokens.controller.js';
import { PersonalTokensService } from './personal-tokens.service.js';

/**
 * The account's own credentials: personal access tokens, and the account page. The auth
 * module's bearer strategy resolves personal tokens through this module, and creating one
 * re-checks the password through the auth service: hence the forward references.
 */
@Module({
  imports: [forwardRef(() => AuthModule)],
  controllers: [PersonalTokensController, AccountPageController],
  providers: [
    PersonalTokenStore,
    PersonalTokensService,
    BrowserSessionGuard,
    FormOnceStore,
  ],
  exports: [PersonalTokensService],
})
export class AccountModule {}
