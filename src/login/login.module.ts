import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { EventsModule } from '../events/events.module.js';
import { MailModule } from '../mail/mail.module.js';
import { UsersModule } from '../users/users.module.js';
import { EmailController } from './email.controller.js';
import { EmailService } from './email.service.js';
import { LoginThrottle } from './login-throttle.js';
import { LoginController } from './login.controller.js';
import { LoginService } from './login.service.js';

/** Proving who you are: password login, registration, password change, the throttle, the account's email address. */
@Module({
  imports: [UsersModule, CredentialsModule, EventsModule, MailModule],
  controllers: [LoginController, EmailController],
  providers: [LoginService, LoginThrottle, EmailService],
  exports: [LoginService, EmailService],
})
export class LoginModule {}
