import { forwardRef, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { AccountPageController } from '../web/account-page.controller.js';
import { BrowserSessionGuard } from '../web/browser-session.guard.js';
import { FormOnceStore } from '../web/form-once.store.js';
import { PersonalTokenStore } from '../credentials/personal-token.store.js';
import { PersonalTokensController } from './personal-tokens.controller.js';
import { PersonalTokensService } from '../credentials/personal-tokens.service.js';

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
