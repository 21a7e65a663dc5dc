import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { EventsModule } from '../events/events.module.js';
import { LoginModule } from '../login/login.module.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth.service.js';

/** The OAuth2 surface: /auth/token (password and refresh grants), revoke, introspect, discovery. */
@Module({
  imports: [CredentialsModule, LoginModule, EventsModule],
  controllers: [OAuthController],
  providers: [OAuthService],
})
export class OAuthModule {}
