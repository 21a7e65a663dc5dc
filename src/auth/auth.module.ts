import { forwardRef, Module } from '@nestjs/common';
import { AccountModule } from '../account/account.module.js';
import { UsersModule } from '../users/users.module.js';
import { LoginPageController } from '../views/login-page.controller.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { AuthGuard } from './auth.guard.js';
import { BearerGuard } from './bearer.guard.js';
import { BearerStrategy } from './bearer.strategy.js';
import { LoginStore } from './login.store.js';
import { LoginThrottle } from './login-throttle.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth.service.js';

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
