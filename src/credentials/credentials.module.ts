import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { AppConfig } from '../infra/config/app-config.js';
import { AccessTokenStore } from './access-token.store.js';
import { CredentialResolver } from './credential-resolver.js';
import { LoginStore } from './login.store.js';
import { LoginsService } from './logins.service.js';
import { PersonalTokenPurge } from './personal-token-purge.js';
import { PersonalTokenStore } from './personal-token.store.js';
import { PersonalTokensService } from './personal-tokens.service.js';
import { RefreshTokenStore } from './refresh-token.store.js';
import { SESSION_IDLE_SECONDS, SessionStore } from './session.store.js';

/**
 * Every credential the service issues, with no HTTP in it: sessions, login records, access
 * and refresh tokens, personal tokens, each a store that alone owns its keys or tables, and
 * the resolver from a cookie's session or a bearer value to a principal.
 */
@Module({
  imports: [EventsModule],
  providers: [
    SessionStore,
    {
      provide: SESSION_IDLE_SECONDS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => config.sessionIdleSeconds,
    },
    LoginStore,
    AccessTokenStore,
    RefreshTokenStore,
    PersonalTokenStore,
    LoginsService,
    PersonalTokensService,
    PersonalTokenPurge,
    CredentialResolver,
  ],
  exports: [
    SessionStore,
    LoginsService,
    PersonalTokensService,
    CredentialResolver,
  ],
})
export class CredentialsModule {}
