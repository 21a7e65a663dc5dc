import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { AccountTokenStore } from './account-token.store.js';
import { PasswordHasher } from './password-hasher.js';
import { DrizzleUserRepository } from './drizzle-user.repository.js';
import { UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [EventsModule],
  providers: [
    AccountTokenStore,
    PasswordHasher,
    UsersService,
    { provide: UserRepository, useClass: DrizzleUserRepository },
  ],
  exports: [UsersService, AccountTokenStore],
})
export class UsersModule {}
