import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { EventsModule } from '../events/events.module.js';
import { MailModule } from '../mail/mail.module.js';
import { UsersModule } from '../users/users.module.js';
import { EmailController } from './email.controller.js';
import { EmailService } from './email.service.js';
import { AccountNotices } from './account-notices.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordResetRequests } from './password-reset-requests.js';
import { PasswordResetThrottle } from './password-reset-throttle.js';
import { PasswordResetController } from './password-reset.controller.js';
import { PasswordResetService } from './password-reset.service.js';
import { LoginController } from './login.controller.js';
import { LoginService } from './login.service.js';

/**
 * Proving who you are: password login, registration, password change, the throttle, the
 * account's email address, and recovery (the password reset), with the notices they mail.
 */
@Module({
  imports: [UsersModule, CredentialsModule, EventsModule, MailModule],
  controllers: [LoginController, EmailController, PasswordResetController],
  providers: [
    LoginService,
    LoginThrottle,
    EmailService,
    AccountNotices,
    PasswordResetService,
    PasswordResetRequests,
    PasswordResetThrottle,
  ],
  exports: [LoginService, EmailService, PasswordResetService, AccountNotices],
})
export class LoginModule {}
