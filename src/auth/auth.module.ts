import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { AuthGuard } from './auth.guard.js';
import { BearerStrategy } from './bearer.strategy.js';

/** The request gate: the global guard and the bearer strategy it drives. */
@Module({
  imports: [CredentialsModule],
  providers: [BearerStrategy, AuthGuard],
  exports: [AuthGuard],
})
export class AuthModule {}
