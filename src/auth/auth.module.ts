import { forwardRef, Module } from '@nestjs/common';
import { AccountModule } from '../account/account.module.js';
import { UsersModule } from '../users/users.module.js';
import { LoginPageController } from '../web/login-page.controller.js';
import { AuthController } from '../login/login.controller.js';
import { AuthService } from '../login/login.service.js';
import { AuthGuard } from './auth.guard.js';
import { BearerGuard } from './bearer-attempt.js';
import { BearerStrategy } from './bearer.strategy.js';
import { LoginStore } from '../credentials/login.store.js';
import { LoginThrottle } from '../login/login-throttle.js';
import { OAuthController } from '../oauth/oauth.controller.js';
import { OAuthService } from '../oauth/oauth.service.js';

@Module({
  imports: [UsersModule, forwardRef(() => AccountModule)],
  controllers: [AuthController, OAuthController, LoginPageController],
  providers: [
    AuthService,
    OAuthService,
    LoginStore,
    LoginThrottle,
    BearerStrategy,
    BearerGuard,
    AuthGuard,
  ],
  exports: [AuthService, LoginStore, AuthGuard],
})
export class AuthModule {}
