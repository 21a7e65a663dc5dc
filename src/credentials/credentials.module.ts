import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config.js';
import { SESSION_IDLE_SECONDS, SessionStore } from './session.store.js';

/** The Redis session store, shared by the reader on every request and the writer at login. */
@Global()
@Module({
  providers: [
    SessionStore,
    {
      provide: SESSION_IDLE_SECONDS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => config.sessionIdleSeconds,
    },
  ],
  exports: [SessionStore],
})
export class SessionModule {}
