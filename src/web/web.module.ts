import { Module } from '@nestjs/common';
import { AccountModule } from '../account/account.module.js';
import { LoginModule } from '../login/login.module.js';
import { AccountPageController } from './account-page.controller.js';
import { EmailLinkPageController } from './email-link-page.controller.js';
import { FormOnceStore } from './form-once.store.js';
import { LoginPageController } from './login-page.controller.js';
import { PasswordResetPageController } from './password-reset-page.controller.js';

/** Every HTML page (login, account, password reset, the mailed links' pages), its assets, and the form-error policy. */
@Module({
  imports: [AccountModule, LoginModule],
  controllers: [
    LoginPageController,
    AccountPageController,
    EmailLinkPageController,
    PasswordResetPageController,
  ],
  providers: [FormOnceStore],
})
export class WebModule {}
