import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { EventsModule } from '../events/events.module.js';
import { UsersModule } from '../users/users.module.js';
import { LoginThrottle } from './login-throttle.js';
import { LoginController } from './login.controller.js';
import { LoginService } from './login.service.js';

/** Proving who you are: password login, registration, password change, the throttle. */
@Module({
  imports: [UsersModule, CredentialsModule, EventsModule],
  controllers: [LoginController],
  providers: [LoginService, LoginThrottle],
  exports: [LoginService],
})
export class LoginModule {}
